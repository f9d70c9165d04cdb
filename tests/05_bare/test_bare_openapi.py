"""bare_openapi: an OpenAPI 3.1 document from routes and annotations, checked by a validator."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from typing import Any, Literal, NotRequired, TypedDict

import pytest
from bare import Bare, HTMLResponse, Request
from bare_helpers import call, validate_openapi
from bare_openapi import add_openapi, describe, json_schema, openapi_document


@dataclasses.dataclass
class NewTask:
    """What a client sends to create a task."""

    title: str
    done: bool = False
    tags: list[str] = dataclasses.field(default_factory=list)


class Task(TypedDict):
    id: str
    title: str
    done: bool
    note: NotRequired[str | None]


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node]


# ── Types to schemas (exercise 5.12) ──────────────────────────────────────────


@pytest.mark.exercise("5.12")
@pytest.mark.parametrize(
    ("annotation", "schema"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (Any, {}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (tuple[str, ...], {"type": "array", "items": {"type": "string"}}),
        (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
        (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (Literal["a", "b"], {"enum": ["a", "b"]}),
        (Colour, {"enum": ["red", "blue"]}),
        (datetime.datetime, {"type": "string", "format": "date-time"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
    ],
)
def test_json_schema_of_plain_types(annotation: Any, schema: dict[str, Any]) -> None:
    assert json_schema(type(None) if annotation is None else annotation, {}) == schema


@pytest.mark.exercise("5.12")
def test_dataclass_becomes_a_named_schema() -> None:
    components: dict[str, Any] = {}
    assert json_schema(NewTask, components) == {"$ref": "#/components/schemas/NewTask"}
    assert components["NewTask"] == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "done": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title"],
        "description": "What a client sends to create a task.",
    }


@pytest.mark.exercise("5.12")
def test_typeddict_keys_without_a_default_are_required() -> None:
    components: dict[str, Any] = {}
    json_schema(list[Task], components)
    assert components["Task"]["required"] == ["done", "id", "title"]
    assert components["Task"]["properties"]["note"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }


@pytest.mark.exercise("5.12")
def test_a_type_that_refers_to_itself_ends() -> None:
    components: dict[str, Any] = {}
    json_schema(Node, components)
    assert components["Node"]["properties"]["children"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Node"},
    }


@pytest.mark.exercise("5.12")
def test_type_without_json_form_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        json_schema(complex, {})


# ── The document ──────────────────────────────────────────────────────────────


def make_app() -> Bare:
    app = Bare()

    @app.get("/tasks")
    async def list_tasks(request: Request) -> list[Task]:
        """List every task."""
        return []

    @app.post("/tasks")
    @describe(body=NewTask, status=201)
    async def create_task(request: Request) -> Task:
        """Create a task.

        The title must not be empty.
        """
        return {}

    @app.get("/tasks/{task_id}")
    async def get_task(request: Request) -> Task:
        return {}

    @app.get("/users/{id:int}/files/{name}.{ext:slug}")
    async def user_file(request: Request) -> dict[str, str]:
        return {}

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    add_openapi(app, title="Tasks", version="1.0")
    return app


def test_document_validates_as_openapi_3_1() -> None:
    # openapi-spec-validator, written by others, is the judge.
    document = openapi_document(make_app(), title="Tasks", version="1.0")
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)


def test_path_parameters_come_from_converters() -> None:
    paths = openapi_document(make_app(), title="T", version="1")["paths"]
    operation = paths["/users/{id}/files/{name}.{ext}"]["get"]
    assert [(p["name"], p["schema"]) for p in operation["parameters"]] == [
        ("id", {"type": "integer", "minimum": 0}),
        ("name", {"type": "string"}),
        ("ext", {"type": "string", "pattern": "^[a-zA-Z0-9-]+$"}),
    ]


def test_bodies_and_responses_come_from_annotations() -> None:
    document = openapi_document(make_app(), title="T", version="1")
    create = document["paths"]["/tasks"]["post"]
    assert create["summary"] == "Create a task."
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewTask"
    }
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Task"
    }
    listing = document["paths"]["/tasks"]["get"]["responses"]["200"]["content"]
    assert listing["application/json"]["schema"]["type"] == "array"
    assert document["paths"]["/"]["get"]["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    assert set(document["components"]["schemas"]) == {"NewTask", "Task"}


def test_document_is_served_at_openapi_json() -> None:
    response = call(make_app(), "GET", "/openapi.json")
    assert response.status_code == 200
    validate_openapi(response.json())
    assert "/openapi.json" in response.json()["paths"]

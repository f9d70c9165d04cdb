"""The example tasks API in process: every route, its errors, its module-level store."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from bare_helpers import call

JSON = {"content-type": "application/json"}


def create(example: Any, title: str) -> dict:
    response = call(example.app, "POST", "/tasks", json={"title": title})
    assert response.status_code == 201
    return response.json()


def test_task_ids_are_uuid_strings(example: Any) -> None:
    """A new task's id is a UUID in a str, and /tasks/{task_id} finds it as a str."""
    task = create(example, "write tests")
    assert str(uuid.UUID(task["id"])) == task["id"]
    assert call(example.app, "GET", f"/tasks/{task['id']}").json() == task


def test_list_filters_by_done(example: Any) -> None:
    """GET /tasks?done=true|false filters; without it every task is listed."""
    first, second = create(example, "one"), create(example, "two")
    call(example.app, "PATCH", f"/tasks/{first['id']}", json={"done": True})
    titles = {
        query: [task["title"] for task in call(example.app, "GET", f"/tasks{query}").json()]
        for query in ("", "?done=true", "?done=false")
    }
    assert titles == {"": ["one", "two"], "?done=true": ["one"], "?done=false": [second["title"]]}


def test_patch_updates_title_and_done(example: Any) -> None:
    """PATCH /tasks/{id} sets done and title."""
    task = create(example, "draft")
    response = call(
        example.app, "PATCH", f"/tasks/{task['id']}", json={"done": 1, "title": "final"}
    )
    assert response.json() == {**task, "done": True, "title": "final"}


def test_delete_returns_the_task_and_forgets_it(example: Any) -> None:
    """DELETE /tasks/{id} answers the removed task; a second GET is 404."""
    task = create(example, "temporary")
    assert call(example.app, "DELETE", f"/tasks/{task['id']}").json() == task
    assert call(example.app, "GET", f"/tasks/{task['id']}").status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_task_is_404(example: Any, method: str, sent: Any) -> None:
    """A task id that does not exist is 404 {"error": "not found"} for every method."""
    response = call(
        example.app, method, "/tasks/nonexistent", record=sent, content=b"{}", headers=JSON
    )
    assert (response.status_code, response.json()) == (404, {"error": "not found"})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"name": "no title"}', "title is required"),
        (b"5", "title is required"),
        (b'["title"]', "title is required"),
        (
            b"{bad",
            "request body is not valid JSON: "
            "Expecting property name enclosed in double quotes (line 1, column 2)",
        ),
    ],
)
def test_create_with_bad_body_is_400(example: Any, body: bytes, error: str, sent: Any) -> None:
    """POST /tasks without a JSON object holding a title is 400 with a message."""
    response = call(example.app, "POST", "/tasks", record=sent, content=body, headers=JSON)
    assert (response.status_code, response.json()) == (400, {"error": error})
    assert example.tasks == {}


def test_patch_with_non_object_is_400(example: Any) -> None:
    """PATCH with a JSON value that is not an object is 400, not a crash."""
    task = create(example, "x")
    response = call(example.app, "PATCH", f"/tasks/{task['id']}", content=b"true", headers=JSON)
    assert (response.status_code, response.json()) == (400, {"error": "expected a JSON object"})


def test_post_without_json_content_type_is_400(example: Any) -> None:
    """curl -d without -H "Content-Type: application/json" is told what to send."""
    response = call(example.app, "POST", "/tasks", data={"title": "form"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "expected Content-Type: application/json, got application/x-www-form-urlencoded"
    }

"""OpenAPI for bare: a 3.1 document built from the routes and the handlers' annotations.

    add_openapi(app, title="Tasks", version="1.0")    # serves GET /openapi.json

    @dataclass
    class NewTask:
        title: str
        done: bool = False

    @app.post("/tasks")
    @describe(body=NewTask, status=201)
    async def create_task(request) -> Task:
        "Create a task."

What each part of the document comes from:

- the path and its parameters: the route (``/tasks/{task_id}``; ``{id:int}``
  becomes ``/tasks/{id}`` with an integer schema, from its converter);
- the operation's summary and description: the handler's docstring;
- the response schema: the handler's return annotation (a dataclass, a
  TypedDict, ``list[...]``, ``dict[str, ...]``, ``X | None``, Literal, Enum,
  the JSON scalars); the request body schema: ``describe(body=...)``,
  because a bare handler takes only the request.

Dataclasses and TypedDicts become named schemas under
``components/schemas`` (JSON Schema 2020-12, which OpenAPI 3.1 uses:
OpenAPI 3.1 §4.8.24), referenced with ``$ref``. The document is built on the
first request and kept.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import types
import uuid
from collections.abc import Callable
from typing import (
    Any,
    Literal,
    NotRequired,
    Required,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from bare import (
    Bare,
    Endpoint,
    HTMLResponse,
    JSONResponse,
    Request,
    Response,
    RouteNode,
    compile_path,
)

__all__ = ["add_openapi", "describe", "json_schema", "openapi_document"]

Handler = TypeVar("Handler", bound=Callable[..., Any])

#: Each converter's values as JSON Schema.
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer", "minimum": 0},
    "slug": {"type": "string", "pattern": "^[a-zA-Z0-9-]+$"},
}

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    bytes: {"type": "string", "contentEncoding": "base64"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    uuid.UUID: {"type": "string", "format": "uuid"},
}


# ── Types to JSON Schema ──────────────────────────────────────────────────────


def _is_typeddict(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and issubclass(annotation, dict)
        and hasattr(annotation, "__required_keys__")
    )


def _typeddict_required(annotation: Any) -> list[str]:
    """Return a TypedDict's required keys, reading NotRequired / Required from the hints.

    ``__required_keys__`` misses them when annotations are strings (``from
    __future__ import annotations``) before Python 3.12, so they are read here.
    """
    required = []
    for key, hint in get_type_hints(annotation, include_extras=True).items():
        origin = get_origin(hint)
        if origin is Required or (origin is not NotRequired and annotation.__total__):
            required.append(key)
    return sorted(required)


def json_schema(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON Schema of a type; named types go into ``components`` once.

    ``list[int]`` -> ``{"type": "array", "items": {"type": "integer"}}``;
    a dataclass ``Task`` -> ``{"$ref": "#/components/schemas/Task"}`` with
    its object schema added to ``components``. TypeError for a type that
    has no JSON form (a function, a set of bytes...).
    """
    # EXERCISE 5.12: Turn a type annotation into JSON Schema
    if annotation is Any:
        return {}
    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {"enum": [member.value for member in annotation]}
    if (
        dataclasses.is_dataclass(annotation)
        and isinstance(annotation, type)
        or _is_typeddict(annotation)
    ):
        name = annotation.__name__
        if name not in components:
            components[name] = {}  # placeholder: a self-reference ends here
            hints = get_type_hints(annotation)
            if _is_typeddict(annotation):
                required = _typeddict_required(annotation)
            else:
                required = [
                    f.name
                    for f in dataclasses.fields(annotation)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                ]
            components[name] = {
                "type": "object",
                "properties": {key: json_schema(hint, components) for key, hint in hints.items()},
                "required": required,
            }
            if annotation.__doc__ and not annotation.__doc__.startswith(f"{name}("):
                components[name]["description"] = annotation.__doc__.strip()
        return {"$ref": f"#/components/schemas/{name}"}
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin in (list, set, frozenset) or (
        origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis
    ):
        item = arguments[0] if arguments else Any
        schema: dict[str, Any] = {"type": "array", "items": json_schema(item, components)}
        if origin in (set, frozenset):
            schema["uniqueItems"] = True
        return schema
    if origin is dict:
        value = arguments[1] if arguments else Any
        return {"type": "object", "additionalProperties": json_schema(value, components)}
    if origin in (Union, types.UnionType):
        return {"anyOf": [json_schema(argument, components) for argument in arguments]}
    if origin is Literal:
        return {"enum": list(arguments)}
    if annotation in (list, dict):
        return {"type": "array"} if annotation is list else {"type": "object"}
    raise TypeError(f"no JSON Schema for {annotation!r}")
    # END EXERCISE


# ── Handlers to operations ────────────────────────────────────────────────────


def describe(
    *,
    body: Any = None,
    status: int = 200,
    summary: str | None = None,
    tags: list[str] | None = None,
) -> Callable[[Handler], Handler]:
    """Note what the OpenAPI document should say of a handler, beyond its annotations.

    ``body``: the type of the JSON request body; ``status``: the success
    status (201 for a create). The handler itself is returned unchanged, so
    the order of this decorator and the route's does not matter.
    """

    def decorator(handler: Handler) -> Handler:
        # A function's attributes are open to any name; mypy knows only its own.
        handler.__openapi__ = {  # type: ignore[attr-defined]
            "body": body,
            "status": status,
            "summary": summary,
            "tags": tags,
        }
        return handler

    return decorator


def endpoints(app: Bare) -> list[Endpoint]:
    """Return every HTTP endpoint of ``app``: the static dict's, then the trie's, by path."""
    found: list[Endpoint] = []

    def walk(node: RouteNode) -> None:
        found.extend(node.endpoints.values())
        for child in node.literal.values():
            walk(child)
        for _, child in node.dynamic:
            walk(child)

    for node in app.router.static.values():
        found.extend(node.endpoints.values())
    walk(app.router.root)
    return sorted(found, key=lambda endpoint: (endpoint.path, endpoint.method))


def openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the OpenAPI path template and its parameters: ``"/u/{id:int}"`` -> ``"/u/{id}"``."""
    parameters, texts = [], []
    for segment in compile_path(path):
        text = segment.text
        for name, converter in segment.parameters:
            text = text.replace(f"{{{name}:{converter.name}}}", f"{{{name}}}")
            parameters.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": dict(CONVERTER_SCHEMAS.get(converter.name, {"type": "string"})),
                }
            )
        texts.append(text)
    return "/" + "/".join(texts), parameters


#: Marks a handler without a return annotation.
inspect_empty = object()


def _response_content(annotation: Any, components: dict[str, Any]) -> dict[str, Any] | None:
    """Return the ``content`` of a success response from the return annotation."""
    if annotation is None or annotation is type(None) or annotation is inspect_empty:
        return None
    if isinstance(annotation, type) and issubclass(annotation, Response):
        if issubclass(annotation, HTMLResponse):
            return {"text/html": {"schema": {"type": "string"}}}
        if issubclass(annotation, JSONResponse):
            return {"application/json": {"schema": {}}}
        return None
    return {"application/json": {"schema": json_schema(annotation, components)}}


def operation(
    endpoint: Endpoint,
    components: dict[str, Any],
    parameters: list[dict[str, Any]],
    operation_id: str,
) -> dict[str, Any]:
    """Return the OpenAPI Operation object of one endpoint."""
    handler = endpoint.handler
    notes = getattr(handler, "__openapi__", {})
    hints = get_type_hints(handler)
    doc = (handler.__doc__ or "").strip()
    summary = notes.get("summary") or (doc.splitlines()[0] if doc else handler.__name__)
    result: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if doc and "\n" in doc:
        result["description"] = doc
    if notes.get("tags"):
        result["tags"] = notes["tags"]
    if parameters:
        result["parameters"] = parameters
    if notes.get("body") is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": json_schema(notes["body"], components)}},
        }
    success: dict[str, Any] = {"description": "success"}
    content = _response_content(hints.get("return", inspect_empty), components)
    if content:
        success["content"] = content
    error = {
        "description": "error",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                }
            }
        },
    }
    result["responses"] = {str(notes.get("status", 200)): success, "4XX": error}
    return result


def openapi_document(
    app: Bare, *, title: str, version: str, description: str | None = None
) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of ``app``'s HTTP routes, as a dict ready for JSON."""
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    for endpoint in endpoints(app):
        template, parameters = openapi_path(endpoint.path)
        operation_id = endpoint.handler.__name__
        if operation_id in used_ids:
            operation_id = f"{operation_id}_{endpoint.method.lower()}"
        used_ids.add(operation_id)
        paths.setdefault(template, {})[endpoint.method.lower()] = operation(
            endpoint, components, parameters, operation_id
        )
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": paths}
    if components:
        document["components"] = {"schemas": components}
    return document


def add_openapi(
    app: Bare,
    *,
    title: str,
    version: str = "0.1.0",
    path: str = "/openapi.json",
    description: str | None = None,
) -> None:
    """Serve ``app``'s OpenAPI document at ``path`` (GET), built on the first request."""
    cached: dict[str, Any] = {}

    async def openapi_json(request: Request) -> JSONResponse:
        """The OpenAPI document of this API."""
        if "document" not in cached:
            cached["document"] = openapi_document(
                app, title=title, version=version, description=description
            )
        return JSONResponse(cached["document"])

    app.get(path)(openapi_json)

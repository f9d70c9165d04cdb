"""Stage 05's tasks API on Starlette: ``Starlette``, ``Route``, ``Request``, ``JSONResponse``.

``bare`` is modelled on Starlette, so the pieces line up: ``Starlette``
wraps its router in ``ServerErrorMiddleware`` (outermost) and
``ExceptionMiddleware``, the ``Router`` tries each ``Route`` in turn, a
``Request`` reads the body on ``await request.json()``. The handlers
mirror ``example_app``'s, and the chapter's ``LoggingMiddleware`` (a plain
ASGI middleware, so it runs on Starlette unchanged) sits in the same place.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from bare_logging import LoggingMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

tasks: dict[str, dict[str, Any]] = {}


async def list_tasks(request: Request) -> JSONResponse:
    """Return every task."""
    return JSONResponse(list(tasks.values()))


async def create_task(request: Request) -> JSONResponse:
    """Create a task from ``{"title": ...}``: 201, or 400 for a body without one."""
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JSONResponse({"error": "invalid JSON"}, 400)
    if not isinstance(data, dict) or "title" not in data:
        return JSONResponse({"error": "title is required"}, 400)
    task = {"id": str(uuid.uuid4()), "title": data["title"], "done": False}
    tasks[task["id"]] = task
    return JSONResponse(task, 201)


app = Starlette(
    routes=[
        Route("/tasks", list_tasks, methods=["GET"]),
        Route("/tasks", create_task, methods=["POST"]),
    ],
    middleware=[Middleware(LoggingMiddleware)],
)

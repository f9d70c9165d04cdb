"""Stage 05's tasks API on Starlette: ``Starlette``, ``Route``, ``Request``, ``JSONResponse``.

``bare`` is modelled on Starlette, so the pieces line up: ``Starlette``
wraps its router in ``ServerErrorMiddleware`` (outermost) and
``ExceptionMiddleware``, the ``Router`` tries each ``Route`` in turn, a
``Request`` reads the body on ``await request.json()``. The handlers
mirror ``example_app``'s, with its logging middleware in the same place.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

tasks: dict[str, dict[str, Any]] = {}


class LoggingMiddleware:
    """bare_logging's middleware, as a plain ASGI middleware: one stderr line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status: list[int | None] = [None]

        async def capturing_send(event: Message) -> None:
            if event["type"] == "http.response.start":
                status[0] = event["status"]
            await send(event)

        await self.app(scope, receive, capturing_send)
        elapsed = (time.monotonic() - started) * 1000
        print(f"{scope['method']} {scope['path']} → {status[0]} ({elapsed:.1f}ms)", file=sys.stderr)


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
    routes=[Route("/tasks", list_tasks, methods=["GET"]), Route("/tasks", create_task, methods=["POST"])],
    middleware=[Middleware(LoggingMiddleware)],
)

"""Middleware: the stack is built once, the first added is outermost; the chapter's logger."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from bare import ASGIApp, Bare, Receive, Request, Scope, Send
from bare_helpers import call, run_websocket
from bare_logging import LoggingMiddleware


class Recorder:
    """A middleware that notes when a call passes in and out of it."""

    built = 0

    def __init__(self, app: ASGIApp, name: str, log: list[str]) -> None:
        Recorder.built += 1
        self.app, self.name, self.log = app, name, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.log.append(f"{self.name} in ({scope['type']})")
        await self.app(scope, receive, send)
        self.log.append(f"{self.name} out")


def app_logging_into(log: list[str]) -> Bare:
    app = Bare()

    @app.get("/")
    async def index(request: Request) -> dict:
        log.append("handler")
        return {"ok": True}

    @app.websocket("/ws")
    async def socket(ws: Any) -> None:
        async with ws:
            log.append("websocket handler")

    app.add_middleware(Recorder, name="first", log=log)
    app.add_middleware(Recorder, name="second", log=log)
    return app


def test_first_added_middleware_is_outermost() -> None:
    """add_middleware(A); add_middleware(B) runs A, then B, then the handler, and back."""
    log: list[str] = []
    assert call(app_logging_into(log), "GET", "/").json() == {"ok": True}
    assert log == ["first in (http)", "second in (http)", "handler", "second out", "first out"]


def test_middleware_sees_websocket_connections_too() -> None:
    """WebSocket connections pass through the same stack."""
    log: list[str] = []
    run_websocket(app_logging_into(log), "/ws", [])
    assert log == [
        "first in (websocket)",
        "second in (websocket)",
        "websocket handler",
        "second out",
        "first out",
    ]


def test_stack_is_built_once_not_per_request() -> None:
    """The middleware objects are made on the first call and reused after."""
    log: list[str] = []
    app = app_logging_into(log)
    Recorder.built = 0
    for _ in range(3):
        call(app, "GET", "/")
    assert Recorder.built == 2


def test_middleware_added_later_is_included_on_the_next_call() -> None:
    """add_middleware after a first request rebuilds the stack with the newcomer."""
    log: list[str] = []
    app = app_logging_into(log)
    call(app, "GET", "/")
    app.add_middleware(Recorder, name="third", log=log)
    log.clear()
    call(app, "GET", "/")
    assert log[:3] == ["first in (http)", "second in (http)", "third in (http)"]


def test_middleware_that_is_not_callable_is_a_type_error() -> None:
    """add_middleware of something that cannot wrap an app is refused."""
    with pytest.raises(TypeError, match="middleware"):
        Bare().add_middleware("LoggingMiddleware")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/tasks", 200),
        ("POST", "/tasks", 400),
        ("GET", "/tasks/nope", 404),
        ("PUT", "/", 405),
    ],
)
def test_chapter_logging_middleware_prints_one_line_per_request(
    example: Any, capsys: pytest.CaptureFixture[str], method: str, path: str, status: int
) -> None:
    """The chapter's LoggingMiddleware, on the example app, prints method, path, status, time."""
    call(example.app, method, path, json={} if method == "POST" else None)
    line = capsys.readouterr().err.strip()
    assert re.fullmatch(rf"{method} {re.escape(path)} → {status} \(\d+\.\dms\)", line), line


def test_chapter_logging_middleware_passes_other_scopes_through(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """LoggingMiddleware wraps any app and lets lifespan and WebSocket pass unlogged."""
    app = Bare()
    app.add_middleware(LoggingMiddleware)
    assert run_websocket(app, "/nowhere", [])[-1]["code"] == 4004
    assert capsys.readouterr().err == ""


def test_bad_max_body_size_is_a_value_error() -> None:
    """A negative or non-integer body limit is refused at construction."""
    with pytest.raises(ValueError, match="max_body_size"):
        Bare(max_body_size=-1)


def test_unknown_scope_type_is_an_error() -> None:
    """A scope type bare does not speak is refused, as the ASGI spec asks."""

    async def nothing() -> dict:
        return {}

    async def ignore(message: dict) -> None:
        return None

    with pytest.raises(ValueError, match="scope type 'smtp'"):
        asyncio.run(Bare()({"type": "smtp"}, nothing, ignore))

"""Middleware that wraps receive and send: access log, 500 on errors, 413 on big bodies."""

from __future__ import annotations

import asyncio
import logging

import pytest
from rawasgi.apps import echo, hello
from rawasgi.example import build_app
from rawasgi.middleware import AccessLog, BodyLimit, ServerErrors
from rawasgi.protocol import Receive, Scope, Send
from stage04_helpers import call, http_scope


async def fail_early(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("no response at all")


async def fail_late(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise RuntimeError("half a response")


def test_access_log_logs_one_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    """AccessLog logs client, request line, status and body size, learned by wrapping send."""
    caplog.set_level(logging.INFO, logger="rawasgi.access")
    call(AccessLog(hello), http_scope("GET", "/", query=b"x=1"))
    (record,) = [r for r in caplog.records if r.name == "rawasgi.access"]
    assert record.getMessage().startswith('127.0.0.1:50000 - "GET /?x=1 HTTP/1.1" 200 13 ')


def test_access_log_logs_a_failed_request_too(caplog: pytest.LogCaptureFixture) -> None:
    """A request whose app raised is still logged, with status "-"."""
    caplog.set_level(logging.INFO, logger="rawasgi.access")

    async def receive() -> dict:
        return {"type": "http.request"}

    async def send(message: dict) -> None:
        raise AssertionError(f"nothing should be sent, got {message}")

    with pytest.raises(RuntimeError):
        asyncio.run(AccessLog(fail_early)(http_scope(), receive, send))
    assert '"GET / HTTP/1.1" - 0 ' in caplog.text


def test_server_errors_turns_an_exception_into_500(caplog: pytest.LogCaptureFixture) -> None:
    """An exception before the response is a plain 500, and its traceback is logged."""
    response = call(ServerErrors(fail_early), http_scope())
    assert (response.status, response.body) == (500, b"Internal Server Error\n")
    assert "RuntimeError: no response at all" in caplog.text


def test_server_errors_shows_the_traceback_in_debug_mode() -> None:
    """With debug=True, the 500's body is the traceback."""
    response = call(ServerErrors(fail_early, debug=True), http_scope())
    assert b"RuntimeError: no response at all" in response.body


def test_server_errors_reraises_after_the_response_started() -> None:
    """Once the start event went out, a 500 is impossible: the exception goes on to the server."""
    with pytest.raises(RuntimeError, match="half a response"):
        call(ServerErrors(fail_late), http_scope())


def test_body_limit_refuses_a_declared_length_before_the_app_runs() -> None:
    """A Content-Length over the limit is answered 413 without calling the app."""
    scope = http_scope("POST", "/", headers=[(b"content-length", b"11")])
    assert call(BodyLimit(fail_early, max_bytes=10), scope).status == 413


def test_body_limit_stops_a_streamed_body_by_wrapping_receive() -> None:
    """A chunked body that grows past the limit is cut off with 413 by the counting receive."""
    events = [
        {"type": "http.request", "body": b"x" * 6, "more_body": True},
        {"type": "http.request", "body": b"x" * 6, "more_body": False},
    ]
    response = call(BodyLimit(echo, max_bytes=10), http_scope("POST", "/"), events)
    assert response.status == 413


def test_body_limit_lets_a_body_within_the_limit_through() -> None:
    """A body at the limit reaches the app untouched."""
    events = [{"type": "http.request", "body": b"x" * 10}]
    assert call(BodyLimit(echo, max_bytes=10), http_scope("POST", "/"), events).body == b"x" * 10


def test_body_limit_refuses_a_negative_limit() -> None:
    """A negative max_bytes is a configuration error: ValueError."""
    with pytest.raises(ValueError):
        BodyLimit(echo, max_bytes=-1)


def test_middleware_passes_websockets_and_lifespan_through() -> None:
    """Every middleware hands non-HTTP scopes to the app untouched."""
    seen = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    wrapped = AccessLog(ServerErrors(BodyLimit(app, max_bytes=1)))
    for kind in ("websocket", "lifespan"):
        asyncio.run(wrapped({"type": kind}, None, None))  # type: ignore[arg-type]
    assert seen == ["websocket", "lifespan"]


def test_example_app_routes_through_the_onion(caplog: pytest.LogCaptureFixture) -> None:
    """The example: router inside BodyLimit, ServerErrors and AccessLog, every layer at work."""
    caplog.set_level(logging.INFO)
    app = build_app(max_body=5)
    assert call(app, http_scope("GET", "/add/2/40")).body == b'{"a": 2, "b": 40, "sum": 42}'
    assert call(app, http_scope("GET", "/boom")).status == 500
    assert (
        call(app, http_scope("POST", "/echo"), [{"type": "http.request", "body": b"123456"}]).status
        == 413
    )
    assert call(app, http_scope("DELETE", "/hello/ada")).header(b"allow") == b"GET, HEAD, OPTIONS"
    assert '"GET /boom HTTP/1.1" 500' in caplog.text

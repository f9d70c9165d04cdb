"""Each flaw of the chapter's bare.py, shown on a verbatim copy and fixed in the stage.

Every test runs twice: on ``chapter_bare.py`` (the chapter's code, marked
xfail-strict: the test must fail there, by a failed check) and on the
stage's ``bare``. The README's "What the chapter's code gets wrong" names
the test that pins each flaw.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
import textwrap
from types import ModuleType
from typing import Any

import bare
import pytest
from bare_helpers import call, run_websocket
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from workbook.stages import subprocess_env
from workbook.testing import free_port, python_command, serving

# The chapter fails these by a failed check, never by some unrelated crash.
CHAPTER_FAILS = (AssertionError, pytest.fail.Exception)


@pytest.fixture(
    params=[
        pytest.param(
            "chapter",
            marks=pytest.mark.xfail(
                strict=True, raises=CHAPTER_FAILS, reason="the chapter's bare.py has this flaw"
            ),
        ),
        "stage",
    ]
)
def framework(request: pytest.FixtureRequest, chapter_bare: ModuleType) -> ModuleType:
    """The chapter's bare module, then the stage's: same API, one has the flaw."""
    return chapter_bare if request.param == "chapter" else bare


def one_route(
    framework: ModuleType, path: str, handler: Any, methods: list[str] | None = None
) -> Any:
    app = framework.Bare()
    app.route(path, methods)(handler)
    return app


# ── Headers ───────────────────────────────────────────────────────────────────


def test_second_set_cookie_is_not_lost(framework: ModuleType, sent: Any) -> None:
    """Response("x").set_cookie("a", "1").set_cookie("b", "2") sends both cookies."""

    async def handler(request: Any) -> Any:
        return framework.Response("x").set_cookie("a", "1").set_cookie("b", "2")

    response = call(one_route(framework, "/", handler), "GET", "/", record=sent)
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_repeated_request_header_keeps_every_value(framework: ModuleType, sent: Any) -> None:
    """Two X-Tag request headers reach the handler as "a, b", not just the last."""

    async def handler(request: Any) -> Any:
        return framework.JSONResponse({"tag": request.header("x-tag")})

    response = call(
        one_route(framework, "/", handler),
        "GET",
        "/",
        record=sent,
        headers=[("x-tag", "a"), ("x-tag", "b")],
    )
    assert response.json() == {"tag": "a, b"}


def test_request_headers_are_built_once(framework: ModuleType) -> None:
    """request.headers is built once per request, not on every access."""

    async def handler(request: Any) -> Any:
        return framework.JSONResponse({"same": request.headers is request.headers})

    assert call(one_route(framework, "/", handler), "GET", "/").json() == {"same": True}


def test_cr_lf_in_a_header_value_is_refused_at_construction(framework: ModuleType) -> None:
    """Response("x", headers={"X-Evil": "a\\r\\nSet-Cookie: pwned=1"}) raises ValueError."""
    with pytest.raises(ValueError):
        framework.Response("x", headers={"X-Evil": "a\r\nSet-Cookie: pwned=1"})


# ── Request bodies ────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{bad", "application/json"),
        (b'{"title": "\xff"}', "application/json"),
        (b'{"title": "sent as text"}', "text/plain"),
    ],
    ids=["invalid-json", "not-utf8", "wrong-content-type"],
)
def test_bad_json_request_is_400(
    framework: ModuleType, body: bytes, content_type: str, sent: Any
) -> None:
    """Invalid JSON, a non-UTF-8 body or a non-JSON Content-Type is 400, not 500 or 200."""

    async def handler(request: Any) -> Any:
        return framework.JSONResponse(await request.json(), 201)

    response = call(
        one_route(framework, "/tasks", handler, ["POST"]),
        "POST",
        "/tasks",
        record=sent,
        content=body,
        headers={"content-type": content_type},
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith(
        ("request body is not valid", "expected Content-Type")
    )


def test_body_past_the_limit_is_413(framework: ModuleType, sent: Any) -> None:
    """A body over the default 1 MiB limit is refused with 413."""

    async def handler(request: Any) -> Any:
        return framework.JSONResponse({"size": len(await request.body())})

    response = call(
        one_route(framework, "/upload", handler, ["POST"]),
        "POST",
        "/upload",
        record=sent,
        content=b"x" * (1024 * 1024 + 1),
    )
    assert response.status_code == 413


# ── Errors ────────────────────────────────────────────────────────────────────


def test_handler_crash_is_generic_and_logged(
    framework: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    """RuntimeError("db password is hunter2") gives a generic 500 and a logged traceback."""

    async def handler(request: Any) -> Any:
        raise RuntimeError("db password is hunter2")

    with caplog.at_level(logging.ERROR):
        response = call(one_route(framework, "/", handler), "GET", "/")
    assert response.status_code == 500
    assert "hunter2" not in response.text
    assert [record.exc_info is not None for record in caplog.records] == [True]


# ── Routing ───────────────────────────────────────────────────────────────────


def test_int_parameter_arrives_as_int(framework: ModuleType) -> None:
    """{id:int} delivers 42, not "42"."""

    async def handler(request: Any) -> Any:
        return framework.JSONResponse({"id": request.path_params["id"]})

    assert call(one_route(framework, "/users/{id:int}", handler), "GET", "/users/42").json() == {
        "id": 42
    }


def test_head_is_served_by_the_get_route(framework: ModuleType, sent: Any) -> None:
    """HEAD on a GET route is 200 with no body, not 405."""

    async def handler(request: Any) -> Any:
        return framework.JSONResponse({"hello": "world"})

    response = call(one_route(framework, "/", handler), "HEAD", "/", record=sent)
    assert (response.status_code, response.content) == (200, b"")


def test_options_is_answered_with_allow(framework: ModuleType, sent: Any) -> None:
    """OPTIONS on a known path is 204 with Allow, not 405."""

    async def handler(request: Any) -> Any:
        return None

    response = call(
        one_route(framework, "/tasks", handler, ["GET", "POST"]), "OPTIONS", "/tasks", record=sent
    )
    assert (response.status_code, response.headers.get("allow")) == (
        204,
        "GET, HEAD, OPTIONS, POST",
    )


def test_lookup_does_not_scan_every_route(
    framework: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Among 1,000 routes, a request tries at most one pattern, not all 1,000."""

    async def handler(request: Any) -> Any:
        return framework.JSONResponse({"ok": True})

    app = framework.Bare()
    for number in range(1000):
        app.get(f"/items{number}/{{id:int}}")(handler)
    tried: list[str] = []
    if framework is bare:
        original = bare.Segment.match
        monkeypatch.setattr(
            bare.Segment,
            "match",
            lambda segment, part: tried.append(part) or original(segment, part),
        )
    else:

        class CountingPattern:  # stands in for each route's compiled regex
            def __init__(self, pattern: re.Pattern[str]) -> None:
                self.pattern = pattern

            def match(self, path: str) -> re.Match[str] | None:
                tried.append(path)
                return self.pattern.match(path)

        for route in app._http_routes:
            route.pattern = CountingPattern(route.pattern)
    assert call(app, "GET", "/items999/5").json() == {"ok": True}
    assert len(tried) <= 1, f"{len(tried)} patterns tried for one request"


# ── WebSocket ─────────────────────────────────────────────────────────────────

ACCEPT_UNDER_O = textwrap.dedent("""
    import asyncio, importlib.util, sys

    spec = importlib.util.spec_from_file_location(sys.argv[2], sys.argv[1])
    module = sys.modules[sys.argv[2]] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sent = []

    async def receive():
        return {"type": "websocket.disconnect", "code": 1006}

    async def send(message):
        sent.append(message["type"])

    async def main():
        try:
            await module.WebSocket({"type": "websocket", "path": "/ws"}, receive, send).accept()
        except Exception as error:
            print("refused:", type(error).__name__)
        print("sent:", sent)

    asyncio.run(main())
""")


def test_accept_checks_the_first_event_even_under_python_O(framework: ModuleType) -> None:
    """Under python -O, accept() after a disconnect refuses instead of accepting."""
    path = framework.__file__
    result = subprocess.run(
        python_command("-O", "-c", ACCEPT_UNDER_O, path, "bare_under_O"),
        capture_output=True,
        text=True,
        timeout=30,
        env=subprocess_env("05_bare"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "sent: []", result.stdout


def test_handler_error_after_accept_closes_1011_once_and_logs(
    framework: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    """A WebSocket handler that raises inside `async with ws` is closed once, 1011, and logged."""
    app = framework.Bare()

    @app.websocket("/ws")
    async def chat(ws: Any) -> None:
        async with ws:
            await ws.receive_text()
            raise RuntimeError("handler broke")

    with caplog.at_level(logging.ERROR):
        sent = run_websocket(app, "/ws", [{"type": "websocket.receive", "text": "hi"}])
    assert [message.get("code") for message in sent if message["type"] == "websocket.close"] == [
        1011
    ]
    assert [record.exc_info is not None for record in caplog.records] == [True]


SERVE_ECHO = textwrap.dedent("""
    import importlib.util, sys
    import uvicorn

    spec = importlib.util.spec_from_file_location(sys.argv[2], sys.argv[1])
    module = sys.modules[sys.argv[2]] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.Bare()

    @app.websocket("/ws")
    async def chat(ws):  # the chapter's echo handler
        async with ws:
            await ws.send_text("Welcome! Type messages to see them echoed.")
            while True:
                message = await ws.receive_text()
                if message is None:
                    break
                await ws.send_json({"type": "echo", "original": message, "upper": message.upper()})

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]))
""")


def serve_echo(framework: ModuleType, port: int) -> Any:
    """Serve the chapter's echo handler on ``framework`` under uvicorn."""
    argv = python_command("-c", SERVE_ECHO, framework.__file__, "bare_echo_server", str(port))
    return serving("05_bare", argv, port)


def test_unknown_websocket_route_reaches_the_client_as_close_4004(
    framework: ModuleType, sent: Any
) -> None:
    """Under uvicorn, a client of an unknown WebSocket path sees close code 4004."""
    port = free_port()
    with serve_echo(framework, port):
        sent("GET", f"ws://127.0.0.1:{port}/nowhere")
        try:
            with connect(f"ws://127.0.0.1:{port}/nowhere", open_timeout=5) as websocket:
                with pytest.raises(ConnectionClosed) as closed:
                    websocket.recv(timeout=5)
        except InvalidStatus as refused:
            pytest.fail(
                f"the handshake was refused with HTTP {refused.response.status_code}: "
                "a close before accept never reaches the client as a close code"
            )
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4004


def test_nothing_is_sent_after_the_client_disconnects(framework: ModuleType) -> None:
    """Once the echo client has gone, the app sends nothing more (no close to nobody).

    ASGI servers may raise on a send to a closed connection (uvicorn's
    ``--ws websockets`` does, and logs the traceback); the chapter's echo
    closes after the disconnect, and on that error sends a second close.
    """
    app = framework.Bare()

    @app.websocket("/ws")
    async def chat(ws: Any) -> None:  # the chapter's echo handler
        async with ws:
            await ws.send_text("Welcome! Type messages to see them echoed.")
            while True:
                message = await ws.receive_text()
                if message is None:
                    break
                await ws.send_json({"type": "echo", "original": message, "upper": message.upper()})

    log: list[str] = []

    async def receive() -> dict[str, Any]:
        event = (
            {"type": "websocket.connect"}
            if not log
            else {"type": "websocket.disconnect", "code": 1000}
        )
        log.append(f"received {event['type']}")
        return event

    async def send(message: dict[str, Any]) -> None:
        log.append(f"sent {message['type']}")

    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    asyncio.run(app(scope, receive, send))
    assert log == [
        "received websocket.connect",
        "sent websocket.accept",
        "sent websocket.send",
        "received websocket.disconnect",
    ]


# ── Running ───────────────────────────────────────────────────────────────────


def test_chapter_run_with_reload_exits_before_serving(
    chapter_bare: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chapter's app.run(reload=True) gives uvicorn an app object: uvicorn exits."""
    port = free_port()
    monkeypatch.setattr(sys, "argv", ["example_app.py"])
    with pytest.raises(SystemExit) as exited:
        chapter_bare.Bare().run(port=port, reload=True, log_level="critical")
    assert exited.value.code not in (0, None)

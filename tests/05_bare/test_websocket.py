"""WebSocket: dispatch by path, accept and close, failures contained, in process.

The same connections over real servers are in test_servers.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from bare import Bare, ClientDisconnected, WebSocket, WebSocketState
from bare_helpers import Channels, run_websocket


def text(message: str) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": message}


def kinds(sent: list[dict[str, Any]]) -> list[Any]:
    """Summarize sent events: "accept", ("text", ...), ("close", code)."""
    summary: list[Any] = []
    for message in sent:
        kind = message["type"].removeprefix("websocket.")
        if kind == "send":
            summary.append(
                ("text", message["text"])
                if message.get("text") is not None
                else ("bytes", message["bytes"])
            )
        elif kind == "close":
            summary.append(("close", message.get("code", 1000)))
        else:
            summary.append(kind)
    return summary


# ── Dispatch (exercise 5.5) ───────────────────────────────────────────────────


@pytest.mark.exercise("5.5")
def test_example_echo_welcomes_and_echoes_then_stops_on_disconnect(example: Any) -> None:
    """The chapter's echo: a welcome, one JSON echo per message, nothing after the client leaves."""
    sent = run_websocket(example.app, "/ws", [text("hello"), text("bare")])
    assert kinds(sent)[:2] == ["accept", ("text", "Welcome! Type messages to see them echoed.")]
    assert [json.loads(message["text"]) for message in sent[2:]] == [
        {"type": "echo", "original": "hello", "upper": "HELLO"},
        {"type": "echo", "original": "bare", "upper": "BARE"},
    ]


@pytest.mark.exercise("5.5")
def test_unknown_path_is_accepted_then_closed_with_4004() -> None:
    """A WebSocket to a path without a route is closed with 4004 (after accept, so it arrives)."""
    assert kinds(run_websocket(Bare(), "/nowhere", [])) == ["accept", ("close", 4004)]


@pytest.mark.exercise("5.5")
def test_handler_error_after_accept_is_1011_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A handler that raises after accept is closed with 1011 and its traceback logged."""
    app = Bare()

    @app.websocket("/ws")
    async def broken(ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("handler broke")

    with caplog.at_level(logging.ERROR, logger="bare"):
        assert kinds(run_websocket(app, "/ws", [])) == ["accept", ("close", 1011)]
    [record] = caplog.records
    assert "/ws" in record.getMessage() and record.exc_info is not None


@pytest.mark.exercise("5.5")
def test_handler_error_before_accept_rejects_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A handler that raises before accept gets the handshake rejected (a close), logged."""
    app = Bare()

    @app.websocket("/ws")
    async def broken(ws: WebSocket) -> None:
        raise RuntimeError("no accept")

    assert kinds(run_websocket(app, "/ws", [])) == [("close", 1011)]
    assert len(caplog.records) == 1


@pytest.mark.exercise("5.5")
def test_handler_that_returns_open_is_closed_normally() -> None:
    """A handler that returns without closing gets a normal close (1000)."""
    app = Bare()

    @app.websocket("/ws")
    async def once(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("bye")

    assert kinds(run_websocket(app, "/ws", [])) == ["accept", ("text", "bye"), ("close", 1000)]


@pytest.mark.exercise("5.5")
def test_websocket_path_params_arrive_typed() -> None:
    """{room:int} on a WebSocket route is an int in ws.path_params."""
    app = Bare()

    @app.websocket("/rooms/{room:int}")
    async def room(ws: WebSocket) -> None:
        async with ws:
            await ws.send_json(ws.path_params)

    assert kinds(run_websocket(app, "/rooms/7", [])) == [
        "accept",
        ("text", '{"room": 7}'),
        ("close", 1000),
    ]


@pytest.mark.exercise("5.5")
def test_client_leaving_mid_send_ends_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """A send to a client that has gone ends the handler without a 1011 or a log."""
    app = Bare()

    @app.websocket("/ws")
    async def chatty(ws: WebSocket) -> None:
        async with ws:
            await ws.receive_text()  # the client has gone: None
            await ws.send_text("anyone?")  # ClientDisconnected

    assert kinds(run_websocket(app, "/ws", [])) == ["accept"]
    assert caplog.records == []


# ── The WebSocket object ──────────────────────────────────────────────────────


def websocket_with(*events: dict[str, Any]) -> tuple[WebSocket, Channels]:
    channels = Channels(list(events), after={"type": "websocket.disconnect", "code": 1001})
    return WebSocket(
        {"type": "websocket", "path": "/ws"}, channels.receive, channels.send
    ), channels


@pytest.mark.parametrize(
    "first", [{"type": "websocket.receive", "text": "early"}, {"type": "http.request"}]
)
def test_accept_refuses_a_first_event_that_is_not_connect(first: dict[str, Any]) -> None:
    """accept() raises RuntimeError (a real check, not assert) on a wrong first event."""
    websocket, channels = websocket_with(first)
    with pytest.raises(RuntimeError, match="expected websocket.connect"):
        asyncio.run(websocket.accept())
    assert channels.sent == []


def test_accept_after_a_disconnect_is_client_disconnected() -> None:
    """accept() on a client that already left raises ClientDisconnected, sends nothing."""
    websocket, channels = websocket_with()
    with pytest.raises(ClientDisconnected):
        asyncio.run(websocket.accept())
    assert (channels.sent, websocket.state, websocket.close_code) == (
        [],
        WebSocketState.CLOSED,
        1001,
    )


def test_accept_twice_is_an_error() -> None:
    """A second accept() raises RuntimeError."""
    websocket, _ = websocket_with({"type": "websocket.connect"})

    async def twice() -> None:
        await websocket.accept()
        await websocket.accept()

    with pytest.raises(RuntimeError, match="already open"):
        asyncio.run(twice())


def test_accept_passes_the_subprotocol() -> None:
    """accept(subprotocol) puts it in the websocket.accept event."""
    websocket, channels = websocket_with({"type": "websocket.connect"})
    asyncio.run(websocket.accept("chat.v1"))
    assert channels.sent == [{"type": "websocket.accept", "subprotocol": "chat.v1"}]


@pytest.mark.parametrize(
    ("method", "message", "code"),
    [
        ("receive_text", {"type": "websocket.receive", "bytes": b"\x00"}, 1003),
        ("receive_bytes", {"type": "websocket.receive", "text": "hi"}, 1003),
        ("receive_json", {"type": "websocket.receive", "text": "{bad"}, 1007),
    ],
)
def test_wrong_kind_of_message_closes_with_a_code(
    method: str, message: dict[str, Any], code: int
) -> None:
    """Bytes where text is expected (or bad JSON) close the connection and return None."""
    websocket, channels = websocket_with({"type": "websocket.connect"}, message)

    async def go() -> Any:
        await websocket.accept()
        return await getattr(websocket, method)()

    assert asyncio.run(go()) is None
    assert channels.sent[-1]["code"] == code
    assert websocket.state is WebSocketState.CLOSED


@pytest.mark.parametrize(
    ("method", "message", "expected"),
    [
        ("receive_text", text("hi"), "hi"),
        ("receive_bytes", {"type": "websocket.receive", "bytes": b"\x01"}, b"\x01"),
        ("receive_json", text('{"a": [1]}'), {"a": [1]}),
    ],
)
def test_receive_returns_the_message(method: str, message: dict[str, Any], expected: Any) -> None:
    """receive_text/bytes/json return the message's payload."""
    websocket, _ = websocket_with({"type": "websocket.connect"}, message)

    async def go() -> Any:
        await websocket.accept()
        return await getattr(websocket, method)()

    assert asyncio.run(go()) == expected


def test_close_after_the_client_left_sends_nothing() -> None:
    """close() once the client has disconnected is a no-op."""
    websocket, channels = websocket_with({"type": "websocket.connect"})

    async def go() -> None:
        await websocket.accept()
        assert await websocket.receive_text() is None
        await websocket.close()

    asyncio.run(go())
    assert kinds(channels.sent) == ["accept"]


def test_send_before_accept_is_an_error() -> None:
    """Sending before accept() raises RuntimeError."""
    websocket, _ = websocket_with({"type": "websocket.connect"})
    with pytest.raises(RuntimeError, match="accept"):
        asyncio.run(websocket.send_text("too soon"))

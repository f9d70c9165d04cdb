"""WebSockets on the hand-written server: handshake, messages, ping, close codes, bad frames.

Well-behaved traffic uses the ``websockets`` client library; frames no
library would send (unmasked, oversized, bad UTF-8) go over a raw socket.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Awaitable, Callable

import pytest
from rawasgi import apps
from rawasgi.protocol import ASGIApp, Message, Receive, Scope, Send
from stage04_helpers import (
    client_frame,
    exchange,
    raw_websocket,
    read_close_code,
    read_frame,
    status_of,
    upgrade_request,
)
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from workbook.testing import LOOPBACK, fetch

Then = Callable[[Receive, Send], Awaitable[None]]


def after_accept(then: Then) -> ASGIApp:
    """Return a WebSocket app that accepts the handshake, then runs ``then(receive, send)``.

    Other scopes (HTTP, lifespan) get nothing: lifespan="auto" carries on
    without it. Each test says only what its app does once connected.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await then(receive, send)

    return app


class NextEvent:
    """A ``then`` for :func:`after_accept`: record the next event the app receives, then signal.

    The test waits for ``done`` (bounded) before it reads ``seen``: the
    event reaches the app after the client already saw the close.
    """

    def __init__(self) -> None:
        self.seen: list[Message] = []
        self.done = threading.Event()

    async def __call__(self, receive: Receive, send: Send) -> None:
        self.seen.append(await receive())
        self.done.set()


def echo_works(ws_url: str) -> bool:
    """Return whether a fresh WebSocket to /ws echoes (the server is still up)."""
    with connect(f"{ws_url}/ws", open_timeout=5) as websocket:
        websocket.send("still there?")
        return websocket.recv(timeout=5) == "still there?"


# ── The handshake ────────────────────────────────────────────────────────────


def test_handshake_answers_101_with_the_accept_key(serve) -> None:
    """The upgrade is answered 101 with Sec-WebSocket-Accept computed from the client's key."""
    server = serve(apps.app)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(upgrade_request("/ws", key="dGhlIHNhbXBsZSBub25jZQ=="))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (upgrade_request(key="short"), 400),
        (upgrade_request(version="8"), 426),
    ],
    ids=["bad-key", "old-version"],
)
def test_bad_handshake_is_refused(serve, request_bytes: bytes, status: int) -> None:
    """A handshake with a bad key is 400; an unknown version 426 with the version we speak."""
    server = serve(apps.app)
    response = exchange(server.port, request_bytes)
    assert status_of(response) == status
    if status == 426:
        assert b"Sec-WebSocket-Version: 13\r\n" in response


def test_close_before_accept_is_403(serve) -> None:
    """An app that closes before accepting makes the server answer 403 (ASGI spec)."""
    server = serve(apps.app)
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(f"{server.ws_url}/nowhere", open_timeout=5),
    ):
        pass
    assert refused.value.response.status_code == 403


def test_app_failing_before_accept_is_500(serve) -> None:
    """An app that raises before accepting gets a 500 instead of a handshake."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            raise RuntimeError("no socket for you")

    server = serve(broken)
    with pytest.raises(InvalidStatus) as refused, connect(f"{server.ws_url}/", open_timeout=5):
        pass
    assert refused.value.response.status_code == 500


def test_subprotocol_is_negotiated(serve) -> None:
    """The subprotocol the app accepts is sent back in Sec-WebSocket-Protocol."""
    server = serve(apps.app)
    with connect(f"{server.ws_url}/ws", subprotocols=["echo"], open_timeout=5) as websocket:
        assert websocket.subprotocol == "echo"


# ── Messages ─────────────────────────────────────────────────────────────────


@pytest.mark.exercise("4.4")
def test_text_and_binary_messages_are_echoed(serve) -> None:
    """Text comes back as text, bytes as bytes, through the whole server."""
    server = serve(apps.app)
    with connect(f"{server.ws_url}/ws", open_timeout=5) as websocket:
        websocket.send("héllo")
        websocket.send(b"\x00\xff")
        assert (websocket.recv(timeout=5), websocket.recv(timeout=5)) == ("héllo", b"\x00\xff")


@pytest.mark.exercise("4.4")
def test_fragmented_message_arrives_whole(serve) -> None:
    """A message sent in fragments reaches the app as one websocket.receive."""
    server = serve(apps.app)
    with connect(f"{server.ws_url}/ws", open_timeout=5) as websocket:
        websocket.send(["frag", "men", "ted"])
        assert websocket.recv(timeout=5) == "fragmented"


@pytest.mark.exercise("4.4")
def test_large_message_crosses_many_reads(serve) -> None:
    """A 1 MB binary message (64-bit length, many TCP reads) is echoed intact."""
    server = serve(apps.app)
    payload = bytes(range(256)) * 4096
    with connect(f"{server.ws_url}/ws", open_timeout=5, max_size=None) as websocket:
        websocket.send(payload)
        assert websocket.recv(timeout=10) == payload


@pytest.mark.exercise("4.4")
def test_ping_is_answered_with_a_pong_by_the_server(serve) -> None:
    """The server answers a ping with a pong carrying the same payload; the app never sees it."""
    server = serve(apps.app)
    with raw_websocket(server.port) as sock:
        sock.sendall(client_frame(0x9, b"are you there"))
        assert read_frame(sock) == (0xA, b"are you there")
        sock.sendall(client_frame(0x1, b"then echo"))
        assert read_frame(sock) == (0x1, b"then echo")


def test_client_close_is_echoed_and_reaches_the_app(serve) -> None:
    """The client's close code is echoed back and delivered to the app as websocket.disconnect."""
    received = NextEvent()
    server = serve(after_accept(received))
    with raw_websocket(server.port) as sock:
        sock.sendall(client_frame(0x8, struct.pack("!H", 4001) + b"bye"))
        assert read_close_code(sock) == 4001
        assert read_frame(sock) == (-1, b"")  # then the server closes TCP
    server.wait_finished()  # the app ends with its connection
    assert received.done.is_set()
    assert received.seen == [{"type": "websocket.disconnect", "code": 4001, "reason": "bye"}]


def test_app_close_code_reaches_the_client(serve) -> None:
    """websocket.close from the app sends a close frame with its code and reason."""

    async def close(receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": 4000, "reason": "done here"})

    server = serve(after_accept(close))
    with connect(f"{server.ws_url}/", open_timeout=5) as websocket:
        with pytest.raises(ConnectionClosed):
            websocket.recv(timeout=5)
    assert (websocket.close_code, websocket.close_reason) == (4000, "done here")


def test_app_exception_after_accept_closes_with_1011(serve) -> None:
    """An app that raises after accepting makes the server close the socket with 1011."""

    async def fail(receive: Receive, send: Send) -> None:
        raise RuntimeError("oops")

    server = serve(after_accept(fail))
    with raw_websocket(server.port) as sock:
        assert read_close_code(sock) == 1011


def test_app_returning_after_accept_closes_with_1000(serve) -> None:
    """An app that returns without closing gets a normal close (1000) from the server."""

    async def return_at_once(receive: Receive, send: Send) -> None:
        return

    server = serve(after_accept(return_at_once))
    with raw_websocket(server.port) as sock:
        assert read_close_code(sock) == 1000


def test_send_after_the_client_closed_raises_oserror(serve) -> None:
    """websocket.send after the socket closed raises an OSError (ASGI spec 2.4)."""
    raised: list[BaseException] = []
    done = threading.Event()

    async def send_too_late(receive: Receive, send: Send) -> None:
        await receive()  # the disconnect
        try:
            await send({"type": "websocket.send", "text": "too late"})
        except OSError as error:
            raised.append(error)
        done.set()

    server = serve(after_accept(send_too_late))
    with connect(f"{server.ws_url}/", open_timeout=5):
        pass
    server.wait_finished()  # the app ends with its connection
    assert done.is_set()
    assert len(raised) == 1


def test_server_shutdown_closes_websockets_with_1001(serve) -> None:
    """Stopping the server closes open WebSockets with 1001 (going away)."""
    server = serve(apps.app)
    with raw_websocket(server.port) as sock:
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        assert read_close_code(sock) == 1001
        sock.sendall(client_frame(0x8, struct.pack("!H", 1001)))
        stopper.join(10)
    assert not stopper.is_alive()


# ── Bad frames (exercise 4.4's rules, over a real socket) ────────────────────


@pytest.mark.exercise("4.4")
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (client_frame(0x1, b"hello", mask=None), 1002),
        (client_frame(0x1, b"\xff\xfe\xfd"), 1007),
        (client_frame(0x2, b"x" * 2000), 1009),
        (client_frame(0x3, b"?"), 1002),
        (client_frame(0x1, b"x", rsv=2), 1002),
        (client_frame(0x0, b"orphan"), 1002),
    ],
    ids=[
        "unmasked",
        "invalid-utf8",
        "too-big",
        "unknown-opcode",
        "reserved-bit",
        "orphan-continuation",
    ],
)
def test_bad_frame_gets_its_close_code_and_the_server_stays_up(
    serve, frame: bytes, code: int
) -> None:
    """A frame that breaks RFC 6455 is answered with its close code; other sockets keep working."""
    server = serve(apps.app, ws_max_size=1024)
    with raw_websocket(server.port) as sock:
        sock.sendall(frame)
        assert read_close_code(sock) == code
        assert read_frame(sock) == (-1, b"")  # and the connection is closed
    assert echo_works(server.ws_url)
    assert fetch("GET", server.url, timeout=5).status_code == 200


def test_bad_frame_disconnect_reaches_the_app_with_its_code(serve) -> None:
    """After a protocol error the app's receive() gets websocket.disconnect with the close code."""
    received = NextEvent()
    server = serve(after_accept(received))
    with raw_websocket(server.port) as sock:
        sock.sendall(client_frame(0x1, b"\xc3\x28"))
        read_close_code(sock)
    server.wait_finished()  # the app ends with its connection
    assert received.done.is_set()
    assert received.seen[0]["code"] == 1007


def test_many_sockets_at_once(serve) -> None:
    """Twenty WebSockets open at the same time each get their own echoes."""
    server = serve(apps.app)

    async def one(index: int) -> str:
        async with async_connect(f"{server.ws_url}/ws") as websocket:
            await websocket.send(f"message {index}")
            return await websocket.recv()

    async def many() -> list[str]:
        return await asyncio.gather(*(one(index) for index in range(20)))

    assert asyncio.run(many()) == [f"message {index}" for index in range(20)]

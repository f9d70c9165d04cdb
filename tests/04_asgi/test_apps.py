"""The raw ASGI apps, called in process: asgiref's ApplicationCommunicator and asgi-lifespan.

No server runs here: the tests play the server's part, sending events into
the app and reading the events it sends back, exactly as the ASGI spec
describes them.
"""

from __future__ import annotations

import asyncio

import pytest
from asgi_lifespan import LifespanManager
from asgiref.testing import ApplicationCommunicator
from rawasgi import apps
from rawasgi.protocol import Message
from stage04_helpers import call, http_scope, next_output, websocket_scope

from workbook.testing import SIDE_EFFECT_TIMEOUT


def feed(events: list[Message]):
    """Return a ``receive`` that hands out ``events`` in order."""
    queue = list(events)

    async def receive() -> Message:
        return queue.pop(0)

    return receive


# ── read_body (exercise 4.1) ─────────────────────────────────────────────────


@pytest.mark.exercise("4.1")
@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([{"type": "http.request", "body": b"hello", "more_body": False}], b"hello"),
        (
            [
                {"type": "http.request", "body": b"hel", "more_body": True},
                {"type": "http.request", "body": b"", "more_body": True},
                {"type": "http.request", "body": b"lo", "more_body": False},
            ],
            b"hello",
        ),
        ([{"type": "http.request"}], b""),
        (
            [
                {"type": "http.request", "body": b"a", "more_body": True},
                {"type": "http.request", "body": b"b"},
            ],
            b"ab",
        ),
    ],
    ids=["one-event", "three-events", "no-keys", "missing-more-body-means-false"],
)
def test_read_body_joins_the_body_of_every_event(events: list[Message], expected: bytes) -> None:
    """read_body joins the body pieces until an event has more_body False (missing keys default)."""
    assert asyncio.run(apps.read_body(feed(events))) == expected


@pytest.mark.exercise("4.1")
def test_read_body_returns_none_when_the_client_disconnects() -> None:
    """An http.disconnect before the last piece means the client left: read_body returns None."""
    events = [
        {"type": "http.request", "body": b"hel", "more_body": True},
        {"type": "http.disconnect"},
    ]
    assert asyncio.run(apps.read_body(feed(events))) is None


@pytest.mark.exercise("4.1")
def test_read_body_stops_at_the_last_piece() -> None:
    """read_body does not call receive() again after the piece with more_body False."""
    events = [
        {"type": "http.request", "body": b"done", "more_body": False}
    ]  # a 2nd receive() would fail
    assert asyncio.run(apps.read_body(feed(events))) == b"done"


@pytest.mark.exercise("4.1")
def test_echo_sends_a_streamed_body_back() -> None:
    """The echo app answers 200 with the body it received in pieces, and its content type."""
    scope = http_scope("POST", "/echo", headers=[(b"content-type", b"application/json")])
    response = call(
        apps.app,
        scope,
        [
            {"type": "http.request", "body": b'{"a": ', "more_body": True},
            {"type": "http.request", "body": b"1}", "more_body": False},
        ],
    )
    assert (response.status, response.body) == (200, b'{"a": 1}')
    assert response.header(b"content-type") == b"application/json"
    assert response.header(b"content-length") == b"8"


@pytest.mark.exercise("4.1")
def test_echo_sends_nothing_to_a_client_that_left() -> None:
    """If the client disconnects mid-body, echo returns without sending any event."""

    async def exchange() -> bool:
        communicator = ApplicationCommunicator(apps.app, http_scope("POST", "/echo"))
        await communicator.send_input({"type": "http.request", "body": b"x", "more_body": True})
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(SIDE_EFFECT_TIMEOUT)
        return await communicator.receive_nothing()

    assert asyncio.run(exchange()) is True


# ── The other HTTP apps ──────────────────────────────────────────────────────


def test_get_root_answers_a_plain_text_greeting_with_its_length() -> None:
    """GET / answers a plain-text greeting with its Content-Length."""
    response = call(apps.app, http_scope("GET", "/"))
    assert (response.status, response.body) == (200, b"Hello, ASGI!\n")
    assert response.header(b"content-length") == b"13"


def test_unknown_path_is_404() -> None:
    """A path no app serves answers 404."""
    response = call(apps.app, http_scope("GET", "/nowhere"))
    assert response.status == 404


def test_stream_sends_one_event_per_line() -> None:
    """/stream: a start without Content-Length, one body event per line, then an empty last one."""
    response = call(apps.app, http_scope("GET", "/stream", query=b"count=3&delay=0"))
    assert response.header(b"content-length") is None
    assert [m.get("more_body", False) for m in response.messages[1:]] == [True, True, True, False]
    assert response.body == b"line 1 of 3\nline 2 of 3\nline 3 of 3\n"


@pytest.mark.parametrize("query", [b"count=x", b"count=5&delay=-1", b"count=100000"])
def test_stream_refuses_bad_parameters(query: bytes) -> None:
    """/stream answers 400 for a count or delay that is not a number in range."""
    assert call(apps.app, http_scope("GET", "/stream", query=query)).status == 400


def test_unknown_scope_type_raises() -> None:
    """The spec: an app raises for a scope type it does not know."""
    with pytest.raises(ValueError, match="unsupported scope type"):
        asyncio.run(apps.app({"type": "carrier-pigeon"}, feed([]), feed([])))


# ── Lifespan ─────────────────────────────────────────────────────────────────


def test_lifespan_startup_stores_state_that_requests_see() -> None:
    """The lifespan handler completes startup and shutdown; requests then see what it stored."""

    async def exchange() -> bytes:
        async with LifespanManager(apps.app) as manager:
            communicator = ApplicationCommunicator(manager.app, http_scope("GET", "/lifespan"))
            await communicator.send_input({"type": "http.request"})
            await next_output(communicator)
            body = (await next_output(communicator))["body"]
            await communicator.wait(SIDE_EFFECT_TIMEOUT)
            return body

    assert asyncio.run(exchange()).startswith(b"Started by the lifespan protocol at ")


def test_lifespan_info_without_state_says_so() -> None:
    """Without a lifespan startup, /lifespan says the server did not run it."""
    scope = http_scope("GET", "/lifespan")
    del scope["state"]
    assert call(apps.app, scope).body == b"This server did not run the lifespan startup.\n"


# ── WebSocket ────────────────────────────────────────────────────────────────


def test_websocket_echo_accepts_and_echoes_text_and_bytes() -> None:
    """The WebSocket echo accepts, then sends each text or binary message back as it came."""

    async def exchange() -> list[Message]:
        communicator = ApplicationCommunicator(apps.app, websocket_scope("/ws"))
        await communicator.send_input({"type": "websocket.connect"})
        outputs = [await next_output(communicator)]
        await communicator.send_input({"type": "websocket.receive", "text": "héllo"})
        outputs.append(await next_output(communicator))
        await communicator.send_input({"type": "websocket.receive", "bytes": b"\x00\xff"})
        outputs.append(await next_output(communicator))
        await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await communicator.wait(SIDE_EFFECT_TIMEOUT)
        return outputs

    accept, text, data = asyncio.run(exchange())
    assert accept == {"type": "websocket.accept", "subprotocol": None}
    assert text == {"type": "websocket.send", "text": "héllo"}
    assert data == {"type": "websocket.send", "bytes": b"\x00\xff"}


def test_websocket_echo_accepts_the_echo_subprotocol() -> None:
    """A client offering the "echo" subprotocol gets it accepted."""

    async def exchange() -> Message:
        communicator = ApplicationCommunicator(
            apps.app, websocket_scope("/ws", subprotocols=["x", "echo"])
        )
        await communicator.send_input({"type": "websocket.connect"})
        accept = await next_output(communicator)
        await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await communicator.wait(SIDE_EFFECT_TIMEOUT)
        return accept

    assert asyncio.run(exchange())["subprotocol"] == "echo"


def test_websocket_on_unknown_path_is_closed_before_accept() -> None:
    """A WebSocket to a path with no app is closed before accept (a server turns that into 403)."""

    async def exchange() -> Message:
        communicator = ApplicationCommunicator(apps.app, websocket_scope("/nowhere"))
        await communicator.send_input({"type": "websocket.connect"})
        message = await next_output(communicator)
        await communicator.wait(SIDE_EFFECT_TIMEOUT)
        return message

    assert asyncio.run(exchange())["type"] == "websocket.close"

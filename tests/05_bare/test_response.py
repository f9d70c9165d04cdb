"""Responses: headers checked when set, repeats kept, sent as two ASGI events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from bare import Bare, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from bare_helpers import Channels, call


def sent_by(response: Response, **options: Any) -> list[dict[str, Any]]:
    """Return the events ``response.send`` emits."""
    channels = Channels([], after={"type": "http.disconnect"})
    asyncio.run(response.send(channels.send, **options))
    return channels.sent


def start_and_body(
    response: Response, **options: Any
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Return (status, headers, body) of a response with one body event."""
    start, body = sent_by(response, **options)
    assert (start["type"], body["type"]) == ("http.response.start", "http.response.body")
    assert not body.get("more_body", False)
    return start["status"], start["headers"], body["body"]


# ── Sending (exercise 5.3) ────────────────────────────────────────────────────


@pytest.mark.exercise("5.3")
def test_response_sends_start_then_body_with_content_length() -> None:
    """A response is one start event (headers + Content-Length) and one body event."""
    assert start_and_body(Response("héllo")) == (
        200,
        [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"6")],
        "héllo".encode(),
    )


@pytest.mark.exercise("5.3")
def test_head_keeps_the_headers_and_drops_the_body() -> None:
    """With head=True the Content-Length is the GET one and the body is empty."""
    assert start_and_body(Response("hello"), head=True) == (
        200,
        [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"5")],
        b"",
    )


@pytest.mark.exercise("5.3")
@pytest.mark.parametrize("status", [204, 304])
def test_no_content_status_has_no_length_and_no_body(status: int) -> None:
    """204 and 304 carry no Content-Length and no body (RFC 9110 §8.6)."""
    assert start_and_body(Response("ignored", status=status, content_type=None)) == (
        status,
        [],
        b"",
    )


@pytest.mark.exercise("5.3")
def test_sending_twice_sends_the_same_headers() -> None:
    """send() does not add Content-Length to the response itself."""
    response = Response("x")
    assert start_and_body(response) == start_and_body(response)


@pytest.mark.exercise("5.3")
def test_two_cookies_are_two_set_cookie_headers() -> None:
    """set_cookie twice sends both cookies: headers may repeat."""
    _, headers, _ = start_and_body(Response("x").set_cookie("a", "1").set_cookie("b", "2"))
    assert [value for name, value in headers if name == b"set-cookie"] == [b"a=1", b"b=2"]


@pytest.mark.exercise("5.3")
@pytest.mark.parametrize(
    ("response", "status", "content_type", "body"),
    [
        (
            JSONResponse({"id": 1, "tags": ["a"]}, 201),
            201,
            b"application/json",
            b'{"id":1,"tags":["a"]}',
        ),
        (HTMLResponse("<h1>hi</h1>"), 200, b"text/html; charset=utf-8", b"<h1>hi</h1>"),
        (
            Response(b"\x00\x01", content_type="application/octet-stream"),
            200,
            b"application/octet-stream",
            b"\x00\x01",
        ),
        (Response(42), 200, b"text/plain; charset=utf-8", b"42"),
    ],
)
def test_kinds_of_response_send_their_body_and_type(
    response: Response, status: int, content_type: bytes, body: bytes
) -> None:
    """Each kind of response sends its status, its Content-Type and its encoded body."""
    got_status, headers, got_body = start_and_body(response)
    assert (got_status, dict(headers)[b"content-type"], got_body) == (status, content_type, body)


@pytest.mark.exercise("5.3")
def test_redirect_sends_location_and_302() -> None:
    """RedirectResponse is a 302 with Location and an empty body."""
    status, headers, body = start_and_body(RedirectResponse("/tasks"))
    assert (status, dict(headers)[b"location"], body) == (302, b"/tasks", b"")


# ── Headers, checked as they are set ──────────────────────────────────────────


def test_set_header_replaces_and_add_header_repeats() -> None:
    """set_header replaces every earlier value of a name; add_header adds one more."""
    response = Response("x", headers={"X-A": "1"}).add_header("x-a", "2").set_header("X-B", "3")
    response.add_header("X-B", "4").set_header("x-a", "5")
    assert response.raw_headers == [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"x-b", b"3"),
        (b"x-b", b"4"),
        (b"x-a", b"5"),
    ]


def test_headers_argument_can_override_content_type() -> None:
    """A Content-Type in headers= replaces the default one."""
    assert Response("a,b", headers={"Content-Type": "text/csv"}).raw_headers == [
        (b"content-type", b"text/csv")
    ]


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: pwned=1", "a\nb", "a\rb", "a\x00b"])
@pytest.mark.parametrize(
    "build",
    [
        lambda value: Response("x", headers={"X-Evil": value}),
        lambda value: Response("x").set_header("X-Evil", value),
        lambda value: Response("x").add_header("X-Evil", value),
        lambda value: RedirectResponse("/next" + value),
        lambda value: Response("x", content_type="text/plain" + value),
    ],
    ids=["constructor", "set_header", "add_header", "redirect", "content_type"],
)
def test_cr_lf_or_nul_in_a_header_value_is_refused(build: Callable[[str], Any], value: str) -> None:
    """A header value with CR, LF or NUL is a ValueError when the response is built."""
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        build(value)


@pytest.mark.parametrize("name", ["X Evil", "X-Evil:", "X-Evil\r\n", "", "Ünicode"])
def test_header_name_that_is_not_a_token_is_refused(name: str) -> None:
    """A header name with spaces, colons or controls is a ValueError."""
    with pytest.raises(ValueError, match="invalid header name"):
        Response("x").set_header(name, "1")


def test_header_value_outside_latin1_is_refused() -> None:
    """A header value that latin-1 cannot encode is a ValueError, not a crash on send."""
    with pytest.raises(ValueError, match="latin-1"):
        Response("x").set_header("X-Name", "日本")


def test_cookie_attributes_are_rendered_and_flags_are_bare() -> None:
    """max_age becomes max-age=..., True is a bare flag, False and None are left out."""
    response = Response().set_cookie(
        "sid", "abc", max_age=60, path="/", httponly=True, secure=False, domain=None, samesite="Lax"
    )
    assert response.raw_headers[-1] == (
        b"set-cookie",
        b"sid=abc; max-age=60; path=/; httponly; samesite=Lax",
    )


@pytest.mark.parametrize(
    ("name", "value", "attributes"),
    [
        ("sid", "a; Domain=evil.example", {}),
        ("sid", "has space", {}),
        ("sid", "a\r\nX: 1", {}),
        ("bad name", "1", {}),
        ("sid", "1", {"path": "/; secure"}),
    ],
)
def test_cookie_that_would_inject_attributes_is_refused(
    name: str, value: str, attributes: dict
) -> None:
    """A cookie name, value or attribute that could smuggle in more is a ValueError."""
    with pytest.raises(ValueError):
        Response().set_cookie(name, value, **attributes)


# ── Streaming ─────────────────────────────────────────────────────────────────


async def numbers() -> AsyncIterator[str]:
    for number in range(3):
        yield f"{number}\n"


@pytest.mark.parametrize(
    "content", [numbers, lambda: iter([b"0\n", "1\n", b"2\n"])], ids=["async", "sync"]
)
def test_streaming_response_sends_each_piece_then_ends(content: Callable[[], Any]) -> None:
    """Each piece is its own body event with more_body, then an empty last one."""
    events = sent_by(StreamingResponse(content()))
    assert events[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
    }
    assert [(event["body"], event.get("more_body", False)) for event in events[1:]] == [
        (b"0\n", True),
        (b"1\n", True),
        (b"2\n", True),
        (b"", False),
    ]


def test_streaming_response_to_head_sends_no_body() -> None:
    """A streamed answer to HEAD sends the start and an empty body only."""
    assert [event.get("body") for event in sent_by(StreamingResponse(numbers()), head=True)] == [
        None,
        b"",
    ]


def test_streaming_stops_when_the_client_disconnects() -> None:
    """An endless stream ends once receive reports http.disconnect."""
    produced: list[int] = []

    async def forever() -> AsyncIterator[bytes]:
        while True:
            produced.append(1)
            yield b"tick"
            await asyncio.sleep(0)

    async def receive_disconnect_later() -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return {"type": "http.disconnect"}

    channels = Channels([], after={"type": "http.disconnect"})

    async def go() -> None:
        await asyncio.wait_for(
            StreamingResponse(forever()).send(channels.send, receive=receive_disconnect_later), 5
        )

    asyncio.run(go())
    assert produced, "the stream should have started"
    assert channels.sent[-1]["body"] == b"tick"  # no final empty body: nobody to send it to


def test_streaming_error_is_raised_to_the_server() -> None:
    """An exception inside the stream propagates (the server aborts the response)."""

    async def broken() -> AsyncIterator[bytes]:
        yield b"start"
        raise RuntimeError("stream broke")

    async def never() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {}

    channels = Channels([], after={"type": "http.disconnect"})
    with pytest.raises(RuntimeError, match="stream broke"):
        asyncio.run(StreamingResponse(broken()).send(channels.send, receive=never))


def test_streaming_response_through_the_app() -> None:
    """A StreamingResponse arrives whole, without Content-Length."""

    async def handler(request: Any) -> StreamingResponse:
        return StreamingResponse(f"line {number}\n" for number in range(3))

    app = Bare()
    app.get("/")(handler)
    response = call(app, "GET", "/")
    assert (response.text, "content-length" in response.headers) == (
        "line 0\nline 1\nline 2\n",
        False,
    )

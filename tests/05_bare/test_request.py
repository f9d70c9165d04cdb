"""Request: the scope as properties, headers kept whole, the body read lazily and checked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bare import ClientDisconnected, HTTPError, Request
from bare_helpers import Channels, body_events, http_scope

DISCONNECT = {"type": "http.disconnect"}


def make_request(
    *chunks: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    limit: int = 1024,
    query_string: bytes = b"",
) -> tuple[Request, Channels]:
    """Return a POST Request whose body arrives as ``chunks``, and its channels."""
    channels = Channels(body_events(*chunks), after=DISCONNECT)
    scope = http_scope("POST", "/", headers=headers, query_string=query_string)
    return Request(scope, channels.receive, max_body_size=limit), channels


def json_request(body: bytes, content_type: bytes = b"application/json") -> Request:
    return make_request(body, headers=[(b"content-type", content_type)])[0]


def read(awaitable: Any) -> Any:
    return asyncio.run(awaitable)


def error_of(awaitable: Any) -> HTTPError:
    """Run ``awaitable`` and return the HTTPError it raises."""
    with pytest.raises(HTTPError) as caught:
        asyncio.run(awaitable)
    return caught.value


# ── The body (exercise 5.2) ───────────────────────────────────────────────────


@pytest.mark.exercise("5.2")
def test_body_joins_every_chunk() -> None:
    """The body is every http.request chunk joined, up to the one without more_body."""
    request, _ = make_request(b"hello, ", b"", b"world")
    assert read(request.body()) == b"hello, world"


@pytest.mark.exercise("5.2")
def test_body_is_read_once_and_kept() -> None:
    """A second body() returns the same bytes without receiving again."""
    request, channels = make_request(b"one", b"two")

    async def twice() -> tuple[bytes, bytes]:
        return await request.body(), await request.body()

    assert read(twice()) == (b"onetwo", b"onetwo")
    assert channels.received == 2


@pytest.mark.exercise("5.2")
def test_empty_body_is_empty_bytes() -> None:
    """A request without a body gives b""."""
    request, _ = make_request(b"")
    assert read(request.body()) == b""


@pytest.mark.exercise("5.2")
def test_declared_length_over_limit_is_413_before_reading() -> None:
    """A Content-Length over the limit is refused with 413 before a byte is read."""
    request, channels = make_request(b"x" * 10, headers=[(b"content-length", b"2000")], limit=1000)
    error = error_of(request.body())
    assert (error.status, channels.received) == (413, 0)
    assert "1000 bytes" in error.message


@pytest.mark.exercise("5.2")
def test_body_growing_past_limit_is_413() -> None:
    """A body without Content-Length is cut off with 413 once it passes the limit."""
    request, channels = make_request(b"x" * 600, b"x" * 600, b"x" * 600, limit=1000)
    assert error_of(request.body()).status == 413
    assert channels.received == 2  # the third chunk is never asked for


@pytest.mark.exercise("5.2")
def test_body_at_exactly_the_limit_is_accepted() -> None:
    """A body of exactly max_body_size bytes is fine."""
    request, _ = make_request(b"x" * 500, b"x" * 500, limit=1000)
    assert len(read(request.body())) == 1000


@pytest.mark.exercise("5.2")
def test_disconnect_while_reading_is_client_disconnected() -> None:
    """A client that leaves midway raises ClientDisconnected, not a half body."""
    channels = Channels(
        [{"type": "http.request", "body": b"part", "more_body": True}], after=DISCONNECT
    )
    request = Request(http_scope("POST"), channels.receive)
    with pytest.raises(ClientDisconnected):
        read(request.body())


def test_body_is_not_read_unless_asked_for() -> None:
    """Building a request and reading its headers never touches receive."""
    request, channels = make_request(b"ignored", headers=[(b"x-a", b"1")])
    assert (request.header("x-a"), request.method, channels.received) == ("1", "POST", 0)


# ── JSON, text and forms (they read the body: exercise 5.2) ───────────────────


@pytest.mark.exercise("5.2")
@pytest.mark.parametrize(
    "content_type",
    [
        b"application/json",
        b"application/json; charset=utf-8",
        b"application/merge-patch+json",
        b"Application/JSON",
    ],
)
def test_json_body_is_parsed(content_type: bytes) -> None:
    """A JSON body with a JSON media type parses to Python values."""
    assert read(json_request(b'{"title": "\xc3\xa9t\xc3\xa9"}', content_type).json()) == {
        "title": "été"
    }


@pytest.mark.exercise("5.2")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"{bad",
            "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)",
        ),
        (b"", "not valid JSON: Expecting value (line 1, column 1)"),
        (b'{"title": "\xff"}', "not valid UTF-8"),
    ],
)
def test_bad_json_body_is_400_with_a_clear_message(body: bytes, message: str) -> None:
    """Invalid JSON or non-UTF-8 bytes are HTTPError(400) saying what is wrong."""
    error = error_of(json_request(body).json())
    assert error.status == 400
    assert message in error.message


def test_json_with_wrong_content_type_is_400() -> None:
    """json() on a body that is not declared JSON is a 400 naming the type sent."""
    error = error_of(json_request(b'{"a": 1}', b"text/plain").json())
    assert (error.status, error.message) == (
        400,
        "expected Content-Type: application/json, got text/plain",
    )


def test_json_without_content_type_is_400() -> None:
    """json() on a body with no Content-Type at all is a 400."""
    request, _ = make_request(b'{"a": 1}')
    assert (
        error_of(request.json()).message
        == "expected Content-Type: application/json, got no Content-Type"
    )


@pytest.mark.exercise("5.2")
@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (b"text/plain", "né".encode(), "né"),
        (b"text/plain; charset=latin-1", "né".encode("latin-1"), "né"),
        (b'text/plain; charset="utf-8"', "né".encode(), "né"),
    ],
)
def test_text_decodes_with_the_declared_charset(
    content_type: bytes, body: bytes, expected: str
) -> None:
    """text() decodes with the charset of the Content-Type, UTF-8 by default."""
    request, _ = make_request(body, headers=[(b"content-type", content_type)])
    assert read(request.text()) == expected


@pytest.mark.exercise("5.2")
@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        (b"text/plain", "not valid utf-8 text"),
        (b"text/plain; charset=klingon", "unknown charset 'klingon'"),
    ],
)
def test_undecodable_text_is_400(content_type: bytes, message: str) -> None:
    """Bytes that do not decode, or an unknown charset, are HTTPError(400)."""
    request, _ = make_request(b"\xff\xfe", headers=[(b"content-type", content_type)])
    error = error_of(request.text())
    assert (error.status, message in error.message) == (400, True)


@pytest.mark.exercise("5.2")
def test_urlencoded_form_is_parsed_like_query_params() -> None:
    """form() parses an urlencoded body to {name: [values]}, blanks kept."""
    request, _ = make_request(
        b"title=Hello+bare&tag=a&tag=b%C3%A9&empty=",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
    )
    assert read(request.form()) == {"title": ["Hello bare"], "tag": ["a", "bé"], "empty": [""]}


@pytest.mark.exercise("5.2")
def test_form_with_bad_utf8_is_400() -> None:
    """A form whose percent-escapes are not UTF-8 is HTTPError(400)."""
    request, _ = make_request(
        b"title=%FF", headers=[(b"content-type", b"application/x-www-form-urlencoded")]
    )
    assert error_of(request.form()).status == 400


def test_form_with_other_content_type_is_400() -> None:
    """form() on a multipart or JSON body is a 400 naming what is supported."""
    request, _ = make_request(
        b"--x", headers=[(b"content-type", b"multipart/form-data; boundary=x")]
    )
    error = error_of(request.form())
    assert error.status == 400
    assert "multipart/form-data is not supported" in error.message


# ── Headers, query, cookies ───────────────────────────────────────────────────


def test_repeated_request_headers_are_all_kept() -> None:
    """Repeated headers keep every value: joined by ", " and as a list."""
    request, _ = make_request(
        headers=[(b"accept", b"text/html"), (b"x-tag", b"a"), (b"accept", b"*/*")]
    )
    assert request.header("Accept") == "text/html, */*"
    assert request.headers.getlist("accept") == ["text/html", "*/*"]
    assert request.header("x-tag") == "a"


def test_headers_are_built_once_per_request() -> None:
    """request.headers is one object, built on first use, not rebuilt per access."""
    request, _ = make_request(headers=[(b"x-a", b"1")])
    assert request.headers is request.headers


def test_missing_header_gives_the_default() -> None:
    """header() of an absent name is the default ("" unless given)."""
    request, _ = make_request()
    assert (
        request.header("x-none"),
        request.header("x-none", "dflt"),
        "x-none" in request.headers,
    ) == ("", "dflt", False)


def test_query_params_keep_repeats_and_blanks() -> None:
    """query_params maps each name to all its values; query() gives the first."""
    request, _ = make_request(query_string=b"done=true&tag=a&tag=b&empty=&q=caf%C3%A9")
    assert request.query_params == {
        "done": ["true"],
        "tag": ["a", "b"],
        "empty": [""],
        "q": ["café"],
    }
    assert (request.query("tag"), request.query("missing", "no")) == ("a", "no")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([b"a=1; b=2"], {"a": "1", "b": "2"}),
        ([b"a=1", b"b=2"], {"a": "1", "b": "2"}),  # HTTP/2 may split the header
        ([b'sid="quoted"; empty='], {"sid": "quoted", "empty": ""}),
        ([b"a=1; a=2"], {"a": "1"}),  # the more specific cookie comes first
        ([b"novalue; ok=1; =nameless"], {"ok": "1"}),
        ([], {}),
    ],
)
def test_cookies_are_parsed_from_every_cookie_header(lines: list[bytes], expected: dict) -> None:
    """request.cookies reads name=value pairs from each Cookie header."""
    request, _ = make_request(headers=[(b"cookie", line) for line in lines])
    assert request.cookies == expected


def test_media_type_drops_parameters() -> None:
    """media_type is the content type without its parameters, lowercased."""
    request, _ = make_request(headers=[(b"content-type", b"Application/JSON; charset=utf-8")])
    assert (request.content_type, request.media_type) == (
        "Application/JSON; charset=utf-8",
        "application/json",
    )

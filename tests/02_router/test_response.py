"""Response: headers that may repeat and are never unsafe, helpers, and sending it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stage02_helpers import call, make_environ
from wsgirouter.response import HTTPError, Response, check_header

# ── Headers are checked, never sent unsafe ───────────────────────────────────


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Location", "/next\r\nSet-Cookie: admin=1"),
        ("X-Note", "line\nbreak"),
        ("X-Note", "carriage\rreturn"),
        ("X-Note", "nul\x00byte"),
        ("X-Note", "escape\x1b"),
        ("Bad\r\nName", "value"),
        ("Bad Name", "value"),
        ("Bad:Name", "value"),
        ("", "value"),
        ("X-Note", "snowman \u2603"),  # not latin-1: percent-encode it first
    ],
)
def test_unsafe_header_is_refused_with_value_error(name: str, value: str) -> None:
    """A header name that is not a token, or a value with CR, LF, NUL or a control, is refused."""
    with pytest.raises(ValueError):
        Response().add_header(name, value)


def test_unsafe_header_in_the_constructor_is_refused() -> None:
    """Headers given to the constructor are checked too."""
    with pytest.raises(ValueError):
        Response(headers=[("X-Note", "a\r\nb")])


def test_tab_and_latin1_are_allowed_in_values() -> None:
    """A tab and latin-1 characters are legal in a header value."""
    check_header("X-Note", "caf\u00e9\tand more")


@pytest.mark.exercise("2.4")
def test_header_appended_behind_the_checks_is_never_sent() -> None:
    """A bad header appended straight to .headers is caught when the response is sent."""
    response = Response(b"hi")
    response.headers.append(("X-Note", "a\r\nInjected: yes"))
    started: list[str] = []
    with pytest.raises(ValueError):
        response(make_environ(), lambda status, headers, exc_info=None: started.append(status))
    assert started == []


def test_set_cookie_repeats_the_header() -> None:
    """Two cookies are two Set-Cookie lines, not one joined line."""
    response = Response(b"ok")
    response.set_cookie("theme", "dark")
    response.set_cookie("lang", "en", max_age=60)
    cookies = [value for name, value in response.headers if name == "Set-Cookie"]
    assert cookies == [
        "theme=dark; HttpOnly; Path=/; SameSite=Lax",
        "lang=en; HttpOnly; Max-Age=60; Path=/; SameSite=Lax",
    ]


def test_set_header_replaces_and_get_header_ignores_case() -> None:
    """set_header replaces every line of that name; get_header ignores case."""
    response = Response(headers=[("X-A", "1"), ("x-a", "2")])
    response.set_header("X-a", "3")
    assert (response.get_header("x-A"), len(response.headers)) == ("3", 2)


# ── Helpers ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("response", "content_type", "body"),
    [
        (Response.json({"title": "café"}), "application/json", '{"title":"café"}'.encode()),
        (Response.text("hello"), "text/plain; charset=utf-8", b"hello"),
        (Response.html("<p>hi</p>"), "text/html; charset=utf-8", b"<p>hi</p>"),
        (Response("plain"), "text/plain; charset=utf-8", b"plain"),
    ],
)
def test_helpers_set_the_content_type_and_encode_the_body(
    response: Response, content_type: str, body: bytes
) -> None:
    """json / text / html set Content-Type and encode the body as UTF-8."""
    assert (response.get_header("Content-Type"), response.body) == (content_type, body)


def test_redirect_sets_location_and_status() -> None:
    """redirect() answers 302 (or the status given) with a Location header."""
    response = Response.redirect("http://testserver/next", 303)
    assert (response.status, response.get_header("Location")) == (303, "http://testserver/next")


@pytest.mark.parametrize("status", [99, 600, 200.0, "200"])
def test_invalid_status_is_refused(status: object) -> None:
    """A status outside 100..599, or not an int, is a ValueError."""
    with pytest.raises(ValueError):
        Response(status=status)  # type: ignore[arg-type]


def test_status_line_has_the_reason_phrase() -> None:
    """The WSGI status string is the code, a space and the reason phrase."""
    assert (Response(status=404).status_line, Response(status=599).status_line) == (
        "404 Not Found",
        "599 Unknown",
    )


# ── A Response is a WSGI app (exercise 2.4) ──────────────────────────────────


@pytest.mark.exercise("2.4")
def test_bytes_body_is_sent_with_content_length() -> None:
    """A bytes body is sent whole, with a Content-Length that matches it."""
    reply = call(Response.json({"id": 1}))
    assert (reply.status, reply.body, reply.header("Content-Length")) == (200, b'{"id":1}', "8")


@pytest.mark.exercise("2.4")
def test_content_length_set_by_hand_is_replaced() -> None:
    """A wrong Content-Length set by the handler is replaced by the real one."""
    reply = call(Response(b"four", headers=[("Content-Length", "99")]))
    assert reply.header_list("Content-Length") == ["4"]


@pytest.mark.exercise("2.4")
def test_repeated_headers_are_all_sent() -> None:
    """Headers that repeat (Set-Cookie) reach the server as separate lines."""
    response = Response(b"ok")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    assert len(call(response).header_list("Set-Cookie")) == 2


@pytest.mark.exercise("2.4")
@pytest.mark.filterwarnings("ignore:Content-Length and the number of bytes:Warning")
def test_head_gets_the_headers_and_no_body() -> None:
    """A HEAD request gets the GET headers (Content-Length included) and no body."""
    # werkzeug's lint does not know that HEAD keeps Content-Length with no body; we ignore
    # that one complaint here (RFC 9110 section 9.3.2 allows it).
    reply = call(Response.text("twelve bytes"), "HEAD")
    assert (reply.status, reply.header("Content-Length"), reply.body) == (200, "12", b"")


@pytest.mark.exercise("2.4")
def test_streaming_body_is_passed_through_without_content_length() -> None:
    """An iterable body is sent chunk by chunk as produced, with no Content-Length."""

    def produce() -> Iterator[bytes]:
        yield b"one\n"
        yield b"two\n"

    reply = call(Response(produce(), content_type="application/x-ndjson"))
    assert (reply.chunks, reply.header("Content-Length")) == ([b"one\n", b"two\n"], None)


@pytest.mark.exercise("2.4")
def test_streaming_body_not_sent_to_head_is_closed() -> None:
    """A streaming body that HEAD will not send is closed (it may hold a file)."""
    closed: list[bool] = []

    def produce() -> Iterator[bytes]:
        try:
            yield b"data"
        finally:
            closed.append(True)

    body = produce()
    next(body)  # started, so closing it runs its finally: block
    reply = call(Response(body), "HEAD")
    assert (reply.body, closed) == (b"", [True])


@pytest.mark.exercise("2.4")
def test_304_has_no_body_and_no_content_type() -> None:
    """A 304 sends no body, no Content-Type and no Content-Length."""
    reply = call(Response(b"ignored", 304, [("ETag", '"v1"')]))
    names = {name.lower() for name, _ in reply.headers}
    assert (reply.body, names) == (b"", {"etag"})


@pytest.mark.exercise("2.4")
def test_result_is_a_list_not_bare_bytes() -> None:
    """The body is returned as a list of bytes, never as a bare bytes object."""
    result = Response(b"abc")(make_environ(), lambda status, headers, exc_info=None: None)
    assert result == [b"abc"]


def test_http_error_without_message_uses_the_reason_phrase() -> None:
    """HTTPError(404) says "Not Found"; a status with no standard phrase says "Unknown"."""
    assert (HTTPError(404).message, HTTPError(499).message) == ("Not Found", "Unknown")

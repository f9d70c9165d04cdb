"""The environ (PEP 3333) and wsgi.input, built from parsed bytes without a socket."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from wsgiref.validate import check_environ

import pytest
from rawwsgi.environ import ClientDisconnected, RequestBody, base_environ, build_environ
from rawwsgi.http11 import HTTPError, RequestHead, RequestParser
from rawwsgi.protocol import Environ

CLIENT = ("192.0.2.7", 50123)


def body_for(
    data: bytes,
    *,
    receive: Callable[[], bytes] | None = None,
    send_continue: Callable[[], None] | None = None,
) -> tuple[RequestHead, RequestBody]:
    """Parse a request's head from ``data``; return it and a RequestBody over the rest."""
    parser = RequestParser()
    parser.feed(data)
    head = parser.next_event()
    assert isinstance(head, RequestHead)
    return head, RequestBody(parser, receive or (lambda: b""), head, send_continue=send_continue)


def environ_for(data: bytes) -> Environ:
    head, body = body_for(data)
    return build_environ(head, body, base_environ("127.0.0.1", 8000), CLIENT)


REQUEST = (
    b"POST /caf%C3%A9/a%2Fb?name=wsgi&x=%20 HTTP/1.1\r\n"
    b"Host: example.com\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 5\r\n"
    b"Accept: text/html\r\n"
    b"X-Forwarded-For: 10.0.0.1\r\n"
    b"Accept: */*\r\n"
    b"X_Forwarded_For: 6.6.6.6\r\n"
    b"\r\nhello"
)


@pytest.mark.exercise("1.3")
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("REQUEST_METHOD", "POST"),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", "/cafÃ©/a/b"),  # percent-decoded bytes, decoded as latin-1 (PEP 3333)
        ("QUERY_STRING", "name=wsgi&x=%20"),  # as sent: decoding it is the app's business
        ("RAW_URI", "/caf%C3%A9/a%2Fb?name=wsgi&x=%20"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_PORT", "8000"),
        ("REMOTE_ADDR", "192.0.2.7"),
        ("REMOTE_PORT", "50123"),
        ("CONTENT_TYPE", "text/plain"),
        ("CONTENT_LENGTH", "5"),
        ("HTTP_HOST", "example.com"),
        ("HTTP_ACCEPT", "text/html, */*"),
        ("HTTP_X_FORWARDED_FOR", "10.0.0.1"),
        ("wsgi.version", (1, 0)),
        ("wsgi.url_scheme", "http"),
        ("wsgi.multithread", True),
        ("wsgi.multiprocess", False),
        ("wsgi.run_once", False),
        ("wsgi.input_terminated", True),
    ],
)
def test_build_environ_sets_each_key(key: str, expected: object) -> None:
    """Each CGI and wsgi.* key holds what PEP 3333 says it holds for this request."""
    assert environ_for(REQUEST)[key] == expected


@pytest.mark.exercise("1.3")
@pytest.mark.parametrize("key", ["HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"])
def test_build_environ_keeps_content_headers_out_of_http_keys(key: str) -> None:
    """Content-Type and Content-Length are CONTENT_* keys, never HTTP_CONTENT_*."""
    assert key not in environ_for(REQUEST)


@pytest.mark.exercise("1.3")
def test_build_environ_drops_header_names_with_underscores() -> None:
    """X_Forwarded_For cannot pose as X-Forwarded-For: names with "_" are dropped."""
    assert environ_for(REQUEST)["HTTP_X_FORWARDED_FOR"] == "10.0.0.1"


@pytest.mark.exercise("1.3")
def test_build_environ_omits_content_keys_without_those_headers() -> None:
    """A GET without Content-Type or Content-Length has no CONTENT_* keys at all."""
    environ = environ_for(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert "CONTENT_TYPE" not in environ and "CONTENT_LENGTH" not in environ


@pytest.mark.exercise("1.3")
def test_build_environ_normalizes_a_repeated_content_length() -> None:
    """Content-Length: 5, 5 is CONTENT_LENGTH "5", a number an app can int()."""
    environ = environ_for(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello")
    assert environ["CONTENT_LENGTH"] == "5"


@pytest.mark.exercise("1.3")
def test_build_environ_gives_the_body_as_wsgi_input() -> None:
    """wsgi.input is the request's body: reading it gives the body bytes."""
    assert environ_for(REQUEST)["wsgi.input"].read(5) == b"hello"


@pytest.mark.exercise("1.3")
def test_build_environ_passes_wsgiref_check_environ() -> None:
    """The environ passes wsgiref.validate's own checks, with no warnings."""
    check_environ(environ_for(REQUEST))


@pytest.mark.exercise("1.3")
def test_build_environ_does_not_change_the_base() -> None:
    """The per-server base dict is copied, never filled with one request's keys."""
    base = base_environ("127.0.0.1", 8000)
    before = dict(base)
    head, body = body_for(REQUEST)
    build_environ(head, body, base, CLIENT)
    assert base == before


def test_base_environ_holds_the_constant_keys() -> None:
    """The server-wide keys are computed once: wsgi.errors is the process's stderr."""
    base = base_environ("localhost", 8080)
    assert (base["SERVER_NAME"], base["SERVER_PORT"], base["wsgi.errors"]) == (
        "localhost",
        "8080",
        sys.stderr,
    )


# ── wsgi.input ───────────────────────────────────────────────────────────────

LINES = b"first line\nsecond line\nthird"
POST_LINES = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%b" % (len(LINES), LINES)


def test_input_read_with_a_size_returns_at_most_that_many_bytes() -> None:
    """read(n) returns n bytes while the body lasts, then what is left, then b""."""
    _, body = body_for(POST_LINES)
    assert [body.read(10), body.read(100), body.read(10)] == [
        b"first line",
        b"\nsecond line\nthird",
        b"",
    ]


def test_input_read_without_a_size_returns_the_rest() -> None:
    """read() and read(-1) return the whole rest of the body."""
    _, body = body_for(POST_LINES)
    body.read(6)
    assert body.read() == b"line\nsecond line\nthird"


def test_input_readline_stops_after_each_newline() -> None:
    """readline() returns one line with its b"\\n"; the last line may lack it."""
    _, body = body_for(POST_LINES)
    assert [body.readline(), body.readline(), body.readline(), body.readline()] == [
        b"first line\n",
        b"second line\n",
        b"third",
        b"",
    ]


def test_input_readline_with_a_size_stops_there() -> None:
    """readline(n) returns at most n bytes of the line."""
    _, body = body_for(POST_LINES)
    assert [body.readline(5), body.readline()] == [b"first", b" line\n"]


def test_input_readlines_and_iteration_give_every_line() -> None:
    """readlines() and iterating both give the body's lines."""
    _, first = body_for(POST_LINES)
    _, second = body_for(POST_LINES)
    assert first.readlines() == list(second) == [b"first line\n", b"second line\n", b"third"]


def test_input_reads_exactly_the_body_and_no_more() -> None:
    """The next pipelined request is never returned as body bytes."""
    _, body = body_for(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n"
    )
    assert (body.read(), body.finished) == (b"abc", True)


def test_input_de_chunks_a_chunked_body_received_piece_by_piece() -> None:
    """A chunked body is read through receive() as it arrives, and returned de-chunked."""
    pieces = io.BytesIO(b"4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n")
    _, body = body_for(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        receive=lambda: pieces.read(3),
    )
    assert body.read() == b"wikipedia"


def test_input_raises_client_disconnected_when_the_client_leaves() -> None:
    """A body cut short by the client closing is ClientDisconnected, not a silent short read."""
    _, body = body_for(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(ClientDisconnected):
        body.read()


def test_input_raises_http_error_for_a_malformed_chunk() -> None:
    """A malformed chunked body surfaces as HTTPError(400), remembered as the body's error."""
    _, body = body_for(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    with pytest.raises(HTTPError):
        body.read()
    assert body.error is not None and body.error.status == 400


EXPECTING = b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"


def test_input_asks_for_the_body_on_the_first_read_only() -> None:
    """With Expect: 100-continue, send_continue() runs once, at the first read."""
    calls: list[str] = []
    pieces = iter([b"o", b"k"])
    _, body = body_for(
        EXPECTING, receive=lambda: next(pieces), send_continue=lambda: calls.append("100")
    )
    assert calls == []
    assert (body.read(1), body.read(1), calls) == (b"o", b"k", ["100"])


def test_input_does_not_send_continue_without_expect() -> None:
    """Without Expect: 100-continue, reading never sends 100 Continue."""
    calls: list[str] = []
    _, body = body_for(POST_LINES, send_continue=lambda: calls.append("100"))
    body.read()
    assert calls == []


@pytest.mark.parametrize(
    ("data", "limit", "expected"),
    [
        (POST_LINES, 1000, True),
        (POST_LINES, 5, False),
        (EXPECTING, 1000, False),  # the client still waits for 100 Continue: no body will come
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, True),
    ],
)
def test_input_can_drain_only_a_small_body_already_on_its_way(
    data: bytes, limit: int, expected: bool
) -> None:
    """A body can be drained (to keep the connection) only if it is small and was sent."""
    _, body = body_for(data)
    assert body.can_drain(limit) is expected


def test_input_discard_drops_the_rest_of_the_body() -> None:
    """discard() reads the unread body so that the next request can be parsed."""
    _, body = body_for(POST_LINES)
    body.read(3)
    assert (body.discard(1000), body.finished) == (True, True)

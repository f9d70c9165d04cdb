"""The I/O-free HTTP/1.1 parser and serializer, fed plain bytes (RFC 9112).

No socket anywhere: each test feeds bytes to a RequestParser (often one
byte at a time, the worst a network can do) and checks the events.
"""

from __future__ import annotations

import re

import pytest
from rawwsgi.http11 import (
    LAST_CHUNK,
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    MAX_REQUEST_LINE,
    NEED_DATA,
    Body,
    BodyFraming,
    EndOfRequest,
    Framing,
    HTTPDate,
    HTTPError,
    RequestHead,
    RequestParser,
    encode_chunk,
    error_response,
    format_response_head,
    frame_response,
    list_elements,
    parse_head,
    parse_response_length,
)


def events(data: bytes, *, max_body: int | None = None, step: int | None = None) -> list[object]:
    """Feed ``data`` (all at once, or ``step`` bytes at a time) and collect one request's events."""
    parser = RequestParser(max_body=max_body)
    collected: list[object] = []
    pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        parser.feed(piece)
        while (event := parser.next_event()) is not NEED_DATA:
            collected.append(event)
            if isinstance(event, EndOfRequest):
                return collected
    return collected


def refusal(data: bytes, **options: int) -> int:
    """Return the status of the HTTPError the parser raises for ``data``."""
    with pytest.raises(HTTPError) as caught:
        events(data, **options)
    return caught.value.status


def body_of(collected: list[object]) -> bytes:
    return b"".join(event.data for event in collected if isinstance(event, Body))


# ── The head ─────────────────────────────────────────────────────────────────


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"GET / HTTP/1.1\r\nHost: a",
            RequestHead("GET", "/", "/", "", "HTTP/1.1", [("host", "a")]),
        ),
        (
            b"GET /a%20b?x=1&y HTTP/1.1\r\nHost: a",
            RequestHead("GET", "/a%20b?x=1&y", "/a%20b", "x=1&y", "HTTP/1.1", [("host", "a")]),
        ),
        (b"POST /form HTTP/1.0", RequestHead("POST", "/form", "/form", "", "HTTP/1.0", [])),
        (
            b"GET / HTTP/1.1\r\nHOST:a\r\nX-Tag:  one \t\r\nx-tag: two",
            RequestHead(
                "GET", "/", "/", "", "HTTP/1.1", [("host", "a"), ("x-tag", "one"), ("x-tag", "two")]
            ),
        ),
        (
            b"GET /q? HTTP/1.1\r\nHost: a\r\nX-Empty:",
            RequestHead("GET", "/q?", "/q", "", "HTTP/1.1", [("host", "a"), ("x-empty", "")]),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xe9",
            RequestHead("GET", "/", "/", "", "HTTP/1.1", [("host", "a"), ("x-name", "café")]),
        ),
        (
            b"GET http://example.com/p?q=1 HTTP/1.1\r\nHost: example.com",
            RequestHead(
                "GET",
                "http://example.com/p?q=1",
                "/p",
                "q=1",
                "HTTP/1.1",
                [("host", "example.com")],
            ),
        ),
        (
            b"OPTIONS * HTTP/1.1\r\nHost: a",
            RequestHead("OPTIONS", "*", "*", "", "HTTP/1.1", [("host", "a")]),
        ),
    ],
    ids=[
        "simple",
        "query",
        "http-1.0",
        "case-ows-repeats",
        "empty-value",
        "latin-1",
        "absolute-form",
        "asterisk",
    ],
)
def test_parse_head_reads_valid_heads(data: bytes, expected: RequestHead) -> None:
    """A valid head parses to its method, target, path, query, version and ordered headers."""
    assert parse_head(data) == expected


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET /", 400),
        (b"GET  / HTTP/1.1", 400),
        (b"GET / HTTP/1.1 extra", 400),
        (b"GET / http/1.1", 400),
        (b"GET / HTTP/11", 400),
        (b"G(T / HTTP/1.1", 400),
        (b"GET /a b HTTP/1.1", 400),
        (b"GET /\x7f HTTP/1.1", 400),
        (b"GET /caf\xc3\xa9 HTTP/1.1", 400),
        (b"GET nowhere HTTP/1.1", 400),
        (b"GET /#fragment HTTP/1.1", 400),
        (b"GET / HTTP/2.0", 505),
        (b"GET / HTTP/1.1\r\nHost example.com", 400),
        (b"GET / HTTP/1.1\r\nHost : example.com", 400),
        (b"GET / HTTP/1.1\r\n: empty-name", 400),
        (b"GET / HTTP/1.1\r\nHo(st: a", 400),
        (b"GET / HTTP/1.1\r\nHost: a\x00b", 400),
        (b"GET / HTTP/1.1\r\nHost: a\rb", 400),
        (b"GET / HTTP/1.1\r\nX-Long: a\r\n folded", 400),
        (b"GET / HTTP/1.1\r\n\tfolded: a", 400),
        (b"GET / HTTP/1.1" + b"\r\nX: y" * (MAX_HEADERS + 1), 431),
        (b"GET / HTTP/1.1\nHost: bare-lf", 400),
        (b"GET / HTTP/1.1\r\nHost: a\nX: bare-lf", 400),
    ],
    ids=[
        "no-version",
        "double-space",
        "four-parts",
        "lowercase-version",
        "no-dot",
        "bad-method",
        "space-in-target",
        "control-in-target",
        "raw-utf8-target",
        "relative-target",
        "fragment",
        "http-2",
        "no-colon",
        "space-before-colon",
        "empty-name",
        "bad-name",
        "nul",
        "bare-cr",
        "obs-fold",
        "leading-tab",
        "too-many-headers",
        "bare-lf-after-request-line",
        "bare-lf-after-field",
    ],
)
def test_parse_head_refuses_malformed_heads(data: bytes, status: int) -> None:
    """A malformed request line or header line is refused with the status RFC 9112 gives."""
    with pytest.raises(HTTPError) as caught:
        parse_head(data)
    assert caught.value.status == status


@pytest.mark.exercise("1.2")
def test_parser_returns_the_head_then_the_end_for_a_get() -> None:
    """A GET without a body is a RequestHead followed by EndOfRequest."""
    collected = events(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
    assert [type(event) for event in collected] == [RequestHead, EndOfRequest]
    assert collected[0].path == "/x"


@pytest.mark.exercise("1.2")
def test_parser_needs_data_until_the_empty_line() -> None:
    """The head is not an event until the empty line that ends it has arrived."""
    parser = RequestParser()
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\n")
    assert parser.next_event() is NEED_DATA
    parser.feed(b"\r\n")
    assert isinstance(parser.next_event(), RequestHead)


@pytest.mark.exercise("1.2")
def test_parser_ignores_empty_lines_before_the_request_line() -> None:
    """RFC 9112 §2.2: empty lines before a request line are skipped."""
    collected = events(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(collected[0], RequestHead)


@pytest.mark.exercise("1.2")
def test_parser_accepts_a_request_line_of_the_maximum_length() -> None:
    """A request line of exactly MAX_REQUEST_LINE bytes is accepted."""
    target = b"/" + b"a" * (MAX_REQUEST_LINE - len(b"GET / HTTP/1.1"))
    line = b"GET " + target + b" HTTP/1.1"
    assert len(line) == MAX_REQUEST_LINE
    assert isinstance(events(line + b"\r\nHost: a\r\n\r\n")[0], RequestHead)


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    "ending", [b"\r\nHost: a\r\n\r\n", b""], ids=["complete", "still-arriving"]
)
def test_parser_refuses_a_longer_request_line_with_414(ending: bytes) -> None:
    """A request line over MAX_REQUEST_LINE is 414, even before its end has arrived."""
    line = b"GET /" + b"a" * MAX_REQUEST_LINE + b" HTTP/1.1"
    assert refusal(line + ending) == 414


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize("ending", [b"\r\n\r\n", b"\r\n"], ids=["complete", "still-arriving"])
def test_parser_refuses_a_head_over_the_limit_with_431(ending: bytes) -> None:
    """A head larger than MAX_HEAD_BYTES is 431, even before its end has arrived."""
    fields = b"".join(b"\r\nX-%d: %b" % (n, b"v" * 1000) for n in range(MAX_HEAD_BYTES // 1000 + 1))
    assert refusal(b"GET / HTTP/1.1\r\nHost: a" + fields + ending) == 431


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    ("fields", "status"),
    [
        (b"Content-Length: 3\r\nTransfer-Encoding: chunked", 400),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 3", 400),
        (b"Content-Length: abc", 400),
        (b"Content-Length: -1", 400),
        (b"Content-Length: +3", 400),
        (b"Content-Length: 0x3", 400),
        (b"Content-Length: \xb2", 400),  # "²": str.isdigit() says yes, RFC 9112 says no
        (b"Content-Length: 3\r\nContent-Length: 4", 400),
        (b"Content-Length: 3, 4", 400),
        (b"Transfer-Encoding: gzip", 501),
        (b"Transfer-Encoding: gzip, chunked", 501),
        (b"Transfer-Encoding: chunked, chunked", 400),
        (b"Transfer-Encoding: ,", 400),
    ],
    ids=[
        "cl-then-te",
        "te-then-cl",
        "cl-letters",
        "cl-negative",
        "cl-plus",
        "cl-hex",
        "cl-superscript",
        "cl-conflict",
        "cl-list-conflict",
        "te-gzip",
        "te-gzip-chunked",
        "te-chunked-twice",
        "te-empty",
    ],
)
def test_parser_refuses_ambiguous_body_framing(fields: bytes, status: int) -> None:
    """Framing a server and a proxy could disagree on is refused: 400 (501: unknown coding)."""
    assert refusal(b"POST / HTTP/1.1\r\nHost: a\r\n" + fields + b"\r\n\r\nabc") == status


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ],
    ids=["no-host", "two-hosts", "chunked-http-1.0"],
)
def test_parser_refuses_heads_rfc_9112_calls_invalid(data: bytes, status: int) -> None:
    """An HTTP/1.1 request needs exactly one Host; HTTP/1.0 knows no Transfer-Encoding."""
    assert refusal(data) == status


@pytest.mark.exercise("1.2")
def test_parser_accepts_repeated_identical_content_lengths() -> None:
    """Content-Length: 3, 3 is one length stated twice (RFC 9112 §6.3), not a conflict."""
    collected = events(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc")
    assert body_of(collected) == b"abc"


# ── The head's properties ────────────────────────────────────────────────────


def head(version: str = "HTTP/1.1", *fields: tuple[str, str]) -> RequestHead:
    return RequestHead("GET", "/", "/", "", version, list(fields))


@pytest.mark.parametrize(
    ("version", "fields", "expected"),
    [
        ("HTTP/1.1", [], True),
        ("HTTP/1.1", [("connection", "close")], False),
        ("HTTP/1.1", [("connection", "Upgrade, Close")], False),
        ("HTTP/1.0", [], False),
        ("HTTP/1.0", [("connection", "Keep-Alive")], True),
    ],
)
def test_keep_alive_follows_version_and_connection(
    version: str, fields: list[tuple[str, str]], expected: bool
) -> None:
    """HTTP/1.1 keeps the connection unless "close"; HTTP/1.0 closes unless "keep-alive"."""
    assert head(version, *fields).keep_alive is expected


def test_header_joins_repeated_fields_in_order() -> None:
    """header() joins repeated fields with ", ", in the order they came, and is None if absent."""
    request = head("HTTP/1.1", ("accept", "a"), ("host", "h"), ("accept", "b"))
    assert (request.header("Accept"), request.header("x-missing")) == ("a, b", None)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ([("expect", "100-continue")], True),
        ([("expect", "100-Continue")], True),
        ([], False),
    ],
)
def test_expect_continue_is_read_from_the_expect_header(
    fields: list[tuple[str, str]], expected: bool
) -> None:
    """expect_continue is true for "Expect: 100-continue" (case-insensitive)."""
    assert head("HTTP/1.1", *fields).expect_continue is expected


def test_expect_continue_is_ignored_for_http_1_0() -> None:
    """RFC 9110 §10.1.1: an HTTP/1.0 client never gets a 100 Continue."""
    assert head("HTTP/1.0", ("expect", "100-continue")).expect_continue is False


def test_chunked_means_the_last_coding_is_chunked() -> None:
    """chunked is true when Transfer-Encoding ends in chunked."""
    assert head("HTTP/1.1", ("transfer-encoding", "Chunked")).chunked is True
    assert head("HTTP/1.1").chunked is False


# ── Bodies ───────────────────────────────────────────────────────────────────


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize("step", [None, 1], ids=["at-once", "byte-by-byte"])
def test_parser_reads_a_content_length_body(step: int | None) -> None:
    """A Content-Length body arrives as Body events holding exactly that many bytes."""
    collected = events(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloEXTRA", step=step
    )
    assert body_of(collected) == b"hello"
    assert isinstance(collected[-1], EndOfRequest)


CHUNKED = (
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n"
    b"7;name=value;flag\r\n, chunk\r\n"
    b'1A ; quoted="a;b\\"c"\r\nabcdefghijklmnopqrstuvwxyz\r\n'
    b"0\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\n"
)


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize("step", [None, 1, 7], ids=["at-once", "byte-by-byte", "seven-bytes"])
def test_parser_decodes_a_chunked_body(step: int | None) -> None:
    """Chunks, with extensions and trailers, decode to the body; any split gives the same."""
    collected = events(CHUNKED, step=step)
    assert body_of(collected) == b"hello, chunkabcdefghijklmnopqrstuvwxyz"
    assert isinstance(collected[-1], EndOfRequest)


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b" 5\r\nhello\r\n0\r\n\r\n",
        b"\r\nhello\r\n0\r\n\r\n",
        b"5;\r\nhello\r\n0\r\n\r\n",
        b'5;a="open\r\nhello\r\n0\r\n\r\n',
        b"5\r\nhelloXX0\r\n\r\n",
        b"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n",
        b"11111111111111111\r\n",
        b"5;" + b"a" * 5000 + b"\r\nhello\r\n0\r\n\r\n",
    ],
    ids=[
        "not-hex",
        "negative",
        "0x-prefix",
        "leading-space",
        "empty-size",
        "empty-extension",
        "unterminated-quote",
        "no-crlf-after-data",
        "bad-trailer",
        "size-overflow",
        "huge-extension",
    ],
)
def test_parser_refuses_malformed_chunks(chunks: bytes) -> None:
    """A malformed chunk size, extension, data terminator or trailer is 400."""
    data = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
    assert refusal(data) == 400


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    "data",
    [
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\n"
        b"world\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
def test_parser_refuses_a_body_over_max_body_with_413(data: bytes) -> None:
    """A body larger than max_body is 413, however it is framed."""
    assert refusal(data, max_body=10) == 413


@pytest.mark.exercise("1.2")
def test_parser_keeps_pipelined_requests_for_after_start_next_request() -> None:
    """Two requests in one packet: the second is parsed after start_next_request()."""
    parser = RequestParser()
    parser.feed(
        b"POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /two HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    first = [parser.next_event(), parser.next_event(), parser.next_event()]
    parser.start_next_request()
    second = [parser.next_event(), parser.next_event()]
    assert [first[0].path, first[1], second[0].path, second[1]] == [
        "/one",
        Body(b"abc"),
        "/two",
        EndOfRequest(),
    ]
    parser.start_next_request()
    assert parser.next_event() is NEED_DATA


# ── The parser's own rules ───────────────────────────────────────────────────


def test_start_next_request_before_the_end_is_an_error() -> None:
    """start_next_request() is only allowed once EndOfRequest was returned."""
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n")
    parser.next_event()
    with pytest.raises(RuntimeError):
        parser.start_next_request()


def test_next_event_after_the_end_needs_start_next_request() -> None:
    """After EndOfRequest, next_event() is an error until start_next_request()."""
    parser = RequestParser()
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    parser.next_event(), parser.next_event()
    with pytest.raises(RuntimeError):
        parser.next_event()


def test_a_clean_close_between_requests_is_not_an_error() -> None:
    """A peer that closes with no request in progress just closes: NEED_DATA, closed."""
    parser = RequestParser()
    parser.feed(b"")
    assert (parser.next_event(), parser.closed) == (NEED_DATA, True)


@pytest.mark.parametrize(
    "data",
    [b"GET / HT", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc"],
    ids=["mid-head", "mid-body"],
)
def test_a_close_in_the_middle_of_a_request_is_400(data: bytes) -> None:
    """A peer that closes half-way through a request has sent a bad request."""
    parser = RequestParser()
    parser.feed(data)
    with pytest.raises(HTTPError) as caught:
        while parser.next_event() is not NEED_DATA:
            pass
        parser.feed(b"")
        parser.next_event()
    assert caught.value.status == 400


def test_an_error_is_raised_again_on_every_call() -> None:
    """After an HTTPError the parser stays broken: the next call raises the same error."""
    parser = RequestParser()
    parser.feed(b"BAD\r\n\r\n")
    with pytest.raises(HTTPError) as first:
        parser.next_event()
    with pytest.raises(HTTPError) as second:
        parser.next_event()
    assert second.value is first.value


def test_max_body_must_not_be_negative() -> None:
    """A negative max_body is a configuration error."""
    with pytest.raises(ValueError):
        RequestParser(max_body=-1)


# ── The response side ────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, b"HTTP/1.1 200 OK\r\n"),
        (404, b"HTTP/1.1 404 Not Found\r\n"),
        ("201 Made", b"HTTP/1.1 201 Made\r\n"),
        (299, b"HTTP/1.1 299 \r\n"),
    ],
)
def test_format_response_head_writes_the_status_line(status: int | str, expected: bytes) -> None:
    """An int status gets its standard reason phrase; a str status is sent as given."""
    assert format_response_head(status, []) == expected + b"\r\n"


def test_format_response_head_writes_headers_in_order() -> None:
    """Header fields are written in order, repeats kept, ending with an empty line."""
    head = format_response_head(
        200, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Name", "café")]
    )
    assert (
        head == b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Name: caf\xe9\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (200, [("X-Split", "a\r\nSet-Cookie: evil=1")]),
        (200, [("X-Split", "a\nb")]),
        (200, [("X-Nul", "a\x00b")]),
        (200, [("Bad Name", "x")]),
        (200, [("X:Colon", "x")]),
        (200, [("X-Emoji", "🙂")]),
        (99, []),
        (600, []),
        ("200", []),
        ("OK 200", []),
        ("200 OK\r\nX: y", []),
    ],
)
def test_format_response_head_refuses_what_would_corrupt_the_response(
    status: int | str, headers: list[tuple[str, str]]
) -> None:
    """CR, LF or NUL in a value, a bad name, a non-latin-1 value or a bad status is ValueError."""
    with pytest.raises(ValueError):
        format_response_head(status, headers)


def test_encode_chunk_frames_bytes_with_their_hex_size() -> None:
    """A chunk is its size in hex, CRLF, the bytes, CRLF; the last chunk is size 0."""
    assert encode_chunk(b"hello") == b"5\r\nhello\r\n"
    assert encode_chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"
    assert LAST_CHUNK == b"0\r\n\r\n"


def test_encode_chunk_refuses_empty_bytes() -> None:
    """An empty chunk would end the body early: use LAST_CHUNK for that."""
    with pytest.raises(ValueError):
        encode_chunk(b"")


def test_error_response_is_complete_plain_text_that_closes() -> None:
    """error_response is a whole response: status, length, Connection: close, the message."""
    response = error_response(431, "request head too large")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"\r\nConnection: close" in head
    assert b"\r\nContent-Length: %d" % len(body) in head
    assert body == b"request head too large\n"


# ── Request smuggling and Host: whole classes of input (README: "Request smuggling") ──

#: Characters Python's str.strip() and str.split() treat as whitespace in latin-1 text
#: that HTTP does not: optional whitespace is SP and HTAB only (RFC 9110 §5.6.3).
NOT_HTTP_WHITESPACE = ["\x85", "\xa0"]


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize("space", NOT_HTTP_WHITESPACE, ids=["nel", "nbsp"])
@pytest.mark.parametrize(
    "template",
    [
        "Transfer-Encoding: {s}chunked",
        "Transfer-Encoding: chunked{s}",
        "Transfer-Encoding: gzip,{s}chunked",
        "Content-Length: {s}3",
        "Content-Length: 3{s}",
        "Content-Length: 3,{s}3",
    ],
    ids=["te-before", "te-after", "te-list", "cl-before", "cl-after", "cl-list"],
)
def test_parser_trims_only_sp_and_htab_from_framing_fields(template: str, space: str) -> None:
    """Neither "\\xa0chunked" nor "\\xa03" frames a body: 400 (RFC 9112 §6.1, §6.3; 9110 §5.6.3)."""
    field = template.format(s=space).encode("latin-1")
    assert (
        refusal(b"POST / HTTP/1.1\r\nHost: a\r\n" + field + b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n") == 400
    )


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    "field", [b"Transfer-Encoding: \t chunked \t", b"Content-Length:\t3 , 3\t"], ids=["te", "cl"]
)
def test_parser_trims_sp_and_htab_from_framing_fields(field: bytes) -> None:
    """SP and HTAB around a field value or a list element are optional whitespace: accepted."""
    body = b"3\r\nabc\r\n0\r\n\r\n" if b"chunked" in field else b"abc"
    assert body_of(events(b"POST / HTTP/1.1\r\nHost: a\r\n" + field + b"\r\n\r\n" + body)) == b"abc"


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
            b"Transfer-Encoding: gzip\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 123456789012345678901\r\n\r\n", 413),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0000000000000000000000005\r\n\r\nabcde",
            None,
        ),
        (b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: \xa0a\r\n\r\n", 400),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n"
            b"Useless:\n\nGET /echo?smuggled=1 HTTP/1.1\nHost: a\r\n\r\n",
            400,
        ),
        (b"GET / HTTP/1.1\r\nHost: a\n\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\n\r\n", 400),
        (b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 8192 + b"\r\n\r\n", 431),
    ],
    ids=[
        "chunked-not-final",
        "chunked-then-gzip-fields",
        "chunked-with-parameter",
        "identity",
        "cl-21-digits",
        "cl-leading-zeros-ok",
        "two-hosts-http-1.0",
        "two-hosts-any-case",
        "host-space",
        "host-slash",
        "host-userinfo",
        "host-bad-port",
        "host-nbsp",
        "asterisk-get",
        "bare-lf-smuggling",
        "bare-lf-end",
        "bare-lf-before-crlf",
        "bare-lf-before-request-line",
        "field-over-8-kib",
    ],
)
def test_parser_refuses_what_a_proxy_could_read_otherwise(data: bytes, status: int | None) -> None:
    """Each smuggling or Host input gets the status its RFC section gives (the README's table)."""
    if status is None:
        assert body_of(events(data)) == b"abcde"
    else:
        assert refusal(data) == status


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    "host",
    [
        b"",
        b"example.com",
        b"example.com:8080",
        b"127.0.0.1:80",
        b"[::1]:8000",
        b"xn--caf-dma.example",
        b"a%20b",
        b"a:",
    ],
)
def test_parser_accepts_every_form_of_host(host: bytes) -> None:
    """Host = uri-host [":" port]: names, IPv4, IPv6 literals, an empty value (RFC 9112 §3.2)."""
    assert isinstance(events(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")[0], RequestHead)


@pytest.mark.exercise("1.2")
def test_parser_accepts_asterisk_form_for_options_and_a_field_line_of_8_kib() -> None:
    """OPTIONS * is the asterisk-form's use (RFC 9112 §3.2.4); 8192 bytes: longest field line."""
    line = b"X-Big: " + b"b" * (8192 - len(b"X-Big: "))
    collected = events(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n" + line + b"\r\n\r\n")
    assert (collected[0].target, len(collected[0].header("x-big"))) == ("*", 8185)


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize(
    "name",
    [
        b"Content-Length",
        b"Transfer-Encoding",
        b"Host",
        b"Authorization",
        b"content-type",
        b"Trailer",
    ],
)
def test_parser_refuses_a_field_forbidden_in_trailers(name: bytes) -> None:
    """Framing, routing, authentication and content fields cannot be trailers (RFC 9110 §6.5.1)."""
    data = (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n" + name + b": 5\r\n\r\n"
    )
    assert refusal(data) == 400


def test_list_elements_splits_on_commas_and_trims_sp_and_htab_only() -> None:
    """RFC 9110 §5.6.1: empty elements vanish; "\\xa0" is not whitespace and stays."""
    assert list_elements(" a ,\tB,, \xa0c\x85 ,") == ["a", "B", "\xa0c\x85"]
    assert list_elements(None) == list_elements("") == []


@pytest.mark.parametrize(
    ("data", "skippable"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", False),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", False),
    ],
    ids=["no-body", "small-rest", "large-rest", "chunked-rest"],
)
def test_can_skip_body_only_for_a_known_small_rest(data: bytes, skippable: bool) -> None:
    """A server can promise keep-alive only if the unread body has a known, small size."""
    parser = RequestParser()
    parser.feed(data)
    parser.next_event()
    assert parser.can_skip_body(10) is skippable


# ── The framing decision, on plain values (one function for both servers) ──


@pytest.mark.parametrize(
    ("method", "version", "status", "declared", "known", "keep_alive", "expected"),
    [
        ("GET", "HTTP/1.1", 200, None, 5, True, (BodyFraming.CONTENT_LENGTH, 5, True)),
        ("GET", "HTTP/1.1", 200, 7, None, True, (BodyFraming.CONTENT_LENGTH, 7, True)),
        ("GET", "HTTP/1.1", 200, 7, 5, True, (BodyFraming.CONTENT_LENGTH, 7, True)),
        ("GET", "HTTP/1.1", 200, None, None, True, (BodyFraming.CHUNKED, None, True)),
        ("GET", "HTTP/1.0", 200, None, None, True, (BodyFraming.CLOSE, None, False)),
        ("GET", "HTTP/1.0", 200, None, 5, True, (BodyFraming.CONTENT_LENGTH, 5, True)),
        ("HEAD", "HTTP/1.1", 200, None, 13, True, (BodyFraming.NONE, 13, True)),
        ("HEAD", "HTTP/1.1", 200, 20, None, True, (BodyFraming.NONE, 20, True)),
        ("HEAD", "HTTP/1.0", 200, None, None, True, (BodyFraming.NONE, None, True)),
        ("GET", "HTTP/1.1", 204, 5, 5, True, (BodyFraming.NONE, None, True)),
        ("GET", "HTTP/1.1", 304, 5, None, True, (BodyFraming.NONE, None, True)),
        ("GET", "HTTP/1.1", 101, None, None, True, (BodyFraming.NONE, None, True)),
        ("POST", "HTTP/1.1", 200, None, 5, False, (BodyFraming.CONTENT_LENGTH, 5, False)),
        ("POST", "HTTP/1.1", 200, None, None, False, (BodyFraming.CHUNKED, None, False)),
    ],
)
def test_frame_response_follows_the_table(
    method: str,
    version: str,
    status: int,
    declared: int | None,
    known: int | None,
    keep_alive: bool,
    expected: tuple[BodyFraming, int | None, bool],
) -> None:
    """frame_response() gives each row of RFC 9112 §6.3's table, and never keep-alive for CLOSE."""
    framing = frame_response(
        method, version, status, declared_length=declared, known_length=known, keep_alive=keep_alive
    )
    assert (framing.body, framing.length, framing.keep_alive) == expected


@pytest.mark.parametrize(
    ("framing", "version", "expected"),
    [
        (Framing(BodyFraming.CONTENT_LENGTH, 5, True), "HTTP/1.1", [("Content-Length", "5")]),
        (Framing(BodyFraming.CHUNKED, None, True), "HTTP/1.1", [("Transfer-Encoding", "chunked")]),
        (
            Framing(BodyFraming.CHUNKED, None, False),
            "HTTP/1.1",
            [("Transfer-Encoding", "chunked"), ("Connection", "close")],
        ),
        (
            Framing(BodyFraming.CONTENT_LENGTH, 0, True),
            "HTTP/1.0",
            [("Content-Length", "0"), ("Connection", "keep-alive")],
        ),
        (Framing(BodyFraming.CLOSE, None, False), "HTTP/1.0", [("Connection", "close")]),
        (Framing(BodyFraming.NONE, None, True), "HTTP/1.1", []),
    ],
)
def test_framing_headers_say_how_the_body_ends_and_whether_we_close(
    framing: Framing, version: str, expected: list[tuple[str, str]]
) -> None:
    """The head states the framing, and "close" whenever the server will close (RFC 9112 §9.6)."""
    assert framing.headers(version) == expected


@pytest.mark.parametrize(("values", "expected"), [([], None), (["12"], 12), (["3", "3"], 3)])
def test_parse_response_length_reads_the_apps_content_length(
    values: list[str], expected: int | None
) -> None:
    assert parse_response_length(values) == expected


@pytest.mark.parametrize("values", [["-1"], ["1 2"], ["\xb2"], ["3", "4"], [""]])
def test_parse_response_length_refuses_what_no_client_could_frame(values: list[str]) -> None:
    with pytest.raises(ValueError):
        parse_response_length(values)


def test_http_date_is_an_imf_fixdate() -> None:
    """The Date header's value is an IMF-fixdate (RFC 9110 §5.6.7)."""
    assert re.fullmatch(
        r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", HTTPDate().now()
    )

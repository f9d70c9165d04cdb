"""HTTP/1.1 without sockets: parse requests from bytes, serialize responses to bytes.

This module does no I/O at all (the "sans-I/O" style of h11 and Werkzeug's
``sansio`` package). A server reads bytes from wherever it likes, hands
them to a :class:`RequestParser`, and asks for events::

    parser = RequestParser()
    parser.feed(b"POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\n\\r\\nhello")
    parser.next_event()  # RequestHead(method="POST", target="/echo", ...)
    parser.next_event()  # Body(data=b"hello")
    parser.next_event()  # EndOfRequest()
    parser.next_event()  # -> RuntimeError until start_next_request()

Because nothing here touches a socket, the same parser serves the blocking
threaded server of stage 01 and the asyncio server of stage 04, and every
rule of RFC 9112 can be tested with plain bytes.

Reading order: the limits and :class:`HTTPError`; the grammar (regular
expressions named after the RFC's rules); :class:`RequestHead` and the
events; :func:`parse_head`; :class:`RequestParser`; then the response side.
"""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Final

# ── Limits ───────────────────────────────────────────────────────────────────
# RFC 9112 sets no limits; every real server does, or one client could make
# it buffer gigabytes. These are the values nginx and gunicorn use.

MAX_REQUEST_LINE: Final = 8190  # longer request line -> 414 URI Too Long
MAX_HEAD_BYTES: Final = 65536  # bigger request line + headers -> 431
MAX_HEADERS: Final = 100  # more header fields -> 431
MAX_FIELD_LINE: Final = 8192  # one longer header field line -> 431 (nginx's 8 KiB buffer)
MAX_CHUNK_LINE: Final = 4096  # a chunk-size line with its extensions
#: A Content-Length of more digits than this is refused with 413 before any body is
#: read: 18 digits is an exabyte, and every such length still fits a 64-bit integer.
MAX_LENGTH_DIGITS: Final = 18


class HTTPError(Exception):
    """A request the server must refuse, with the status code to refuse it with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


# ── The grammar (RFC 9110 §5.6, RFC 9112 §3, §5, §7.1) ───────────────────────
# Each rule of the RFC's ABNF becomes a regular expression. Matching a whole
# line with one compiled pattern is both the strictest and the fastest way
# to check it in Python: the loop over characters runs in C.

#: token = 1*tchar (RFC 9110 §5.6.2), the ABNF fragment the line patterns are built from.
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
#: field-value: visible ASCII and obs-text, with single spaces or tabs inside.
_FIELD_VALUE = rb"(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?"
_QUOTED_STRING = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'

#: request-line = method SP request-target SP HTTP-version
REQUEST_LINE: Final = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) (HTTP/[0-9]\.[0-9])")
#: field-line = field-name ":" OWS field-value OWS
HEADER_LINE: Final = re.compile(rb"(" + _TOKEN + rb"):[ \t]*(" + _FIELD_VALUE + rb")[ \t]*")
#: chunk-size [ chunk-ext ], where chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
CHUNK_LINE: Final = re.compile(
    rb"([0-9A-Fa-f]{1,16})"
    rb"(?:[ \t]*;[ \t]*"
    + _TOKEN
    + rb"(?:[ \t]*=[ \t]*(?:"
    + _TOKEN
    + rb"|"
    + _QUOTED_STRING
    + rb"))?)*"
    rb"[ \t]*"
)
#: The empty line that ends a head. The search also finds a bare LF, so that a head
#: ending in one is refused at once (see _check_line_ends) rather than waited for.
_HEAD_END = re.compile(rb"\r?\n\r?\n")
#: Empty lines (CRLF) before a request line, which RFC 9112 §2.2 says to skip.
_LEADING_CRLFS = re.compile(rb"(?:\r\n)*")
#: OWS = *( SP / HTAB ) (RFC 9110 §5.6.3): the only whitespace HTTP has. Never call
#: str.strip() or str.split() without arguments on a field value: on latin-1 text they
#: also remove \xa0, \x85, \x1c... and "\xa0chunked" would pass for "chunked".
OWS: Final = " \t"
_DIGITS = re.compile(r"[0-9]+")  # 1*DIGIT, ASCII only: "²".isdigit() is True in Python
#: Host = uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2): an IP-literal in
#: brackets, or a reg-name (which covers IPv4 addresses); the value may be empty.
_HOST = re.compile(
    r"(?:\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]"
    r"|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)"
    r"(?::[0-9]*)?"
)
#: token (RFC 9110 §5.6.2) as text: a method (§9.1), a field name (§5.1), a
#: transfer coding (§10.1.4). The one definition stages 02 and 03 import
#: (through :func:`is_token`); 05 and 06 stand alone and write the same line.
TOKEN: Final = re.compile(_TOKEN.decode("ascii"))
#: What a field value we send must never hold (RFC 9110 §5.5): CR, LF, NUL and
#: every other control but HTAB. field-vchar is VCHAR / obs-text, with SP and
#: HTAB inside; a CR or LF would end the field early (response splitting).
FORBIDDEN_IN_VALUE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_STATUS = re.compile(r"([1-5][0-9][0-9]) ([\t\x20-\x7e\x80-\xff]*)")

SUPPORTED_VERSIONS: Final = ("HTTP/1.1", "HTTP/1.0")

#: Fields that must not come in a trailer section, because a recipient must act on
#: them before the content (RFC 9110 §6.5.1): framing (§6.4, RFC 9112 §6), routing
#: (§7.2), request modifiers (§7.6, §10.1, §13, §14.2), authentication (§11),
#: content format (§8.3-§8.6), and cookies (RFC 6265). A proxy that merged such
#: a trailer into the head would see another request than ours: refused with 400.
FORBIDDEN_TRAILERS: Final = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "trailer",
        "te",
        "host",
        "connection",
        "keep-alive",
        "upgrade",
        "proxy-connection",
        "expect",
        "max-forwards",
        "range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "if-range",
        "cache-control",
        "pragma",
        "authorization",
        "proxy-authorization",
        "cookie",
        "content-type",
        "content-encoding",
        "content-range",
        "content-language",
    }
)


# ── The request head and the parser's events ─────────────────────────────────


@dataclass(frozen=True)
class RequestHead:
    """A request's method, target, version and header fields, as parsed."""

    method: str  # "GET"
    target: str  # the request-target as sent: "/a%20b?x=1"
    path: str  # its path, still percent-encoded: "/a%20b"
    query: str  # what follows "?", or ""
    version: str  # "HTTP/1.1" or "HTTP/1.0"
    headers: list[tuple[str, str]]  # lowercased names, latin-1 values, in order, repeats kept

    def header(self, name: str) -> str | None:
        """Return a field's value, repeated fields joined with ", "; None if absent.

        RFC 9110 §5.3: a recipient may combine repeated fields into one by
        joining their values with commas, in order (except Set-Cookie, which
        only responses carry).
        """
        name = name.lower()
        values = [value for field, value in self.headers if field == name]
        return ", ".join(values) if values else None

    @property
    def keep_alive(self) -> bool:
        """Return whether the client wants the connection kept open after this request.

        HTTP/1.1 is persistent unless the client says "Connection: close";
        HTTP/1.0 closes unless it says "Connection: keep-alive" (RFC 9112 §9.3).
        """
        tokens = _tokens(self.header("connection"))
        if "close" in tokens:
            return False
        return self.version == "HTTP/1.1" or "keep-alive" in tokens

    @property
    def content_length(self) -> int | None:
        """Return the Content-Length as an int, None if absent; HTTPError(400) if invalid."""
        values = [value for field, value in self.headers if field == "content-length"]
        return parse_content_length(values) if values else None

    @property
    def chunked(self) -> bool:
        """Return whether the body is sent in chunks: Transfer-Encoding ends in chunked."""
        codings = _tokens(self.header("transfer-encoding"))
        return bool(codings) and codings[-1] == "chunked"

    @property
    def expect_continue(self) -> bool:
        """Return whether an HTTP/1.1 client waits for "100 Continue" before its body.

        RFC 9110 §10.1.1: a server must not send 100 Continue to an HTTP/1.0 client.
        """
        expect = self.header("expect")
        return (
            self.version == "HTTP/1.1" and expect is not None and expect.lower() == "100-continue"
        )


@dataclass(frozen=True)
class Body:
    """A piece of the request body, already de-chunked."""

    data: bytes


@dataclass(frozen=True)
class EndOfRequest:
    """The request body is complete (or there was none)."""


class NeedData:
    """The type of NEED_DATA: the parser needs more bytes before the next event."""

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by RequestParser.next_event() when it must be fed more bytes.
NEED_DATA: Final = NeedData()

Event = RequestHead | Body | EndOfRequest


def list_elements(value: str | None) -> list[str]:
    """Split a comma-separated field value into its elements, OWS removed: "a, B" -> ["a", "B"].

    RFC 9110 §5.6.1: elements are separated by "," with optional whitespace
    (SP and HTAB only, §5.6.3) around it; empty elements are ignored. Any
    other character, "\xa0" included, stays part of its element.
    """
    if not value:
        return []
    return [element for item in value.split(",") if (element := item.strip(OWS))]


def _tokens(value: str | None) -> list[str]:
    """Split a comma-separated field value into lowercased elements: "a, B" -> ["a", "b"]."""
    return [element.lower() for element in list_elements(value)]


def is_token(text: str) -> bool:
    """Return whether ``text`` is a token (RFC 9110 §5.6.2): "chunked" yes, "\xa0chunked" no."""
    return TOKEN.fullmatch(text) is not None


def parse_content_length(values: list[str]) -> int:
    """Return the one length the Content-Length fields state, or raise HTTPError.

    ["5"] -> 5 and ["5, 5"] -> 5 (identical repeats are allowed, RFC 9112
    §6.3), but ["5", "6"], ["-1"], ["+5"], ["0x5"], ["٥"] and ["\xa05"] are
    refused with 400, and a length of more than MAX_LENGTH_DIGITS digits
    with 413 (RFC 9110 §15.5.14): no server could take that body.
    """
    lengths = {item.strip(OWS) for value in values for item in value.split(",")}
    if len(lengths) != 1:
        raise HTTPError(400, "conflicting Content-Length values")
    (length,) = lengths
    if _DIGITS.fullmatch(length) is None:
        raise HTTPError(400, f"invalid Content-Length: {length!r}")
    if len(length.lstrip("0")) > MAX_LENGTH_DIGITS:
        raise HTTPError(413, f"Content-Length of more than {MAX_LENGTH_DIGITS} digits")
    return int(length)


def split_target(target: str) -> tuple[str, str]:
    """Split a request-target into its raw path and query: "/a?x=1" -> ("/a", "x=1").

    Accepts the origin form ("/a?x=1"), the absolute form a proxy would send
    ("http://host/a?x=1", RFC 9112 §3.2.2, whose path is kept) and the
    asterisk form ("*", for OPTIONS). Anything else is HTTPError(400).
    """
    if "#" in target:
        raise HTTPError(400, "a request-target cannot contain a fragment (#)")
    if target.startswith("/") or target == "*":
        path, _, query = target.partition("?")
        return path, query
    scheme, separator, rest = target.partition("://")
    if separator and scheme.lower() in ("http", "https") and rest:
        path_start = min(
            (index for index in (rest.find("/"), rest.find("?")) if index >= 0), default=len(rest)
        )
        path, _, query = rest[path_start:].partition("?")
        return path or "/", query
    raise HTTPError(400, f"invalid request-target: {target!r}")


def parse_head(data: bytes) -> RequestHead:
    """Parse a request line and header lines into a RequestHead, or raise HTTPError.

    ``data`` is the head without the empty line that ends it::

        b"GET /a%20b?x=1 HTTP/1.1\\r\\nHost: example.com\\r\\nAccept: */*"
        -> RequestHead(method="GET", target="/a%20b?x=1", path="/a%20b", query="x=1",
                       version="HTTP/1.1", headers=[("host", "example.com"), ("accept", "*/*")])
    """
    # EXERCISE 1.2: Parse the request head
    lines = data.split(b"\r\n")
    request_line = lines[0]
    match = REQUEST_LINE.fullmatch(request_line)
    if match is None:
        raise HTTPError(400, "malformed request line")
    method, target, version = (part.decode("ascii") for part in match.groups())
    if version not in SUPPORTED_VERSIONS:
        raise HTTPError(505, f"{version} is not supported")
    path, query = split_target(target)
    if len(lines) - 1 > MAX_HEADERS:
        raise HTTPError(431, f"more than {MAX_HEADERS} header fields")
    headers = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            raise HTTPError(400, "obsolete line folding is not accepted")
        field = HEADER_LINE.fullmatch(line)
        if field is None:
            raise HTTPError(400, "malformed header line")
        headers.append((field[1].decode("ascii").lower(), field[2].decode("latin-1")))
    return RequestHead(method, target, path, query, version, headers)
    # END EXERCISE


def check_head(head: RequestHead) -> None:
    """Refuse a head whose target, Host or message framing is invalid (RFC 9112 §3.2, §6).

    These are the checks that stop request smuggling: a server and a proxy
    in front of it must never disagree on where one request ends, or on
    which site it is for. Each raises HTTPError:

    - the asterisk-form target ``*`` with a method other than OPTIONS: 400 (§3.2.4);
    - more than one Host, none in HTTP/1.1, or one that is not
      ``uri-host [":" port]``: 400 (§3.2, RFC 9110 §7.2);
    - both Content-Length and Transfer-Encoding: 400 (§6.3 item 3);
    - an invalid Content-Length: 400 (§6.3 item 5), 413 if absurdly long;
    - Transfer-Encoding in HTTP/1.0: 400 (§6.1);
    - Transfer-Encoding whose elements are not tokens, or where chunked is
      not the final coding, or appears twice: 400 (§6.3 item 4, §7);
    - a transfer coding other than chunked: 501 (§6.1).
    """
    if head.target == "*" and head.method != "OPTIONS":
        raise HTTPError(400, "the asterisk-form target * is only for OPTIONS")
    hosts = [value for field, value in head.headers if field == "host"]
    if len(hosts) > 1:
        raise HTTPError(400, "more than one Host header")
    if not hosts and head.version == "HTTP/1.1":
        raise HTTPError(400, "an HTTP/1.1 request needs a Host header")
    if hosts and _HOST.fullmatch(hosts[0]) is None:
        raise HTTPError(400, f"invalid Host: {hosts[0]!r}")
    lengths = [value for field, value in head.headers if field == "content-length"]
    transfer_encoding = head.header("transfer-encoding")
    if transfer_encoding is None:
        if lengths:
            parse_content_length(lengths)  # raises HTTPError(400) if invalid
        return
    if lengths:
        raise HTTPError(400, "both Content-Length and Transfer-Encoding")
    if head.version == "HTTP/1.0":
        raise HTTPError(400, "Transfer-Encoding in an HTTP/1.0 request")
    codings = list_elements(transfer_encoding)
    if not codings or not all(map(is_token, codings)):
        raise HTTPError(400, f"invalid Transfer-Encoding: {transfer_encoding!r}")
    codings = [coding.lower() for coding in codings]
    if "chunked" in codings and (codings[-1] != "chunked" or codings.count("chunked") > 1):
        raise HTTPError(400, "chunked must be the final transfer coding, and only once")
    unknown = [coding for coding in codings if coding != "chunked"]
    if unknown:
        raise HTTPError(501, f"unsupported transfer coding: {unknown[0]}")


def _check_lines(data: bytes, ending: bytes) -> None:
    """Refuse a head with a bare LF (400) or a field line over MAX_FIELD_LINE (431).

    ``data`` is the head, ``ending`` the line ends that closed it. RFC 9112
    §2.2 lets a recipient accept a bare LF as a line end, but a proxy that
    does not would read the rest of the line as part of a field value, and
    the two would disagree on where the request ends. We take the safe side,
    as gunicorn and uvicorn now do: lines end in CRLF, nothing else.
    """
    if ending != b"\r\n\r\n" or data.count(b"\n") != data.count(b"\r\n"):
        raise HTTPError(400, "a bare LF in the request head: lines must end in CRLF")
    # PERF: only a head longer than the limit can hold a line longer than it.
    if len(data) > MAX_FIELD_LINE and max(map(len, data.split(b"\r\n"))) > MAX_FIELD_LINE:
        raise HTTPError(431, f"a header field line longer than {MAX_FIELD_LINE} bytes")


# ── The parser ───────────────────────────────────────────────────────────────

# What the parser expects next.
_HEAD = "head"
_LENGTH_BODY = "length body"  # `_remaining` bytes of a Content-Length body
_CHUNK_SIZE = "chunk size"  # a chunk-size line
_CHUNK_DATA = "chunk data"  # `_remaining` bytes of the current chunk
_CHUNK_END = "chunk end"  # the CRLF after a chunk's data
_TRAILERS = "trailers"  # trailer field lines up to an empty line
_END = "end"  # EndOfRequest is the next event
_DONE = "done"  # EndOfRequest was returned: start_next_request() comes next


class RequestParser:
    """Turn the bytes of one connection into request events, one request after another.

    ``feed()`` bytes as they arrive (``b""`` when the peer closes), then
    call ``next_event()`` until it returns NEED_DATA. Events come in the
    order RequestHead, Body*, EndOfRequest; after EndOfRequest, call
    ``start_next_request()`` to parse the next request on a kept-alive
    connection: bytes already received for it (pipelining) are kept.
    """

    def __init__(self, *, max_body: int | None = None) -> None:
        if max_body is not None and max_body < 0:
            raise ValueError(f"max_body must be None or >= 0, not {max_body}")
        self._max_body = max_body
        self._buffer = bytearray()
        self._closed = False
        self._state = _HEAD
        self._scanned = 0  # how much of the buffer is known to hold no head end
        self._remaining = 0
        self._body_size = 0
        self._trailer_bytes = 0
        self._trailer_count = 0
        self._error: HTTPError | None = None

    @property
    def closed(self) -> bool:
        """Return whether the peer closed its side (``feed(b"")`` was called)."""
        return self._closed

    def feed(self, data: bytes) -> None:
        """Add bytes received from the peer; ``b""`` means the peer closed its side."""
        if not data:
            self._closed = True
        elif self._closed:
            raise RuntimeError("feed() after the peer closed the connection")
        else:
            self._buffer += data

    def can_skip_body(self, limit: int) -> bool:
        """Return whether the rest of this request's body is known to be at most ``limit`` bytes.

        A server that answers without reading the whole body must read and
        drop the rest to find the next request, and it must decide whether
        it will before the response's head goes out (the head says
        ``Connection: close`` if not, RFC 9112 §9.6). True when the body is
        complete or a Content-Length body has at most ``limit`` bytes left;
        False for a chunked body still arriving (its size is unknown) or a
        parser that already refused the request.
        """
        if self._error is not None:
            return False
        if self._state in (_HEAD, _END, _DONE):
            return True
        return self._state == _LENGTH_BODY and self._remaining <= limit

    def start_next_request(self) -> None:
        """Get ready for the next request on this connection, keeping unread bytes."""
        if self._state != _DONE:
            raise RuntimeError(f"start_next_request() before EndOfRequest (state: {self._state})")
        self._state = _HEAD
        self._scanned = 0
        self._body_size = self._trailer_bytes = self._trailer_count = 0

    def next_event(self) -> Event | NeedData:
        """Return the next event, or NEED_DATA; raise HTTPError for a bad request.

        After an HTTPError the connection cannot be trusted to find the start
        of the next request: the same error is raised again on every call.
        """
        if self._error is not None:
            raise self._error
        try:
            return self._next_event()
        except HTTPError as error:
            self._error = error
            raise

    def _next_event(self) -> Event | NeedData:
        state = self._state
        if state == _HEAD:
            return self._read_head()
        if state == _LENGTH_BODY:
            return self._read_length_body()
        if state == _END:
            self._state = _DONE
            return EndOfRequest()
        if state == _DONE:
            raise RuntimeError("call start_next_request() after EndOfRequest")
        return self._read_chunked_body()

    def _incomplete(self) -> NeedData:
        """Return NEED_DATA, or refuse a request the peer abandoned half-way."""
        if self._closed:
            raise HTTPError(400, "the connection closed in the middle of a request")
        return NEED_DATA

    # ── The head ──

    def _read_head(self) -> RequestHead | NeedData:
        buffer = self._buffer
        if self._scanned == 0 and buffer[:2] == b"\r\n":
            # RFC 9112 §2.2: ignore empty lines before a request line (some
            # clients send an extra CRLF after a POST body). CRLF only: see below.
            crlfs = _LEADING_CRLFS.match(buffer)
            assert crlfs is not None  # the buffer starts with CRLF: the pattern matches
            del buffer[: crlfs.end()]
        end = _HEAD_END.search(buffer, self._scanned)
        self._check_request_line()
        if end is None:
            if len(buffer) > MAX_HEAD_BYTES:
                raise HTTPError(431, "request head too large")
            if not buffer and self._closed:
                return NEED_DATA  # a clean close between requests: nothing was lost
            # Resume the search where a "\r\n\r\n" split across two feeds could start.
            self._scanned = max(0, len(buffer) - 3)
            return self._incomplete()
        if end.end() > MAX_HEAD_BYTES:
            raise HTTPError(431, "request head too large")
        data = bytes(buffer[: end.start()])
        ending = bytes(end[0])  # before the del: a match reads the buffer it was found in
        del buffer[: end.end()]
        self._scanned = 0
        _check_lines(data, ending)
        head = parse_head(data)
        check_head(head)
        self._start_body(head)
        return head

    def _check_request_line(self) -> None:
        """Refuse a request line that is already too long, ended or not (414)."""
        limit = MAX_REQUEST_LINE
        line_end = self._buffer.find(b"\n", 0, limit + 2)
        if line_end < 0:
            too_long = len(self._buffer) > limit + 1  # + 1: room for its CR
        else:
            too_long = line_end - (self._buffer[line_end - 1] == 0x0D) > limit
        if too_long:
            raise HTTPError(414, f"request line longer than {limit} bytes")

    def _start_body(self, head: RequestHead) -> None:
        """Choose how the body is framed (RFC 9112 §6.3), checking max_body."""
        if head.chunked:
            self._state = _CHUNK_SIZE
            return
        length = head.content_length or 0
        if self._max_body is not None and length > self._max_body:
            raise HTTPError(413, f"request body larger than {self._max_body} bytes")
        self._remaining = length
        # A request with neither header has no body: requests are never close-delimited.
        self._state = _LENGTH_BODY if length else _END

    # ── A Content-Length body ──

    def _read_length_body(self) -> Body | NeedData:
        if not self._buffer:
            return self._incomplete()
        return self._take_body(then=_END)

    def _take_body(self, then: str) -> Body:
        """Take what the buffer holds of the ``_remaining`` body bytes; ``then`` when all are in."""
        size = min(self._remaining, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._remaining -= size
        if self._remaining == 0:
            self._state = then
        return Body(data)

    # ── A chunked body (RFC 9112 §7.1) ──

    def _read_chunked_body(self) -> Event | NeedData:
        while True:
            state = self._state
            if state == _CHUNK_SIZE:
                line = self._read_line(MAX_CHUNK_LINE, "chunk-size line too long")
                if line is None:
                    return self._incomplete()
                self._start_chunk(line)
            elif state == _CHUNK_DATA:
                if not self._buffer:
                    return self._incomplete()
                return self._take_body(then=_CHUNK_END)
            elif state == _CHUNK_END:
                if len(self._buffer) < 2:
                    return self._incomplete()
                if self._buffer[:2] != b"\r\n":
                    raise HTTPError(400, "chunk data not followed by CRLF")
                del self._buffer[:2]
                self._state = _CHUNK_SIZE
            else:  # _TRAILERS
                line = self._read_line(MAX_HEAD_BYTES, "trailer section too large")
                if line is None:
                    return self._incomplete()
                if not line:
                    self._state = _DONE
                    return EndOfRequest()
                self._check_trailer(line)

    def _read_line(self, limit: int, message: str) -> bytes | None:
        """Remove and return one CRLF-terminated line (without CRLF), or None if incomplete."""
        end = self._buffer.find(b"\r\n", 0, limit + 2)
        if end < 0:
            if len(self._buffer) > limit:
                raise HTTPError(431 if self._state == _TRAILERS else 400, message)
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _start_chunk(self, line: bytes) -> None:
        """Read a chunk-size line: "1a;name=value" starts a 26-byte chunk."""
        match = CHUNK_LINE.fullmatch(line)
        if match is None:
            raise HTTPError(400, "malformed chunk-size line")
        # Chunk extensions are matched for syntax and then ignored, as §7.1.1 requires
        # of a recipient that does not understand them.
        size = int(match[1], 16)
        self._body_size += size
        if self._max_body is not None and self._body_size > self._max_body:
            raise HTTPError(413, f"request body larger than {self._max_body} bytes")
        if size == 0:
            self._state = _TRAILERS  # the last-chunk; trailer fields may follow
        else:
            self._remaining = size
            self._state = _CHUNK_DATA

    def _check_trailer(self, line: bytes) -> None:
        """Check one trailer field line; it is then discarded (WSGI has no trailers)."""
        self._trailer_bytes += len(line) + 2
        self._trailer_count += 1
        if self._trailer_bytes > MAX_HEAD_BYTES or self._trailer_count > MAX_HEADERS:
            raise HTTPError(431, "trailer section too large")
        field = HEADER_LINE.fullmatch(line)
        if field is None:
            raise HTTPError(400, "malformed trailer field")
        name = field[1].decode("ascii").lower()
        if name in FORBIDDEN_TRAILERS:
            raise HTTPError(400, f"{name} is not allowed in a trailer section")


# ── The response side ────────────────────────────────────────────────────────

#: Statuses whose responses never have a body, whatever the app sends (RFC 9110
#: §15.3.5, §15.4.5); 1xx responses have none either (§15.2).
NO_BODY_STATUSES: Final = frozenset({204, 304})

#: The interim response a client that sent "Expect: 100-continue" waits for
#: before it sends its body (RFC 9110 §10.1.1, §15.2.1).
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"

#: How much of a request body the app did not read a server reads and drops
#: ("drains") to keep the connection; a larger (or unknown) rest means closing it
#: instead. Stage 01's server and stage 04's use this one limit.
DRAIN_LIMIT: Final = 65536
#: How many bytes one read asks for: one recv() from a socket, one read() of a
#: request body stream (wsgi.input). Every stage from 01 to 04 reads with it.
READ_SIZE: Final = 65536


class HTTPDate:
    """The Date header's value (RFC 9110 §6.6.1), formatted once a second, not once a response."""

    def __init__(self) -> None:
        self._cached = (-1, "")  # (second, text), replaced as one tuple: safe across threads

    def now(self) -> str:
        """Return the current time as an IMF-fixdate: ``Sun, 06 Nov 1994 08:49:37 GMT``."""
        second, text = self._cached
        now = int(time.time())
        if now != second:
            text = formatdate(now, usegmt=True)
            self._cached = (now, text)
        return text


class BodyFraming(enum.Enum):
    """How the client learns where a response body ends (RFC 9112 §6.3)."""

    NONE = "no body"  # HEAD, 1xx, 204, 304: the head is the whole response
    CONTENT_LENGTH = "content-length"  # exactly Content-Length bytes follow
    CHUNKED = "chunked"  # chunks, then the last chunk (HTTP/1.1 only)
    CLOSE = "close-delimited"  # the body ends when the server closes (HTTP/1.0)


@dataclass(frozen=True)
class Framing:
    """The framing decision for one response: how its body ends, and what happens next."""

    body: BodyFraming
    length: int | None  # the Content-Length the head states, or None for none
    keep_alive: bool  # whether the connection serves another request afterwards

    def headers(self, version: str) -> list[tuple[str, str]]:
        """Return the framing fields the head must carry for a client of ``version``.

        Content-Length or Transfer-Encoding, and Connection: close when the
        server will close (RFC 9112 §9.6: say so before closing), or
        Connection: keep-alive for an HTTP/1.0 client that stays (§9.3).
        """
        fields = []
        if self.length is not None:
            fields.append(("Content-Length", str(self.length)))
        elif self.body is BodyFraming.CHUNKED:
            fields.append(("Transfer-Encoding", "chunked"))
        if not self.keep_alive:
            fields.append(("Connection", "close"))
        elif version == "HTTP/1.0":
            fields.append(("Connection", "keep-alive"))
        return fields


def frame_response(
    method: str,
    version: str,
    status: int,
    *,
    declared_length: int | None = None,
    known_length: int | None = None,
    keep_alive: bool = True,
) -> Framing:
    """Decide how a response is framed and whether its connection stays open, before its head.

    This is the one place both servers (stage 01's threads, stage 04's
    asyncio) make the decision, as h11 does in its ``_body_framing``. It is
    a pure function, so every row of the table below is a plain-value test:

    ==================================  ==============  ======================================
    the response                        body framing    Content-Length sent
    ==================================  ==============  ======================================
    1xx, 204 or 304 status              NONE            none (RFC 9110 §8.6, §15.4.5)
    answer to HEAD                      NONE            the app's, else ``known_length``
    the app declared a length           CONTENT_LENGTH  ``declared_length``
    the server knows the whole body     CONTENT_LENGTH  ``known_length``
    otherwise, HTTP/1.1 client          CHUNKED         none
    otherwise, HTTP/1.0 client          CLOSE           none, and the connection closes
    ==================================  ==============  ======================================

    ``status`` is the code (int); ``declared_length`` the app's own
    Content-Length (already parsed, see parse_response_length);
    ``known_length`` the body's size in bytes when the server has all of it.
    ``keep_alive`` is False when anything already rules out another request
    on this connection: the request said so (RequestHead.keep_alive), the
    app or a server shutdown did, or the rest of the request body cannot be
    skipped (RequestParser.can_skip_body, an unanswered 100-continue).
    """
    if status < 200 or status in NO_BODY_STATUSES:
        return Framing(BodyFraming.NONE, None, keep_alive)
    if method == "HEAD":
        length = declared_length if declared_length is not None else known_length
        return Framing(BodyFraming.NONE, length, keep_alive)
    if declared_length is not None:
        return Framing(BodyFraming.CONTENT_LENGTH, declared_length, keep_alive)
    if known_length is not None:
        return Framing(BodyFraming.CONTENT_LENGTH, known_length, keep_alive)
    if version == "HTTP/1.1":
        return Framing(BodyFraming.CHUNKED, None, keep_alive)
    return Framing(BodyFraming.CLOSE, None, False)


def parse_response_length(values: list[str]) -> int | None:
    """Return the Content-Length an app set on its response, None if it set none.

    ["12"] -> 12, [] -> None; ValueError for anything but one run of ASCII
    digits, or two different values: the app's bug, answered with a 500
    rather than sent on as a head no client could frame.
    """
    if not values:
        return None
    if len(set(values)) != 1 or _DIGITS.fullmatch(values[0]) is None:
        raise ValueError(f"invalid Content-Length from the app: {values!r}")
    return int(values[0])


def status_line_text(status: int | str) -> str:
    """Return the status part of a status line: 200 -> "200 OK", "404 Gone" -> itself.

    Raise ValueError for a status that is not three digits (100-599) and a
    reason phrase free of control characters.
    """
    if isinstance(status, int) and not isinstance(status, bool):
        try:
            return f"{status} {HTTPStatus(status).phrase}"
        except ValueError:
            if 100 <= status <= 599:
                return f"{status} "
            raise ValueError(f"invalid status code: {status}") from None
    if not isinstance(status, str) or _STATUS.fullmatch(status) is None:
        raise ValueError(f"invalid status: {status!r}")
    return status


def check_header(name: str, value: str) -> None:
    """Raise ValueError unless name is a token and value is free of CR, LF, NUL and controls.

    A CR/LF in a value would let whoever controls the value write headers of
    their own, or a whole second response ("response splitting").
    """
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(f"header name and value must be str, not {name!r}: {value!r}")
    if not is_token(name):
        raise ValueError(f"invalid header name: {name!r}")
    if FORBIDDEN_IN_VALUE.search(value):
        raise ValueError(f"invalid character in the value of header {name}: {value!r}")


def format_response_head(
    status: int | str, headers: list[tuple[str, str]], version: str = "HTTP/1.1"
) -> bytes:
    """Serialize a status line and header fields, ending with the empty line.

    format_response_head(200, [("Content-Length", "2")])
    -> b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\n"

    Raise ValueError for a bad status, header name or value (CR, LF, NUL ...).
    """
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported version: {version!r}")
    lines = [f"{version} {status_line_text(status)}\r\n"]
    for name, value in headers:
        check_header(name, value)
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    try:
        return "".join(lines).encode("latin-1")
    except UnicodeEncodeError as error:
        raise ValueError(f"a status or header is not latin-1: {error}") from None


def encode_chunk(data: bytes) -> bytes:
    """Frame bytes as one chunk: b"hello" -> b"5\\r\\nhello\\r\\n" (RFC 9112 §7.1)."""
    if not data:
        raise ValueError("an empty chunk would end the body: send LAST_CHUNK instead")
    return b"%x\r\n%b\r\n" % (len(data), data)


#: The zero-size chunk and the empty trailer section that end a chunked body.
LAST_CHUNK: Final = b"0\r\n\r\n"


def error_response(status: int, message: str) -> bytes:
    """Return a complete plain-text response that refuses a request and closes.

    error_response(400, "malformed request line") -> b"HTTP/1.1 400 Bad Request\\r\\n
    Content-Type: text/plain; charset=utf-8\\r\\nContent-Length: 23\\r\\n
    Connection: close\\r\\n\\r\\nmalformed request line\\n"
    """
    body = (message + "\n").encode("utf-8")
    head = format_response_head(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
    )
    return head + body

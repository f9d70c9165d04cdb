"""bare: a small ASGI framework in one file, on the standard library alone.

Read it top to bottom; each section uses only the sections above it:

    Protocol        the ASGI type names, written down once
    Errors          HTTPError (answer 4xx now), ClientDisconnected
    Headers         header checks, the multi-value request headers
    Request         the scope and the lazily read body, as an object
    Responses       Response and its kinds, each able to send itself
    Routing         converters, compiled paths, static dict + segment trie
    WebSocket       a WebSocket connection, with a state
    The framework   Bare: registration, middleware, lifespan, dispatch, run

    from bare import Bare

    app = Bare()

    @app.get("/users/{id:int}")
    async def user(request):
        return {"id": request.path_params["id"]}      # a dict is sent as JSON

uvicorn runs it (``uvicorn module:app``); ``app.run()`` is a shortcut for that.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import inspect
import json
import logging
import math
import re
import sys
import traceback
import urllib.parse
from collections.abc import (
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

__all__ = [
    "Bare",
    "ClientDisconnected",
    "Converter",
    "CONVERTERS",
    "Endpoint",
    "FORBIDDEN_IN_VALUE",
    "HTMLResponse",
    "HTTPError",
    "Headers",
    "JSONResponse",
    "Match",
    "OWS",
    "RedirectResponse",
    "Request",
    "Response",
    "Router",
    "StreamingResponse",
    "TOKEN",
    "WebSocket",
    "WebSocketState",
    "compile_path",
    "encode_header",
    "is_token",
    "route_path",
    "url_to_ascii",
]


# ── Protocol ──────────────────────────────────────────────────────────────────
# ASGI 3.0 in five names. bare stands alone by design (one file, no imports
# from the workbook's other stages), so it writes them down here, once.

#: What the connection is: ``{"type": "http" | "websocket" | "lifespan", ...}``.
Scope: TypeAlias = MutableMapping[str, Any]

#: One event on either channel: ``{"type": "http.request", "body": b"...", ...}``.
Message: TypeAlias = MutableMapping[str, Any]

#: Await the next event from the server.
Receive: TypeAlias = Callable[[], Awaitable[Message]]

#: Hand one event to the server.
Send: TypeAlias = Callable[[Message], Awaitable[None]]

#: An ASGI 3.0 application: the framework, and every middleware around it.
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Headers as ASGI carries them: lowercase names, both halves bytes.
RawHeaders: TypeAlias = list[tuple[bytes, bytes]]

#: A startup or shutdown hook: a plain function or a coroutine function.
Hook: TypeAlias = Callable[[], Any]

#: Requests get at most this many body bytes unless ``Bare(max_body_size=...)`` says otherwise.
DEFAULT_MAX_BODY_SIZE = 1024 * 1024


# ── Errors ────────────────────────────────────────────────────────────────────


class HTTPError(Exception):
    """Stop handling a request and answer ``status`` with ``{"error": message}``.

    Raised by the request's body readers (400, 413) and by handlers that
    want to give up early: ``raise HTTPError(404, "no such task")``.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ClientDisconnected(Exception):
    """The client went away; there is nobody left to answer."""


# ── Headers ───────────────────────────────────────────────────────────────────

#: token (RFC 9110 §5.6.2): a field name (§5.1), a cookie name, a method.
#: Stage 01 has the same rule (rawwsgi.http11.TOKEN, is_token) that stages
#: 02 and 03 import; bare stands alone, so it is written again, the same way.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: What a field value we send must never hold (RFC 9110 §5.5): CR, LF, NUL and
#: every other control but HTAB. A CR or LF would end the field early and let
#: the rest pass as a header of its own (response splitting). Stage 01's rule.
FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: OWS = *( SP / HTAB ) (RFC 9110 §5.6.3): the only whitespace inside a field
#: value. Trim and split with it, never with str.strip() or str.split() without
#: arguments: on latin-1 text they also remove "\xa0", "\x85", "\x1c"..., and
#: "\xa0application/json" would pass for "application/json". Stage 01 has the
#: same constant (rawwsgi.http11.OWS); bare stands alone, so it is written again.
OWS = " \t"


def is_token(text: str) -> bool:
    """Return whether ``text`` is a token (RFC 9110 §5.6.2): "chunked" yes, "\xa0chunked" no."""
    return TOKEN.fullmatch(text) is not None


def encode_header(name: str, value: str) -> tuple[bytes, bytes]:
    """Return a header as ASGI's (lowercase name, value) bytes, or raise ValueError.

    ``encode_header("Content-Type", "text/html")`` -> ``(b"content-type", b"text/html")``.
    A name that is not a token, or a value holding CR, LF, NUL or another
    control, is refused here, when the response is built, not on the wire.
    """
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(f"header name and value must be str, got {name!r}: {value!r}")
    if not is_token(name):
        raise ValueError(f"invalid header name {name!r}: it must be an RFC 9110 token")
    if FORBIDDEN_IN_VALUE.search(value):
        raise ValueError(
            f"header {name} has a control (CR, LF or NUL, ...) in its value: {value!r}"
        )
    try:
        return name.lower().encode("ascii"), value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"header {name} value must be latin-1 text: {value!r}") from None


@functools.lru_cache(maxsize=64)
def content_type_header(content_type: str) -> tuple[bytes, bytes]:
    """Return the encoded Content-Type header, checked once per distinct value."""
    # PERF: every Response has one; its few distinct values are encoded once.
    return encode_header("content-type", content_type)


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive request headers that keep repeated fields.

    ``headers["accept"]`` joins repeated fields with ", " as RFC 9110 §5.3
    allows; ``headers.getlist("cookie")`` gives every field line on its own.
    Built once per request, on first use, in one pass over the scope.
    """

    __slots__ = ("_fields",)

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        fields: dict[str, list[str]] = {}
        for raw_name, raw_value in raw:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name in fields:
                fields[name].append(value)
            else:
                fields[name] = [value]
        self._fields = fields

    def __getitem__(self, name: str) -> str:
        values = self._fields[name.lower()]
        return values[0] if len(values) == 1 else ", ".join(values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def getlist(self, name: str) -> list[str]:
        """Return every value sent for ``name``, in order; [] if none was."""
        return list(self._fields.get(name.lower(), ()))

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


# ── Request ───────────────────────────────────────────────────────────────────


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259 §6)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of a float's range")
    return value


def _strict_json(text: str) -> Any:
    """Parse JSON text, refusing NaN, infinities and lone surrogates with ValueError.

    Stage 02's ``parse_json`` rule, written again: bare is one file on the
    standard library and imports no other stage.
    """
    value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    if "\\u" in text:  # PERF: only an escape can put a surrogate in valid UTF-8 text
        pending = [value]
        while pending:  # a loop, not recursion: the value may be nested deeply
            item = pending.pop()
            if isinstance(item, dict):
                pending += item.keys()
                pending += item.values()
            elif isinstance(item, list):
                pending += item
            elif isinstance(item, str) and not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError("a string holds a lone surrogate (RFC 8259 §8.2)") from None
    return value


class Request:
    """One HTTP request: the scope's fields as properties, the body on demand.

    Nothing is parsed until asked for, and nothing is parsed twice: the
    headers, query and cookies are built on first use and kept; the body is
    read from ``receive`` only when a handler awaits ``body()`` (or ``text()``,
    ``json()``, ``form()``), so a handler that ignores it does not pay for it.
    """

    __slots__ = ("_scope", "_receive", "max_body_size", "_body", "_headers", "_query", "_cookies")

    def __init__(
        self, scope: Scope, receive: Receive, max_body_size: int = DEFAULT_MAX_BODY_SIZE
    ) -> None:
        self._scope = scope
        self._receive = receive
        self.max_body_size = max_body_size
        self._body: bytes | None = None
        self._headers: Headers | None = None
        self._query: dict[str, list[str]] | None = None
        self._cookies: dict[str, str] | None = None

    @property
    def scope(self) -> Scope:
        """The ASGI scope this request reads (middleware may leave values in it)."""
        return self._scope

    @property
    def receive(self) -> Receive:
        """The ASGI receive channel, for code that reads the body as a stream."""
        return self._receive

    @property
    def method(self) -> str:
        method: str = self._scope["method"]
        return method

    @property
    def path(self) -> str:
        path: str = self._scope["path"]
        return path

    @property
    def query_string(self) -> str:
        query_string: bytes = self._scope.get("query_string", b"")
        return query_string.decode("latin-1")

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self._scope.get("headers", ()))
        return self._headers

    def header(self, name: str, default: str = "") -> str:
        """Return the header's value (repeats joined by ", "), or ``default``."""
        return self.headers.get(name, default)

    @property
    def content_type(self) -> str:
        return self.header("content-type")

    @property
    def media_type(self) -> str:
        """Return the content type without parameters: "application/json".

        Only OWS is trimmed (RFC 9110 §5.6.3, §8.3.1): "\xa0application/json" is not JSON.
        """
        return self.content_type.partition(";")[0].strip(OWS).lower()

    @property
    def path_params(self) -> dict[str, Any]:
        path_params: dict[str, Any] = self._scope.get("path_params", {})
        return path_params

    @property
    def query_params(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = urllib.parse.parse_qs(self.query_string, keep_blank_values=True)
        return self._query

    def query(self, name: str, default: str = "") -> str:
        """Return the first value of query parameter ``name``, or ``default``."""
        values = self.query_params.get(name)
        return values[0] if values else default

    @property
    def cookies(self) -> dict[str, str]:
        """Return the cookies of every Cookie header; the first of a name wins."""
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for line in self.headers.getlist("cookie"):
                for pair in line.split(";"):
                    name, has_value, value = pair.partition("=")
                    # cookie-string pairs are split by "; " (RFC 6265 §4.2.1, §5.2:
                    # SP and HTAB are trimmed, nothing else): "\xa0sid=1" is not "sid".
                    name, value = name.strip(OWS), value.strip(OWS)
                    if not name or not has_value:
                        continue
                    if len(value) >= 2 and value[0] == value[-1] == '"':
                        value = value[1:-1]
                    # RFC 6265 §5.4: the more specific cookie comes first.
                    cookies.setdefault(name, value)
            self._cookies = cookies
        return self._cookies

    async def body(self) -> bytes:
        """Return the request body, reading it from ``receive`` on the first call.

        Raise HTTPError(413) for a body past ``max_body_size`` (by its
        Content-Length before a byte is read, else as the bytes arrive), and
        ClientDisconnected if the client leaves before the body is complete.
        """
        # EXERCISE 5.2: Read the request body
        if self._body is not None:
            return self._body
        limit = self.max_body_size
        declared = self.header("content-length")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise HTTPError(413, f"request body is larger than the limit of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected("the client left before the request body was read")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise HTTPError(413, f"request body is larger than the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self._body = b"".join(chunks)
        return self._body
        # END EXERCISE

    async def text(self) -> str:
        """Return the body decoded with its charset (UTF-8 unless stated), or 400."""
        charset = "utf-8"
        for parameter in self.content_type.split(";")[1:]:
            key, _, value = parameter.partition("=")
            if key.strip(OWS).lower() == "charset":
                charset = value.strip(OWS).strip('"') or charset
        body = await self.body()
        try:
            return body.decode(charset)
        except LookupError:  # no such codec, or one that is not text ("hex", "rot13")
            raise HTTPError(400, f"unknown charset {charset!r} in Content-Type") from None
        except ValueError:  # UnicodeDecodeError, the plain UnicodeError of "idna", a NUL
            raise HTTPError(400, f"request body is not valid {charset} text") from None

    async def json(self) -> Any:
        """Return the body parsed as JSON, or raise HTTPError(400) saying what is wrong.

        Stricter than ``json.loads`` where it must be, so that whatever a
        handler gets can be sent back as JSON: ``NaN``, ``Infinity`` and
        numbers past a float's range (``1e999``) are refused (RFC 8259 §6 has
        none), so are lone surrogates (``"\\ud800"``, §8.2: not Unicode text)
        and nesting too deep for the parser.
        """
        media_type = self.media_type
        if media_type != "application/json" and not media_type.endswith("+json"):
            got = self.content_type or "no Content-Type"
            raise HTTPError(400, f"expected Content-Type: application/json, got {got}")
        body = await self.body()
        try:
            text = body.decode("utf-8")  # RFC 8259 §8.1: JSON on the wire is UTF-8
        except UnicodeDecodeError:
            raise HTTPError(400, "request body is not valid UTF-8") from None
        try:
            return _strict_json(text)
        except json.JSONDecodeError as error:
            raise HTTPError(
                400,
                f"request body is not valid JSON: {error.msg} "
                f"(line {error.lineno}, column {error.colno})",
            ) from None
        except RecursionError:
            raise HTTPError(400, "request body is not valid JSON: nested too deeply") from None
        except ValueError as error:  # NaN, 1e999, a lone surrogate, an int past 4,300 digits
            raise HTTPError(400, f"request body is not valid JSON: {error}") from None

    async def form(self) -> dict[str, list[str]]:
        """Return an urlencoded form body as {name: [values]}, like ``query_params``."""
        if self.media_type != "application/x-www-form-urlencoded":
            got = self.content_type or "no Content-Type"
            raise HTTPError(
                400,
                f"expected Content-Type: application/x-www-form-urlencoded, got {got}"
                " (multipart/form-data is not supported)",
            )
        body = await self.body()
        try:
            return urllib.parse.parse_qs(
                body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict"
            )
        except UnicodeDecodeError:
            raise HTTPError(400, "form body is not valid urlencoded UTF-8") from None

    @property
    def app(self) -> Bare:
        app: Bare = self._scope["app"]
        return app

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


# ── Responses ─────────────────────────────────────────────────────────────────

# RFC 6265 §4.1.1: what a cookie's name and value may hold, unquoted or quoted.
_COOKIE_VALUE = re.compile(
    r"([\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*)"
    r'|"([\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*)"'
)
_COOKIE_ATTRIBUTE_VALUE = re.compile(r"[^\x00-\x1f\x7f;]*")


class Response:
    """A status, headers and a body, able to send itself as ASGI events.

    Headers are a list of byte pairs, so a name may repeat (two Set-Cookie);
    every name and value is checked as it is added, and a bad one is a
    ValueError here rather than a split response on the wire.
    """

    def __init__(
        self,
        body: Any = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "text/plain; charset=utf-8",
    ) -> None:
        self.status = status
        self.raw_headers: RawHeaders = (
            [] if content_type is None else [content_type_header(content_type)]
        )
        if headers:
            for name, value in headers.items():
                self.set_header(name, value)
        if body is None:
            self.body = b""
        elif isinstance(body, bytes):
            self.body = body
        elif isinstance(body, str):
            self.body = body.encode("utf-8")
        else:
            self.body = str(body).encode("utf-8")

    def set_header(self, name: str, value: str) -> Response:
        """Set header ``name`` to ``value``, replacing any earlier value."""
        encoded = encode_header(name, value)
        self.raw_headers = [pair for pair in self.raw_headers if pair[0] != encoded[0]]
        self.raw_headers.append(encoded)
        return self

    def add_header(self, name: str, value: str) -> Response:
        """Add one more ``name`` header, keeping those already set."""
        self.raw_headers.append(encode_header(name, value))
        return self

    def set_cookie(self, name: str, value: str, **attributes: str | int | bool | None) -> Response:
        """Add a Set-Cookie header; ``max_age=60`` becomes "max-age=60", ``httponly=True``
        the flag "httponly", and a False or None attribute is left out.
        """
        if not is_token(name):
            raise ValueError(f"invalid cookie name {name!r}: it must be an RFC 9110 token")
        if not _COOKIE_VALUE.fullmatch(value):
            raise ValueError(
                f"cookie {name} value {value!r} has characters a cookie cannot "
                'hold (space, ; , \\ " or control); percent-encode it first'
            )
        parts = [f"{name}={value}"]
        for attribute, setting in attributes.items():
            label = attribute.replace("_", "-")
            if setting is True:
                parts.append(label)
            elif setting is not False and setting is not None:
                text = str(setting)
                if not _COOKIE_ATTRIBUTE_VALUE.fullmatch(text):
                    raise ValueError(f"cookie attribute {label} has ; or a control: {text!r}")
                parts.append(f"{label}={text}")
        return self.add_header("set-cookie", "; ".join(parts))

    async def send(self, send: Send, *, head: bool = False, receive: Receive | None = None) -> None:
        """Send this response: an http.response.start event, then one body event.

        The start event carries every header plus Content-Length, worked out
        here from the body. With ``head=True`` (a HEAD request, RFC 9110
        §9.3.2) the headers are the same and the body is left out. Responses
        that must not have content (1xx, 204, 304) get neither. ``receive``
        is for responses that stream; this one does not need it.
        """
        # EXERCISE 5.3: Send the response
        status = self.status
        if status < 200 or status in (204, 304):
            headers, body = self.raw_headers, b""
        else:
            headers = [*self.raw_headers, (b"content-length", b"%d" % len(self.body))]
            body = b"" if head else self.body
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        # END EXERCISE

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status}, {len(self.body)} bytes>"


# PERF: json.dumps with any option builds a new encoder per call (several µs);
# one encoder, made once, is reused for every response.
# allow_nan=False: NaN and Infinity are not JSON (RFC 8259 §6); sending one is a
# handler's bug, a ValueError (so a 500), never a body a strict client refuses.
_JSON_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"), allow_nan=False)


class JSONResponse(Response):
    """A response whose body is ``data`` as JSON (anything unknown sent as str)."""

    def __init__(self, data: Any, status: int = 200, **kwargs: Any) -> None:
        super().__init__(
            body=_JSON_ENCODER.encode(data),
            status=status,
            content_type="application/json",
            **kwargs,
        )


class HTMLResponse(Response):
    """A response whose body is an HTML page."""

    def __init__(self, html: str, status: int = 200, **kwargs: Any) -> None:
        super().__init__(
            body=html, status=status, content_type="text/html; charset=utf-8", **kwargs
        )


# What a URL keeps as it is: RFC 3986's unreserved and reserved characters and
# "%" (a "%" that starts no escape is encoded below, as "%25").
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CR_LF_NUL = re.compile(r"[\r\n\x00]")


def url_to_ascii(url: str) -> str:
    """Percent-encode what a URL in a header may not hold (RFC 3986 §2.1, RFC 9110 §10.2.2).

    ``"/café?q=a b"`` -> ``"/caf%C3%A9?q=a%20b"``: non-ASCII text as UTF-8
    escapes, spaces and other controls as escapes; escapes already there are
    kept. The result is ASCII, so it is a valid header value. CR, LF and NUL
    are refused (ValueError), as in any header value: a URL holding them is a
    bug or an attack, not something to pass on quietly.
    """
    if _CR_LF_NUL.search(url):
        raise ValueError(f"a URL with CR, LF or NUL cannot be a header value: {url!r}")
    return urllib.parse.quote(_STRAY_PERCENT.sub("%25", url), safe=_URL_SAFE)


class RedirectResponse(Response):
    """A redirect to ``location`` (302 Found unless told otherwise), percent-encoded."""

    def __init__(
        self, location: str, status: int = 302, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(
            status=status, headers={**(headers or {}), "location": url_to_ascii(location)}
        )


async def _iterate(content: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterable[Any]:
    """Yield from a plain or an async iterable alike."""
    if isinstance(content, AsyncIterable):
        async for item in content:
            yield item
    else:
        for item in content:
            yield item


async def _wait_for_disconnect(receive: Receive) -> None:
    """Return once the client has gone (any unread request body is skipped)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class StreamingResponse(Response):
    """A response whose body arrives in pieces from an iterable or async iterable.

    It has no Content-Length (the server sends it chunked) and stops early
    if the client disconnects, so an endless generator does not run on for
    nobody. A plain iterable runs on the event loop: keep it non-blocking.
    """

    def __init__(
        self,
        content: Iterable[bytes | str] | AsyncIterable[bytes | str],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "text/plain; charset=utf-8",
    ) -> None:
        super().__init__(None, status, headers, content_type)
        self.content = content

    async def send(self, send: Send, *, head: bool = False, receive: Receive | None = None) -> None:
        """Send the start event, then each piece of ``content`` as it comes."""
        await send(
            {"type": "http.response.start", "status": self.status, "headers": self.raw_headers}
        )
        if head:
            await send({"type": "http.response.body", "body": b""})
        elif receive is None:
            await self._stream(send)
        else:
            await self._stream_until_disconnect(send, receive)

    async def _stream(self, send: Send) -> None:
        async for piece in _iterate(self.content):
            chunk = piece.encode("utf-8") if isinstance(piece, str) else piece
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _stream_until_disconnect(self, send: Send, receive: Receive) -> None:
        # NOTE: some servers (uvicorn) drop a send to a gone client silently,
        # so the only sign of a disconnect is an http.disconnect on receive.
        streaming = asyncio.ensure_future(self._stream(send))
        watching = asyncio.ensure_future(_wait_for_disconnect(receive))
        try:
            await asyncio.wait((streaming, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (streaming, watching):
                task.cancel()
            await asyncio.gather(streaming, watching, return_exceptions=True)
        if not streaming.cancelled():
            streaming.result()  # re-raise what the content raised, if it did


# ── Routing ───────────────────────────────────────────────────────────────────
# A path like "/tasks/{task_id}" is compiled once, when it is registered.
# Paths without parameters go in a dict (one lookup). The others go in a
# trie keyed by segment: "/tasks/42" is found by walking "tasks" then "42",
# so the cost of a lookup grows with the segments of the path, not with the
# number of routes.


def route_path(scope: Scope) -> str:
    """Return the part of the path to route on: the path below ``root_path``.

    The ASGI spec says ``path`` includes ``root_path`` (the app's mount
    point): ``{"root_path": "/api", "path": "/api/tasks"}`` routes
    ``/tasks``. (``uvicorn --root-path /api``, meant for a proxy that strips
    ``/api``, sends a request for ``/tasks`` as exactly that scope.) The
    mount point ends on a segment boundary (``/apix`` is not below ``/api``);
    a path that is not below it is routed as it is.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root:
        return path  # PERF: the usual case costs one dict lookup
    root = root.rstrip("/")
    if not path.startswith(root):
        return path
    rest = path[len(root) :]
    if not rest:
        return "/"
    return rest if rest[0] == "/" else path


class Match(enum.Enum):
    """How a request's method and path met the route table."""

    NONE = "none"  # no route has this path: 404
    PARTIAL = "partial"  # a route has this path but not this method: 405 (or OPTIONS)
    FULL = "full"  # a route has this path and method: call its handler


@dataclass(frozen=True, slots=True)
class Converter:
    """A path parameter's type: which segments it accepts and what value it makes."""

    name: str
    regex: str  # the same rule as a regex, for mixed segments
    accepts: Callable[[str], bool]  # the fast check used for a whole segment
    convert: Callable[[str], Any]  # may raise ValueError: then the segment does not match


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() is True; isascii rules it out


_SLUG = re.compile(r"[a-zA-Z0-9-]+")


def _is_slug(text: str) -> bool:
    return _SLUG.fullmatch(text) is not None


#: The parameter types a path may use: "{name}" is "{name:str}".
CONVERTERS: dict[str, Converter] = {
    "str": Converter("str", r"[^/]+", bool, str),
    "int": Converter("int", r"[0-9]+", _is_digits, int),
    "slug": Converter("slug", r"[a-zA-Z0-9-]+", _is_slug, str),
}

_PARAMETER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class Segment:
    """One "/"-separated piece of a route path, compiled.

    "tasks" is literal; "{task_id}" is a whole-segment parameter, checked by
    its converter; "{name}.{ext:slug}" mixes both and gets a regex of its own.
    """

    text: str
    parameters: tuple[tuple[str, Converter], ...] = ()
    regex: re.Pattern[str] | None = None

    @property
    def is_literal(self) -> bool:
        return not self.parameters

    def match(self, part: str) -> dict[str, Any] | None:
        """Return the converted parameters if ``part`` fits this segment, else None."""
        try:
            if self.regex is None:
                name, converter = self.parameters[0]
                return {name: converter.convert(part)} if converter.accepts(part) else None
            found = self.regex.fullmatch(part)
            if found is None:
                return None
            return {name: converter.convert(found[name]) for name, converter in self.parameters}
        except ValueError:  # e.g. int() of 5,000 digits
            return None


def compile_path(path: str) -> tuple[Segment, ...]:
    """Compile a route path into its segments, or raise ValueError.

    "/users/{id:int}" -> (Segment("users"), Segment("{id:int}", (("id", CONVERTERS["int"]),)))
    """
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"a route path must start with '/': {path!r}")
    segments = tuple(_compile_segment(text, path) for text in path.split("/")[1:])
    names = [name for segment in segments for name, _ in segment.parameters]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"parameter {duplicates[0]!r} appears twice in {path!r}")
    return segments


def _compile_segment(text: str, path: str) -> Segment:
    """Compile one segment: "{id:int}" -> Segment with the int converter, no regex."""
    if "{" in _PARAMETER.sub("", text) or "}" in _PARAMETER.sub("", text):
        raise ValueError(f"unbalanced brace in {text!r} of route {path!r}")
    parameters: list[tuple[str, Converter]] = []
    pieces: list[str] = []
    position = 0
    for found in _PARAMETER.finditer(text):
        name, _, kind = found[1].partition(":")
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} in {path!r} is not an identifier")
        converter = CONVERTERS.get(kind or "str")
        if converter is None:
            raise ValueError(
                f"unknown converter {kind!r} in {path!r}; known: {', '.join(sorted(CONVERTERS))}"
            )
        parameters.append((name, converter))
        pieces += [re.escape(text[position : found.start()]), f"(?P<{name}>{converter.regex})"]
        position = found.end()
    if not parameters:
        return Segment(text)
    if len(parameters) == 1 and text.startswith("{") and text.endswith("}"):
        return Segment(text, tuple(parameters))
    pieces.append(re.escape(text[position:]))
    return Segment(text, tuple(parameters), re.compile("".join(pieces)))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What a route leads to: a handler, under the path it was registered with."""

    path: str
    method: str
    handler: Callable[..., Awaitable[Any]]


class RouteNode:
    """A node of the route trie: children by literal, children by parameter, endpoints."""

    __slots__ = ("literal", "dynamic", "endpoints", "allowed")

    def __init__(self) -> None:
        self.literal: dict[str, RouteNode] = {}
        self.dynamic: list[tuple[Segment, RouteNode]] = []  # tried in registration order
        self.endpoints: dict[str, Endpoint] = {}  # method -> endpoint, if a route ends here
        self.allowed: tuple[str, ...] = ()  # for Allow: methods + HEAD + OPTIONS


def _allowed_methods(endpoints: Mapping[str, Endpoint]) -> tuple[str, ...]:
    """Return what an Allow header lists: the routed methods, HEAD with GET, OPTIONS."""
    methods = set(endpoints) | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return tuple(sorted(methods))


def _endpoints_text(node: RouteNode) -> str:
    return ", ".join(f"{method} {_name(e.handler)}" for method, e in node.endpoints.items())


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", repr(handler))


class Router:
    """The route table: static paths in a dict, dynamic ones in a segment trie.

    ``match`` costs one dict lookup for a static path and one step per
    segment for a dynamic one, however many routes there are. A static
    path wins over a dynamic one that also fits; among dynamic routes a
    literal segment wins over a parameter, then registration order decides.
    ``describe()`` prints the compiled table.
    """

    def __init__(self) -> None:
        self.static: dict[str, RouteNode] = {}
        self.root = RouteNode()

    def add(
        self, path: str, methods: Iterable[str], handler: Callable[..., Awaitable[Any]]
    ) -> None:
        """Compile ``path`` and file ``handler`` under it for each method."""
        segments = compile_path(path)
        if all(segment.is_literal for segment in segments):
            node = self.static.setdefault(path, RouteNode())
        else:
            node = self.root
            for segment in segments:
                node = self._child(node, segment)
        for method in methods:
            if method in node.endpoints:
                taken = node.endpoints[method].handler
                raise ValueError(f"{method} {path} is already routed to {_name(taken)}")
            node.endpoints[method] = Endpoint(path, method, handler)
        node.allowed = _allowed_methods(node.endpoints)

    @staticmethod
    def _child(node: RouteNode, segment: Segment) -> RouteNode:
        """Return the child of ``node`` for ``segment``, adding it if new."""
        if segment.is_literal:
            return node.literal.setdefault(segment.text, RouteNode())
        for existing, child in node.dynamic:
            if existing.text == segment.text:
                return child
        child = RouteNode()
        node.dynamic.append((segment, child))
        return child

    def match(
        self, method: str, path: str
    ) -> tuple[Match, Endpoint | None, dict[str, Any], tuple[str, ...]]:
        """Return (Match, endpoint, path parameters, allowed methods) for a request.

        The endpoint is set for Match.FULL, the allowed methods for
        Match.PARTIAL. A HEAD request is served by the GET endpoint.
        """
        node = self.static.get(path)
        if node is not None:
            endpoint = node.endpoints.get(method)
            if endpoint is None and method == "HEAD":
                endpoint = node.endpoints.get("GET")
            if endpoint is not None:
                return Match.FULL, endpoint, {}, node.allowed
            partial = [node]  # a dynamic route may still take this method
        else:
            partial = []
        params: dict[str, Any] = {}
        endpoint = self.search(self.root, path.split("/"), 1, method, params, partial)
        if endpoint is not None:
            return Match.FULL, endpoint, params, ()
        if partial:
            allowed = tuple(sorted({name for node in partial for name in node.allowed}))
            return Match.PARTIAL, None, {}, allowed
        return Match.NONE, None, {}, ()

    def search(
        self,
        node: RouteNode,
        parts: list[str],
        index: int,
        method: str,
        params: dict[str, Any],
        partial: list[RouteNode],
    ) -> Endpoint | None:
        """Walk the trie from ``node`` along ``parts[index:]``; return the endpoint found.

        ``"/tasks/42".split("/")`` is ``["", "tasks", "42"]``: the walk starts
        at index 1. On the way down it fills ``params`` with converted values;
        a path that ends on a node with endpoints but not ``method`` is added
        to ``partial`` (for 405), and the walk goes on to other branches.
        """
        # EXERCISE 5.1: Walk the route trie
        if index == len(parts):
            if not node.endpoints:
                return None
            endpoint = node.endpoints.get(method)
            if endpoint is None and method == "HEAD":
                endpoint = node.endpoints.get("GET")
            if endpoint is None:
                partial.append(node)
            return endpoint
        part = parts[index]
        child = node.literal.get(part)
        if child is not None:
            endpoint = self.search(child, parts, index + 1, method, params, partial)
            if endpoint is not None:
                return endpoint
        for segment, child in node.dynamic:
            values = segment.match(part)
            if values is None:
                continue
            params.update(values)
            endpoint = self.search(child, parts, index + 1, method, params, partial)
            if endpoint is not None:
                return endpoint
            for name in values:
                del params[name]
        return None
        # END EXERCISE

    def describe(self) -> str:
        """Return the compiled table as text: the static dict, then the trie."""
        lines = ["static paths (one dict lookup):"]
        if not self.static:
            lines.append("  (none)")
        width = max((len(path) for path in self.static), default=0)
        for path, node in self.static.items():
            lines.append(f"  {path.ljust(width)}  {_endpoints_text(node)}")
        lines.append("dynamic paths (a trie, walked one segment at a time):")
        lines += self._describe_node(self.root, depth=1) or ["  (none)"]
        return "\n".join(lines)

    def _describe_node(self, node: RouteNode, depth: int) -> list[str]:
        lines: list[str] = []
        children = [(text, child) for text, child in node.literal.items()]
        children += [(segment.text, child) for segment, child in node.dynamic]
        for text, child in children:
            line = "  " * depth + "/" + text
            if child.endpoints:
                line += "  " + _endpoints_text(child)
            lines.append(line)
            lines += self._describe_node(child, depth + 1)
        return lines


# ── WebSocket ─────────────────────────────────────────────────────────────────


class WebSocketState(enum.Enum):
    """Where a WebSocket connection is in its life."""

    CONNECTING = "connecting"  # handshake not answered yet: accept() or close() (= HTTP 403)
    OPEN = "open"  # accepted: messages flow both ways
    CLOSED = "closed"  # we closed it or the client left: nothing more to send


class WebSocket:
    """One WebSocket connection: accept, exchange messages, close.

    ``async with websocket:`` accepts on entry and closes on exit (1000, or
    1011 if the block raised). The ``receive_*`` methods return None once the
    client has gone. A message of the wrong kind (bytes where text was
    expected) closes the connection with 1003 and also returns None.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self.path_params: dict[str, Any] = scope.get("path_params", {})
        self.state = WebSocketState.CONNECTING
        self.close_code: int | None = None  # the client's, once it has left
        self._headers: Headers | None = None

    @property
    def path(self) -> str:
        path: str = self._scope["path"]
        return path

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self._scope.get("headers", ()))
        return self._headers

    def query(self, name: str, default: str = "") -> str:
        """Return the first value of query parameter ``name``, or ``default``."""
        query_string = self._scope.get("query_string", b"").decode("latin-1")
        values = urllib.parse.parse_qs(query_string, keep_blank_values=True).get(name)
        return values[0] if values else default

    async def accept(self, subprotocol: str | None = None) -> None:
        """Wait for the client's websocket.connect and accept it.

        Raise RuntimeError if the connection is past connecting, or the first
        event is not websocket.connect; ClientDisconnected if the client left.
        """
        if self.state is not WebSocketState.CONNECTING:
            raise RuntimeError(f"accept() on a WebSocket that is already {self.state.value}")
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self._gone(message)
            raise ClientDisconnected("the client left before the WebSocket was accepted")
        if message["type"] != "websocket.connect":
            raise RuntimeError(f"expected websocket.connect, got {message['type']!r}")
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol})
        self.state = WebSocketState.OPEN

    async def _receive_message(self) -> Message | None:
        """Return the next websocket.receive message, or None once the client has gone."""
        if self.state is WebSocketState.CONNECTING:
            raise RuntimeError("call accept() before receiving")
        if self.state is WebSocketState.CLOSED:
            return None
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self._gone(message)
            return None
        return message

    def _gone(self, message: Message) -> None:
        self.state = WebSocketState.CLOSED
        self.close_code = message.get("code", 1005)

    async def receive_text(self) -> str | None:
        message = await self._receive_message()
        if message is None:
            return None
        text: str | None = message.get("text")
        if text is None:  # RFC 6455 §7.4.1: 1003 is "cannot accept this type of data"
            await self.close(1003, "expected a text message")
            return None
        return text

    async def receive_bytes(self) -> bytes | None:
        message = await self._receive_message()
        if message is None:
            return None
        data: bytes | None = message.get("bytes")
        if data is None:
            await self.close(1003, "expected a binary message")
            return None
        return data

    async def receive_json(self) -> Any:
        """Return the next text message parsed as JSON; None if the client has gone.

        Invalid JSON closes the connection with 1007 (RFC 6455 §7.4.1) and
        returns None. A JSON ``null`` is None too: check ``state`` to tell.
        """
        text = await self.receive_text()
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            await self.close(1007, "expected a JSON message")
            return None

    async def _send_message(self, message: Message) -> None:
        if self.state is not WebSocketState.OPEN:
            if self.state is WebSocketState.CLOSED:
                raise ClientDisconnected("the WebSocket is closed")
            raise RuntimeError("call accept() before sending")
        try:
            await self._send(message)
        except OSError as error:  # e.g. uvicorn's ClientDisconnected
            self.state = WebSocketState.CLOSED
            raise ClientDisconnected("the client left") from error

    async def send_text(self, text: str) -> None:
        await self._send_message({"type": "websocket.send", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._send_message({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any) -> None:
        await self.send_text(json.dumps(data, default=str))  # the chapter's spacing: {"a": 1}

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection; do nothing if it is closed or the client left.

        Closing before accept() rejects the handshake: the server answers
        HTTP 403 and the client never sees ``code``.
        """
        if self.state is WebSocketState.CLOSED:
            return
        self.state = WebSocketState.CLOSED
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:
            pass  # the client left first: there is nothing to close

    async def __aenter__(self) -> WebSocket:
        await self.accept()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        # 1011: "the server met an unexpected condition" (RFC 6455 §7.4.1).
        await self.close(1000 if exc_type is None else 1011)


# ── The framework ─────────────────────────────────────────────────────────────


def _require_coroutine_function(handler: Callable[..., Any], path: str) -> None:
    """Raise TypeError unless ``handler`` is ``async def`` (bare awaits every handler)."""
    call = getattr(handler, "__call__", None)  # noqa: B004 - a class instance with async __call__
    if not (inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)):
        raise TypeError(f"the handler of {path!r}, {_name(handler)}, must be an async def function")


async def _run_hook(hook: Hook) -> None:
    """Call a startup or shutdown hook and await it if it is async."""
    result = hook()
    if inspect.isawaitable(result):
        await result


Handler: TypeAlias = Callable[[Request], Awaitable[Any]]
WebSocketHandler: TypeAlias = Callable[[WebSocket], Awaitable[None]]


class Bare:
    """The application: a route table, hooks and middleware, served over ASGI.

    ``Bare(debug=True)`` puts a crashing handler's traceback in the 500
    response (never do that in production). ``max_body_size`` caps the
    request body a handler can read (413 past it).
    """

    def __init__(self, *, debug: bool = False, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> None:
        if not isinstance(max_body_size, int) or max_body_size < 0:
            raise ValueError(
                f"max_body_size must be a whole number of bytes, got {max_body_size!r}"
            )
        self.debug = debug
        self.max_body_size = max_body_size
        self.router = Router()
        self.websocket_router = Router()
        self._startup_handlers: list[Hook] = []
        self._shutdown_handlers: list[Hook] = []
        self._middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        self._stack: ASGIApp | None = None
        self.state: dict[str, Any] = {}
        self.logger = logging.getLogger("bare")

    # ── Route registration ────────────────────────────────────────────────

    def route(
        self, path: str, methods: Iterable[str] | None = None
    ) -> Callable[[Handler], Handler]:
        """Register the decorated coroutine function as handler of ``path``.

        The path is compiled now: a bad pattern or a non-async handler is an
        error at import time rather than at the first request.
        """
        if isinstance(methods, str):
            raise TypeError(f"methods must be a list of names, like [{methods!r}], not a str")
        names = [method.upper() for method in (methods or ["GET"])]

        def decorator(handler: Handler) -> Handler:
            _require_coroutine_function(handler, path)
            self.router.add(path, names, handler)
            return handler

        return decorator

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["GET"])

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["POST"])

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["PUT"])

    def patch(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["PATCH"])

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["DELETE"])

    def websocket(self, path: str) -> Callable[[WebSocketHandler], WebSocketHandler]:
        """Register the decorated coroutine function as WebSocket handler of ``path``."""

        def decorator(handler: WebSocketHandler) -> WebSocketHandler:
            _require_coroutine_function(handler, path)
            self.websocket_router.add(path, ["WEBSOCKET"], handler)
            return handler

        return decorator

    # ── Lifespan hooks ────────────────────────────────────────────────────

    def on_startup(self, func: Hook) -> Hook:
        """Run ``func`` (sync or async) when the server starts, before any request."""
        self._startup_handlers.append(func)
        return func

    def on_shutdown(self, func: Hook) -> Hook:
        """Run ``func`` (sync or async) when the server stops."""
        self._shutdown_handlers.append(func)
        return func

    # ── Middleware ────────────────────────────────────────────────────────

    def add_middleware(self, middleware_class: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in ``middleware_class(app, **options)``; the first added is outermost."""
        if not callable(middleware_class):
            raise TypeError(f"middleware must be a class or callable, got {middleware_class!r}")
        self._middleware.append((middleware_class, options))
        self._stack = None  # rebuilt on the next call

    def _build_stack(self) -> ASGIApp:
        """Wrap ``_handle`` in the middleware: added [A, B] gives A(B(_handle))."""
        app: ASGIApp = self._handle
        for middleware_class, options in reversed(self._middleware):
            app = middleware_class(app, **options)
        return app

    # ── ASGI interface ────────────────────────────────────────────────────

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run one connection through the middleware stack, built on the first call.

        The dispatch lives in ``_handle``, not here, so that middleware wraps
        it while ``app`` stays this object (as in Flask's ``wsgi_app``).
        """
        stack = self._stack
        if stack is None:
            stack = self._stack = self._build_stack()
        await stack(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch a connection by its scope type."""
        scope["app"] = self
        kind = scope["type"]
        if kind == "http":
            await self._serve_http(scope, receive, send)
        elif kind == "websocket":
            await self._serve_websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._serve_lifespan(receive, send)
        else:  # the ASGI spec asks apps to raise on scope types they do not know
            raise ValueError(f"bare does not speak the ASGI scope type {kind!r}")

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one HTTP request, call its handler and send what it returned."""
        method = scope["method"]
        match, endpoint, params, allowed = self.router.match(method, route_path(scope))
        if match is Match.FULL:
            assert endpoint is not None  # Router.match: a full match has its endpoint
            scope["path_params"] = params
            response = await self._respond(
                endpoint.handler, Request(scope, receive, self.max_body_size)
            )
            if response is None:
                return  # the client left: nobody to answer
        elif match is Match.PARTIAL and method == "OPTIONS":
            response = Response(
                status=204, headers={"allow": ", ".join(allowed)}, content_type=None
            )
        elif match is Match.PARTIAL:
            response = JSONResponse(
                {"error": "method not allowed", "allowed": list(allowed)},
                405,
                headers={"allow": ", ".join(allowed)},
            )
        else:
            response = JSONResponse({"error": "not found"}, 404)
        await response.send(send, head=method == "HEAD", receive=receive)

    async def _respond(self, handler: Handler, request: Request) -> Response | None:
        """Return the handler's answer as a Response (None if the client left).

        A dict or list becomes JSON, None an empty 200. HTTPError becomes its
        status; any other exception is logged with its traceback and becomes
        a generic 500 (the traceback is in the body only in debug mode).
        """
        try:
            result = await handler(request)
            if isinstance(result, Response):
                return result
            return Response() if result is None else JSONResponse(result)
        except HTTPError as error:
            return JSONResponse({"error": error.message}, error.status)
        except ClientDisconnected:
            return None
        except Exception as error:
            self.logger.exception(
                "%s %s: handler %s raised", request.method, request.path, _name(handler)
            )
            body: dict[str, Any] = {"error": "internal server error"}
            if self.debug:
                body["traceback"] = "".join(traceback.format_exception(error))
            return JSONResponse(body, 500)

    async def _serve_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route a WebSocket connection to its handler and keep its failures contained.

        An unknown path is accepted and closed with 4004: a close before
        accept would reach the client as HTTP 403, and the code would be lost.
        """
        # EXERCISE 5.5: Dispatch a WebSocket connection
        match, endpoint, params, _ = self.websocket_router.match("WEBSOCKET", route_path(scope))
        if match is not Match.FULL:
            rejected = WebSocket(scope, receive, send)
            try:
                await rejected.accept()
            except ClientDisconnected:
                return
            await rejected.close(4004, "no WebSocket route for this path")
            return
        assert endpoint is not None  # Router.match: a full match has its endpoint
        scope["path_params"] = params
        websocket = WebSocket(scope, receive, send)
        try:
            await endpoint.handler(websocket)
        except ClientDisconnected:
            return
        except Exception:
            self.logger.exception(
                "WebSocket %s: handler %s raised", scope["path"], _name(endpoint.handler)
            )
            await websocket.close(1011)
            return
        await websocket.close()
        # END EXERCISE

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        """Run the startup hooks on lifespan.startup, the shutdown hooks on shutdown.

        A startup hook that raises is answered with lifespan.startup.failed
        and its message, and the server refuses to start. Every shutdown hook
        runs even if one fails; failures are logged and reported.
        """
        # EXERCISE 5.4: Run the lifespan
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for hook in self._startup_handlers:
                        await _run_hook(hook)
                except Exception as error:
                    self.logger.exception("startup hook failed")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                failures: list[str] = []
                for hook in self._shutdown_handlers:
                    try:
                        await _run_hook(hook)
                    except Exception as error:
                        self.logger.exception("shutdown hook %s failed", _name(hook))
                        failures.append(f"{_name(hook)}: {error}")
                if failures:
                    await send({"type": "lifespan.shutdown.failed", "message": "; ".join(failures)})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return
        # END EXERCISE

    # ── Running ───────────────────────────────────────────────────────────

    def run(self, host: str = "127.0.0.1", port: int = 8000, **kwargs: Any) -> None:
        """Serve this app with uvicorn (imported here: bare needs only the standard library).

        uvicorn reloads (``reload=True``) and forks workers only from an
        import string like "example_app:app", never from the app object, so
        for those ``run`` finds the module and name this app lives under.
        """
        import uvicorn

        target: Bare | str = self
        if kwargs.get("reload") or (kwargs.get("workers") or 1) > 1:
            target, folder = self._import_string()
            kwargs.setdefault("app_dir", folder)
            if kwargs.get("reload"):
                kwargs.setdefault("reload_dirs", [folder])
        uvicorn.run(target, host=host, port=port, **kwargs)

    def _import_string(self) -> tuple[str, str]:
        """Return ("module:name", folder) naming this app, looked up in the loaded modules.

        A script run as ``python example_app.py`` is the module ``__main__``;
        its file name gives the importable name, "example_app".
        """
        main = sys.modules.get("__main__")
        modules = [main] if main is not None else []
        modules += [module for name, module in list(sys.modules.items()) if name != "__main__"]
        for module in modules:
            for name, value in list(getattr(module, "__dict__", {}).items()):
                if value is not self:
                    continue
                file = getattr(module, "__file__", None)
                if module is main and file:
                    return f"{Path(file).stem}:{name}", str(Path(file).resolve().parent)
                if module is not main:
                    folder = str(Path(file).resolve().parent) if file else "."
                    return f"{module.__name__}:{name}", folder
        raise ValueError(
            "reload and workers need the app as a module-level name "
            "(app = Bare() in a file); or run: uvicorn module:app --reload"
        )

    def __repr__(self) -> str:
        return f"<Bare debug={self.debug}>"

"""The request a handler receives: a lazy, read-only view over the environ.

Nothing is parsed until a handler asks for it: a request routed on its
path never parses its query string, headers or body. Each piece is parsed
once and cached.

Two PEP 3333 rules shape this file:

* Strings in the environ are "bytes in latin-1 clothing". The server puts
  the raw bytes of the path into ``PATH_INFO`` decoded as latin-1 (the one
  encoding that maps every byte to one character and back), so the
  application re-encodes them as latin-1 to get the bytes back, then
  decodes those as UTF-8.
* ``wsgi.input`` is a stream that can be read once, and never past
  ``CONTENT_LENGTH`` (reading further may block on a keep-alive connection
  until the client sends its next request).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, quote

from rawwsgi.http11 import OWS, READ_SIZE
from rawwsgi.protocol import Environ

from wsgirouter.response import HTTPError

#: The default limit on a request body: 1 MiB.
DEFAULT_MAX_BODY = 1024 * 1024
#: Where the body is kept once read, so that every Request over the same
#: environ (a middleware's and the router's) sees it, not an empty stream.
BODY_KEY = "wsgirouter.body"


def latin1_to_text(value: str) -> str:
    """Turn an environ string back into the text it encodes (UTF-8 bytes).

    >>> latin1_to_text("/caf\\u00c3\\u00a9")
    '/café'
    """
    return value.encode("latin-1").decode("utf-8")


class QueryParams(Mapping[str, str]):
    """The query string's parameters in order; a name may repeat.

    ``params["tag"]`` is the first value; ``params.get_all("tag")`` is every
    value: ``?tag=a&tag=b`` gives ``["a", "b"]``.
    """

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    @classmethod
    def parse(cls, query_string: str) -> QueryParams:
        """Parse a ``QUERY_STRING`` (latin-1 clothing, percent-encoded UTF-8)."""
        text = query_string.encode("latin-1").decode("utf-8", "replace")
        return cls(parse_qsl(text, keep_blank_values=True, errors="replace"))

    def __getitem__(self, name: str) -> str:
        return self._values[name][0]

    def get_all(self, name: str) -> list[str]:
        """Return every value given for ``name``, in order (maybe none)."""
        return list(self._values.get(name, ()))

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"QueryParams({self.pairs!r})"


class RequestHeaders(Mapping[str, str]):
    """The request's headers, read straight from the environ; names ignore case.

    The server stores ``Content-Type`` as ``CONTENT_TYPE`` and every other
    header ``X-Name`` as ``HTTP_X_NAME`` (the CGI convention), joining
    repeated headers with ``", "``. So a lookup is one key transformation and
    one dict lookup: nothing is copied.
    """

    CGI_NAMES = ("CONTENT_TYPE", "CONTENT_LENGTH")

    def __init__(self, environ: Environ) -> None:
        self._environ = environ

    @classmethod
    def environ_key(cls, name: str) -> str:
        """Return the environ key of a header: ``"X-Request-ID"`` -> ``"HTTP_X_REQUEST_ID"``."""
        key = name.upper().replace("-", "_")
        return key if key in cls.CGI_NAMES else "HTTP_" + key

    def __getitem__(self, name: str) -> str:
        key = self.environ_key(name)
        value: str | None = self._environ.get(key)
        # Some servers set CONTENT_TYPE / CONTENT_LENGTH to "" when the header is absent.
        if value is None or (value == "" and key in self.CGI_NAMES):
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        for key, value in self._environ.items():
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").title()
            elif key in self.CGI_NAMES and value:
                yield key.replace("_", "-").title()

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Request:
    """What a handler needs from the environ: method, path, query, headers, body."""

    def __init__(self, environ: Environ, *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.environ = environ
        self.max_body = max_body

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.environ.get('PATH_INFO', '')!r}>"

    @property
    def method(self) -> str:
        """Return the request method as sent (methods are case-sensitive)."""
        method: str = self.environ["REQUEST_METHOD"]
        return method

    @cached_property
    def path(self) -> str:
        """Return the path as text: ``PATH_INFO``'s latin-1 characters are URL bytes."""
        # EXERCISE 2.1: Decode the path
        raw = self.environ.get("PATH_INFO", "")
        try:
            path = latin1_to_text(raw)
        except UnicodeError:
            raise HTTPError(400, "the request path is not valid UTF-8") from None
        return path or "/"
        # END EXERCISE

    @property
    def script_name(self) -> str:
        """Return where the app is mounted (``SCRIPT_NAME``), as text."""
        try:
            return latin1_to_text(self.environ.get("SCRIPT_NAME", ""))
        except UnicodeError:
            raise HTTPError(400, "the request path is not valid UTF-8") from None

    @cached_property
    def query(self) -> QueryParams:
        """Return the query parameters; repeated names keep every value."""
        return QueryParams.parse(self.environ.get("QUERY_STRING", ""))

    @cached_property
    def headers(self) -> RequestHeaders:
        """Return the request headers (``request.headers["content-type"]``)."""
        return RequestHeaders(self.environ)

    @property
    def content_type(self) -> str:
        """Return the media type of the body, lower case, without parameters.

        "Application/JSON; charset=utf-8" -> "application/json". Only OWS (SP and
        HTAB, RFC 9110 §5.6.3) is trimmed: "\xa0application/json" stays as it is,
        so it is not JSON (RFC 9110 §8.3.1: media-type = type "/" subtype parameters).
        """
        content_type: str = self.environ.get("CONTENT_TYPE", "")
        return content_type.split(";", 1)[0].strip(OWS).lower()

    @property
    def content_length(self) -> int | None:
        """Return ``Content-Length`` as an int, None if absent; a bad one is a 400."""
        value = self.environ.get("CONTENT_LENGTH", "")
        if value == "":
            return None
        if not (value.isascii() and value.isdigit()):
            raise HTTPError(400, f"invalid Content-Length: {value!r}")
        return int(value)

    @property
    def body(self) -> bytes:
        """Return the body, read once (at most ``max_body`` bytes, else a 413)."""
        cached = self.environ.get(BODY_KEY)
        if cached is None:
            cached = self.environ[BODY_KEY] = self._read_body()
        return cached

    def _read_body(self) -> bytes:
        """Read exactly ``Content-Length`` bytes, or to the end of a terminated input."""
        stream = self.environ["wsgi.input"]
        length = self.content_length
        if length is None:
            # Without a Content-Length there is no body, unless the server says
            # its input ends by itself (a chunked body it has de-chunked).
            if not self.environ.get("wsgi.input_terminated"):
                return b""
            length = self.max_body + 1
            tolerate_short = True
        else:
            if length > self.max_body:
                raise HTTPError(413, f"the body is {length} bytes; the limit is {self.max_body}")
            tolerate_short = False
        chunks: list[bytes] = []
        remaining = length
        while remaining > 0:
            chunk = stream.read(min(remaining, READ_SIZE))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        body = b"".join(chunks)
        if len(body) > self.max_body:
            raise HTTPError(413, f"the body is over the limit of {self.max_body} bytes")
        if remaining > 0 and not tolerate_short:
            raise HTTPError(400, f"the body ended after {len(body)} of {length} bytes")
        return body

    def json(self) -> Any:
        """Return the body parsed as JSON; a wrong type is a 415, bad JSON a 400.

        Stricter than Python's ``json`` where it must be, so that every value
        a handler gets can be stored and sent back as JSON: the body is UTF-8
        (RFC 8259, section 8.1); ``NaN``, ``Infinity`` and numbers too large
        for a float (``1e999``) are refused (section 6 has no such numbers);
        so is a string with a lone surrogate (``"\\ud800"``: legal JSON
        syntax, but no Unicode text, section 8.2), and nesting deep enough to
        exhaust the parser's recursion.
        """
        if self.content_type != "application/json" and not self.content_type.endswith("+json"):
            raise HTTPError(415, "expected a JSON body: send Content-Type: application/json")
        body = self.body
        if not body:
            raise HTTPError(400, "invalid JSON: the body is empty")
        try:
            return parse_json(body)
        except RecursionError:
            raise HTTPError(400, "invalid JSON: nested too deeply") from None
        except ValueError as error:  # JSONDecodeError and UnicodeError are ValueErrors
            raise HTTPError(400, f"invalid JSON: {error}") from None

    @property
    def url_root(self) -> str:
        """Return ``scheme://host[:port]`` plus the mount point (PEP 3333's recipe)."""
        environ = self.environ
        scheme = environ["wsgi.url_scheme"]
        host = environ.get("HTTP_HOST")
        if not host:
            host = environ["SERVER_NAME"]
            port = environ["SERVER_PORT"]
            if (scheme, port) not in (("http", "80"), ("https", "443")):
                host = f"{host}:{port}"
        script_name = quote(environ.get("SCRIPT_NAME", "").encode("latin-1"))
        return f"{scheme}://{host}{script_name}"

    def absolute_url(self, path: str) -> str:
        """Return the absolute URL of ``path`` (already URL-encoded) in this app."""
        return self.url_root + path


def refuse_constant(name: str) -> Any:
    """Refuse ``NaN`` and ``Infinity``: Python's json accepts them, JSON does not."""
    raise ValueError(f"{name} is not valid JSON")


def finite_float(text: str) -> float:
    """Parse a JSON number with a fraction or exponent; refuse one no float can hold."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]}... is too large for a float")
    return value


#: A \\u escape of a surrogate: only such an escape can put one in a string.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_json(body: bytes) -> Any:
    """Parse a JSON body strictly (see ``Request.json``); raise ValueError if it is not.

    ``RecursionError`` comes through for nesting too deep to parse.
    """
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    value = json.loads(text, parse_constant=refuse_constant, parse_float=finite_float)
    # PERF: a valid UTF-8 body can hold a surrogate only through an escape, so
    # the walk below runs only for bodies that have one.
    if SURROGATE_ESCAPE.search(body):
        refuse_lone_surrogates(value)
    return value


def refuse_lone_surrogates(value: Any) -> None:
    """Raise ValueError if a string in ``value`` (keys too) is not encodable as UTF-8."""
    pending = [value]
    while pending:  # a loop, not recursion: the value may be nested deeply
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    "a string holds a lone surrogate (a \\ud800-\\udfff escape "
                    "without its pair), which is not Unicode text"
                ) from None

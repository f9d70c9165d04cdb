"""The response a handler returns, and the error a handler raises.

A ``Response`` holds a status, a list of headers (a list, because some
headers repeat: two cookies are two ``Set-Cookie`` lines) and a body. It is
itself a WSGI app: calling it with an environ and ``start_response`` sends
it. That is the whole bridge between a framework and the server.

Header names and values are checked when they are added and again when the
response is sent: a CR, LF or NUL in a header would let a value chosen by a
client (a redirect target, a cookie) write headers of its own (response
splitting), so it is refused with ``ValueError`` and never sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

# RFC 9110 section 5.1: a field name is a token (is_token); section 5.5: a field
# value is visible characters, spaces and tabs, so any other control character
# (CR, LF and NUL above all) is refused (FORBIDDEN_IN_VALUE). Stage 01's rules.
from rawwsgi.http11 import FORBIDDEN_IN_VALUE, is_token
from rawwsgi.protocol import Environ, Headers, StartResponse

TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSON = "application/json"


def check_header(name: str, value: str) -> None:
    """Raise ValueError unless ``name: value`` is safe to put on the wire.

    >>> check_header("Location", "/next\\r\\nSet-Cookie: admin=1")
    Traceback (most recent call last):
    ...
    ValueError: header 'Location' has a CR, LF or other control character in its value: ...
    """
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(f"header name and value must be str, got {name!r}: {value!r}")
    if not is_token(name):
        raise ValueError(f"header name {name!r} is not an HTTP token")
    if FORBIDDEN_IN_VALUE.search(value):
        raise ValueError(
            f"header {name!r} has a CR, LF or other control character in its value: {value!r}"
        )
    try:
        # PEP 3333: header strings must be representable in latin-1.
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"header {name!r} has characters outside latin-1: {value!r}; percent-encode it"
        ) from None


# What a URL keeps as it is: RFC 3986's unreserved and reserved characters,
# and "%" when it starts an escape (a stray "%" is encoded as "%25").
URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def url_to_ascii(url: str) -> str:
    """Percent-encode what a URL in a header may not hold (RFC 3986 2.1, RFC 9110 10.2.2).

    >>> url_to_ascii("/café?q=a b")
    '/caf%C3%A9?q=a%20b'

    Escapes already there are kept. CR, LF and NUL are refused (ValueError)
    rather than encoded: a URL holding them is a bug or an attack.
    """
    if re.search(r"[\r\n\x00]", url):
        raise ValueError(f"a URL with CR, LF or NUL cannot be a header value: {url!r}")
    return quote(STRAY_PERCENT.sub("%25", url), safe=URL_SAFE)


def reason_phrase(status: int) -> str:
    """Return the standard reason phrase of a status ("Not Found"), or "Unknown"."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def has_no_body(status: int) -> bool:
    """Return True for the statuses whose responses never carry a body."""
    return 100 <= status < 200 or status in (204, 304)


class HTTPError(Exception):
    """An error with an HTTP status: raise it in a handler to answer 4xx or 5xx.

    The router catches it and sends ``status`` with ``message`` as the body
    (plain text, or ``{"error": message}`` for a router made with
    ``json_errors=True``).
    """

    def __init__(
        self, status: int, message: str | None = None, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.status = status
        self.message = message if message is not None else reason_phrase(status)
        self.headers: Headers = list(headers)
        super().__init__(status, self.message)


class Response:
    """A status, headers that may repeat, and a body; calling it sends it.

    ``body`` is bytes (a ``str`` is encoded as UTF-8), or an iterable of
    bytes for a streaming body, which is sent as it is produced (with no
    ``Content-Length`` unless the handler sets one).
    """

    def __init__(
        self,
        body: bytes | str | Iterable[bytes] = b"",
        status: int = 200,
        headers: Iterable[tuple[str, str]] = (),
        *,
        content_type: str | None = TEXT,
    ) -> None:
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"status must be an int from 100 to 599, got {status!r}")
        self.status = status
        self.body: bytes | Iterable[bytes] = body.encode("utf-8") if isinstance(body, str) else body
        self.headers: Headers = []
        for name, value in headers:
            self.add_header(name, value)
        if content_type is not None and self.get_header("Content-Type") is None:
            self.add_header("Content-Type", content_type)

    # ── Helpers for the usual kinds of response ─────────────────────────────

    @classmethod
    def text(
        cls, text: str, status: int = 200, headers: Iterable[tuple[str, str]] = ()
    ) -> Response:
        """Return a plain-text response."""
        return cls(text, status, headers, content_type=TEXT)

    @classmethod
    def html(
        cls, html: str, status: int = 200, headers: Iterable[tuple[str, str]] = ()
    ) -> Response:
        """Return an HTML response."""
        return cls(html, status, headers, content_type=HTML)

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()
    ) -> Response:
        """Return ``data`` serialised as JSON (UTF-8, no ASCII escaping).

        Raise ValueError for what JSON cannot say (RFC 8259): ``NaN`` and
        infinities (section 6), strings with lone surrogates (section 8.2).
        Sending them would be a response no strict client can parse; a
        handler that tries has a bug, and gets a 500 rather than a bad body.
        """
        body = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8"
        )
        return cls(body, status, headers, content_type=JSON)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        """Return a redirect to ``location`` (an absolute URL is the safe choice).

        The URL is sent percent-encoded (``url_to_ascii``): ``/café`` goes
        out as ``/caf%C3%A9``, never as raw bytes a client may misread.
        """
        if status not in (301, 302, 303, 307, 308):
            raise ValueError(f"a redirect status is 301, 302, 303, 307 or 308, got {status}")
        url = url_to_ascii(location)
        return cls(f"Redirecting to {url}\n", status, [("Location", url)])

    # ── Headers ─────────────────────────────────────────────────────────────

    @property
    def status_line(self) -> str:
        """Return the WSGI status string, e.g. ``"404 Not Found"``."""
        return f"{self.status} {reason_phrase(self.status)}"

    def add_header(self, name: str, value: str) -> None:
        """Add a header line, keeping any others of the same name."""
        check_header(name, value)
        self.headers.append((name, value))

    def set_header(self, name: str, value: str) -> None:
        """Replace every header line called ``name`` with one line."""
        check_header(name, value)
        self.delete_header(name)
        self.headers.append((name, value))

    def delete_header(self, name: str) -> None:
        """Remove every header line called ``name`` (names ignore case)."""
        wanted = name.lower()
        self.headers = [(key, value) for key, value in self.headers if key.lower() != wanted]

    def get_header(self, name: str) -> str | None:
        """Return the first value of header ``name``, or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        path: str = "/",
        secure: bool = False,
        http_only: bool = True,
        same_site: str = "Lax",
    ) -> None:
        """Add a ``Set-Cookie`` header (one per cookie: this header repeats)."""
        cookie: SimpleCookie = SimpleCookie()
        cookie[name] = value  # SimpleCookie quotes values that need it
        morsel = cookie[name]
        morsel["path"] = path
        morsel["samesite"] = same_site
        if max_age is not None:
            morsel["max-age"] = str(max_age)
        if secure:
            morsel["secure"] = True
        if http_only:
            morsel["httponly"] = True
        self.add_header("Set-Cookie", morsel.OutputString())

    # ── Sending: a Response is a WSGI app ───────────────────────────────────

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Send this response: status and headers, then the body (none for HEAD)."""
        # EXERCISE 2.4: Send a Response through WSGI
        for name, value in self.headers:
            check_header(name, value)
        body = self.body
        headers = list(self.headers)
        if has_no_body(self.status):
            headers = [
                (name, value)
                for name, value in headers
                if name.lower() not in ("content-length", "content-type")
            ]
        elif isinstance(body, bytes):
            headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(self.status_line, headers)
        if environ["REQUEST_METHOD"] == "HEAD" or has_no_body(self.status):
            close = getattr(body, "close", None)
            if close is not None:
                close()
            return []
        return [body] if isinstance(body, bytes) else body
        # END EXERCISE

    def __repr__(self) -> str:
        return f"<Response {self.status_line}>"

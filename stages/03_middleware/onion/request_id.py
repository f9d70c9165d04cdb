"""Request id: every request gets one, the response echoes it, the logs can show it.

An incoming ``X-Request-ID`` (set by a proxy or a client that wants to
follow its request through the logs) is kept if it looks sane, else a new
one is made. It is stored in the environ as ``onion.request_id`` (and in
``HTTP_X_REQUEST_ID``, so code that reads the header sees the same value),
and added to the response headers.

This middleware touches the headers only: it wraps ``start_response`` and
returns the app's body object itself, so ``close()`` reaches the app with
no help (no ``ClosingIterator`` needed when you do not replace the body).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable

from rawwsgi.http11 import is_token  # a field name is a token (RFC 9110 §5.1, §5.6.2)
from rawwsgi.protocol import Environ, ExcInfo, Headers, StartResponse, Write, WSGIApp

from onion.headers import replaced

ENVIRON_KEY = "onion.request_id"
# What an incoming id may look like: short, and nothing that could forge a log line.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_id() -> str:
    """Return a fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


class RequestID:
    """Keep or make a request id; put it in the environ and on the response."""

    def __init__(
        self, app: WSGIApp, *, header: str = "X-Request-ID", generate: Callable[[], str] = new_id
    ) -> None:
        if not is_token(header):
            raise ValueError(f"header {header!r} is not a valid header name")
        self.app = app
        self.header = header
        self.environ_header = "HTTP_" + header.upper().replace("-", "_")
        self.generate = generate

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Attach the id to the environ and to the response headers."""
        incoming = environ.get(self.environ_header, "")
        request_id = incoming if SANE_ID.fullmatch(incoming) else self.generate()
        environ[ENVIRON_KEY] = request_id
        environ[self.environ_header] = request_id

        def start_response_with_id(
            status: str, headers: Headers, exc_info: ExcInfo | None = None
        ) -> Write:
            return start_response(status, replaced(headers, self.header, request_id), exc_info)

        return self.app(environ, start_response_with_id)

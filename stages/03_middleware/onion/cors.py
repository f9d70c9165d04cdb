"""CORS: let pages from other origins call this API from a browser, and say which.

A browser running a page from ``http://localhost:3000`` refuses to show it
the responses of ``http://127.0.0.1:8000`` unless those responses say it may
(the Fetch standard's CORS protocol). Two kinds of request:

* **simple and actual requests** carry an ``Origin`` header; the app answers
  as usual and this middleware adds ``Access-Control-Allow-Origin`` (plus
  ``-Expose-Headers`` and ``-Allow-Credentials`` when configured);
* **preflight requests**, ``OPTIONS`` with ``Access-Control-Request-Method``,
  are the browser asking before a non-simple request (a PUT, a JSON body, a
  custom header). This middleware answers them by itself, without calling
  the app, and they carry no credentials: so CORS goes *outside* any
  authentication layer.

A response whose CORS headers depend on the ``Origin`` says
``Vary: Origin``, so that a cache does not serve one origin's answer to
another.
"""

from __future__ import annotations

from collections.abc import Iterable

from rawwsgi.http11 import list_elements
from rawwsgi.protocol import Environ, ExcInfo, Headers, StartResponse, Write, WSGIApp

from onion.headers import add_vary, without

DEFAULT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
)


class CORS:
    """Answer CORS preflights; add CORS headers to the responses of allowed origins."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        allow_origins: Iterable[str] = (),
        allow_methods: Iterable[str] = DEFAULT_METHODS,
        allow_headers: Iterable[str] = ("Content-Type", "Authorization"),
        expose_headers: Iterable[str] = (),
        allow_credentials: bool = False,
        max_age: int = 600,
    ) -> None:
        origins = tuple(allow_origins)
        if not origins:
            raise ValueError('allow_origins is empty: list origins, or ("*",) for any')
        self.any_origin = "*" in origins
        if self.any_origin and allow_credentials:
            # The Fetch standard refuses "*" with credentials; echoing any origin instead
            # would let every site on the web act with the user's cookies.
            raise ValueError("allow_origins='*' cannot go with allow_credentials=True")
        self.app = app
        self.origins = frozenset(origins)
        self.methods = tuple(method.upper() for method in allow_methods)
        self.headers = tuple(allow_headers)
        self.header_names = frozenset(name.lower() for name in self.headers)
        self.expose = ", ".join(expose_headers)
        self.credentials = allow_credentials
        self.max_age = max_age

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Answer a preflight here; pass anything else on, adding CORS headers."""
        origin = environ.get("HTTP_ORIGIN")
        if (
            origin is not None
            and environ["REQUEST_METHOD"] == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        ):
            return self.preflight(environ, origin, start_response)
        extra = self.simple_headers(origin)

        def start_response_with_cors(
            status: str, headers: Headers, exc_info: ExcInfo | None = None
        ) -> Write:
            headers = (without(headers, *CORS_HEADERS) + extra) if extra else list(headers)
            if not self.any_origin:
                headers = add_vary(headers, "Origin")
            return start_response(status, headers, exc_info)

        return self.app(environ, start_response_with_cors)

    def allows(self, origin: str) -> bool:
        """Return whether responses may be shared with ``origin``."""
        return self.any_origin or origin in self.origins

    def simple_headers(self, origin: str | None) -> Headers:
        """Return the CORS headers for an actual request from ``origin`` (none if refused)."""
        if origin is None or not self.allows(origin):
            return []
        headers = [("Access-Control-Allow-Origin", "*" if self.any_origin else origin)]
        if self.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        if self.expose:
            headers.append(("Access-Control-Expose-Headers", self.expose))
        return headers

    def refusal(self, origin: str, method: str, requested: list[str]) -> str | None:
        """Return why a preflight is refused, or None if it is allowed."""
        if not self.allows(origin):
            return "origin not allowed"
        if method not in self.methods:
            return f"method {method} not allowed"
        refused = [name for name in requested if name.lower() not in self.header_names]
        if refused:
            return f"header(s) not allowed: {', '.join(refused)}"
        return None

    def preflight(
        self, environ: Environ, origin: str, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer a preflight: 200 with what is allowed, or 403 saying what is not."""
        method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
        # A list of field names split on "," with OWS (SP, HTAB) only: "\xa0x-token"
        # is not "x-token" and is refused (RFC 9110 §5.6.1, §5.6.3).
        requested = list_elements(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
        problem = self.refusal(origin, method, requested)
        vary: Headers = [] if self.any_origin else [("Vary", "Origin")]
        if problem is not None:
            body = f"CORS preflight refused: {problem}\n".encode()
            start_response(
                "403 Forbidden",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    *vary,
                ],
            )
            return [body]
        headers = [
            *self.simple_headers(origin),
            ("Access-Control-Allow-Methods", ", ".join(self.methods)),
            ("Access-Control-Max-Age", str(self.max_age)),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", "0"),
            *vary,
        ]
        if self.headers:
            headers.append(("Access-Control-Allow-Headers", ", ".join(self.headers)))
        start_response("200 OK", headers)
        return []

"""Stage 03's onion, built from Paste's WSGI middlewares around the same books API.

Why Paste: it is the WSGI world's long-lived middleware collection (the
Pylons and Pyramid lineage), still released for current Pythons (3.10.x,
2024), and it has four of our six layers as separate middlewares:
``TransLogger`` (access log), ``ErrorMiddleware`` (errors to a 500 page),
``paste.gzipper`` (gzip) and ``AuthBasicHandler`` (Basic auth). Werkzeug,
the maintained toolkit under Flask, ships middleware too, but none of
these four. For CORS and request ids no maintained *WSGI* middleware
exists: Flask-Cors and flask-log-request-id are Flask extensions, and
``wsgicors`` was last released in 2017. The trace leaves those two layers
out on this side, and the map table says so.

The order follows stage 03's (see ``onion.example``): access log outside,
then errors, then gzip, then auth, then stage 03's books API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from onion.example import create_api
from paste.auth.basic import AuthBasicHandler
from paste.exceptions.errormiddleware import ErrorMiddleware
from paste.gzipper import middleware as gzip_middleware
from paste.translogger import TransLogger

Environ = dict[str, Any]
USERS = {"admin": "secret"}


def check_password(environ: Environ, username: str, password: str) -> bool:
    """Return True for stage 03's one user (``admin`` / ``secret``)."""
    return USERS.get(username) == password


def create_stack() -> Any:
    """Return stage 03's books API wrapped in Paste's four middlewares, outermost last."""
    app: Any = create_api()
    app = AuthBasicHandler(app, "books", check_password)
    app = gzip_middleware(app, compress_level=6)
    app = ErrorMiddleware(app, debug=False, show_exceptions_in_wsgi_errors=False)
    return TransLogger(app, setup_console_handler=False)


stack: Callable[[Environ, Any], Iterable[bytes]] = create_stack()  # paste is untyped


def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
    """The WSGI app a server runs: the whole stack."""
    return stack(environ, start_response)

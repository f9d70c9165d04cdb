"""Stage 02's books API, wrapped in the middleware onion.

    request  -> AccessLog -> RequestID -> CORS -> ErrorHandler -> Gzip -> BasicAuth -> router
    response <- AccessLog <- RequestID <- CORS <- ErrorHandler <- Gzip <- BasicAuth <- router

Why this order, from the outside in:

* ``AccessLog`` first, so it sees the final answer of every other layer:
  the 500 the error handler made, the 401 of the auth layer, the bytes gzip
  saved, the id the request-id layer chose (it reads it from the environ
  when the response is closed).
* ``RequestID`` next, so even an error page carries the id.
* ``CORS`` outside the error handler, so that a 500 carries the CORS
  headers too: without them a browser reports a CORS failure and hides
  the 500 from the page. And outside ``BasicAuth``: a browser's preflight
  carries no credentials and must be answered, and a 401 needs CORS headers
  too, or the page cannot read it.
* ``ErrorHandler`` around everything that can really fail: the app, the
  compression, the authentication. (The three layers outside it only add
  headers; an exception there reaches the server, which answers 500.)
* ``Gzip`` around the app's responses (and the small 401, which it leaves
  alone: too small to be worth it).
* ``BasicAuth`` last: only writes need a password (GET, HEAD and OPTIONS
  are exempt), ``admin`` / ``secret`` unless ``ONION_PASSWORD`` says other.

Two routes are added to the API to show the error handler at work:
``/boom`` raises in the handler (a clean 500), and ``/boom/stream`` raises
after its first chunk is sent (too late for a 500: the connection is cut).
Run with ``ONION_DEBUG=1`` to see tracebacks in the 500 pages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial

from rawwsgi.protocol import WSGIApp
from wsgirouter.example import create_app
from wsgirouter.request import Request
from wsgirouter.response import Response
from wsgirouter.router import Router

from onion.access_log import AccessLog
from onion.basic_auth import BasicAuth
from onion.compose import Layer, build
from onion.cors import CORS
from onion.errors import ErrorHandler
from onion.gzip import Gzip
from onion.request_id import RequestID

#: The page origin allowed to call the API from a browser (a dev server, say).
FRONTEND_ORIGIN = "http://localhost:3000"


def boom(request: Request) -> Response:
    """Fail in the handler, before anything is sent."""
    raise RuntimeError("a bug in a handler")


def boom_stream(request: Request) -> Response:
    """Fail after the first chunk of a streaming body is sent."""

    def lines() -> Iterator[bytes]:
        yield b"first line, sent\n"
        raise RuntimeError("a bug while streaming")

    return Response(lines(), content_type="text/plain; charset=utf-8")


def middleware(*, debug: bool = False, password: str = "secret") -> list[Layer]:
    """Return the layers of the onion, outermost first (see the module docstring)."""
    return [
        AccessLog,
        RequestID,
        partial(
            CORS,
            allow_origins=[FRONTEND_ORIGIN],
            allow_headers=["Content-Type", "Authorization", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Location"],
        ),
        partial(ErrorHandler, debug=debug),
        partial(Gzip, minimum_size=200),
        partial(BasicAuth, users={"admin": password}, exempt_methods=("GET", "HEAD", "OPTIONS")),
    ]


def create_api() -> Router:
    """Return stage 02's books API with the two routes that fail on purpose."""
    api = create_app()
    api.add("/boom", boom, methods=["GET"])
    api.add("/boom/stream", boom_stream, methods=["GET"])
    return api


def create_stack(*, debug: bool = False, password: str = "secret") -> WSGIApp:
    """Return the API wrapped in every layer."""
    return build(create_api(), *middleware(debug=debug, password=password))


app = create_stack(
    debug=os.environ.get("ONION_DEBUG") == "1", password=os.environ.get("ONION_PASSWORD", "secret")
)

if __name__ == "__main__":
    from onion.compose import layers

    print(" -> ".join(layers(app)))

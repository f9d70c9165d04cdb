"""Build the onion: wrap an app in layers of middleware, the first listed outermost.

A middleware is a WSGI app that holds another WSGI app: it takes the
request on its way in (it may change the environ, or answer by itself), and
the response on its way out (it may change the status, the headers or the
body). Stack them and you get an onion::

    app = build(api, AccessLog, RequestID, ErrorHandler, Gzip)
    # is
    app = AccessLog(RequestID(ErrorHandler(Gzip(api))))

        request  ->  AccessLog -> RequestID -> ErrorHandler -> Gzip -> api
        response <-  AccessLog <- RequestID <- ErrorHandler <- Gzip <- api

The first layer listed sees the request first and the response last, so it
sees everything the others did: the access log, listed first, logs the 500
that the error handler made and the bytes that gzip saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from rawwsgi.protocol import WSGIApp

#: A layer turns an app into a wrapped app: a middleware class, or
#: ``functools.partial(Middleware, option=value)`` to give it options.
Layer: TypeAlias = Callable[[WSGIApp], WSGIApp]


def build(app: WSGIApp, *layers: Layer) -> WSGIApp:
    """Wrap ``app`` in ``layers``; the first listed is the outermost.

    >>> build(api, A, B, C)          # doctest: +SKIP
    A(B(C(api)))
    """
    for layer in reversed(layers):  # wrap from the inside out: the last listed goes on first
        if not callable(layer):
            raise TypeError(
                f"a layer is a middleware class or a callable app -> app, not {layer!r}"
            )
        app = layer(app)
    return app


def layers(app: WSGIApp) -> list[str]:
    """Return the names of the layers from the outside in, following each ``.app``.

    >>> layers(build(api, AccessLog, Gzip))          # doctest: +SKIP
    ['AccessLog', 'Gzip', 'Router']
    """
    names: list[str] = []
    seen: set[int] = set()
    current: object = app
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names.append(getattr(current, "__name__", type(current).__name__))
        current = getattr(current, "app", None)
    return names

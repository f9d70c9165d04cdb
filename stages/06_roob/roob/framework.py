"""The framework layer: ``Roob``, a WSGI application with a route decorator."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from webob import Request, Response

from roob.routing_manager import RouteManager

if TYPE_CHECKING:
    # The protocol's names, defined once in stage 01; roob needs them only
    # for annotations, so it runs without stage 01 on the path.
    from rawwsgi.protocol import Environ, StartResponse

HandlerT = TypeVar("HandlerT", bound=Callable[..., object])


class Roob:
    """A WSGI application: route each request to a handler, return its Response.

    >>> app = Roob()
    >>> @app.route("/hello/{name}")
    ... def hello(request, name):
    ...     return Response(json_body={"hello": name})
    """

    def __init__(self) -> None:
        self.routing_manager = RouteManager()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request: the WSGI entry point the server calls."""
        http_request = Request(environ)
        response = self.routing_manager.dispatch(http_request)
        if not isinstance(response, Response):
            raise TypeError(
                f"a handler must return a webob Response, "
                f"got {type(response).__name__} for {http_request.path}"
            )
        return response(environ, start_response)

    def route(
        self, path: str, methods: Iterable[str] | None = None
    ) -> Callable[[HandlerT], HandlerT]:
        """Register the decorated class or function as the handler of ``path``.

        A class answers the methods it defines (``get``, ``post``, ...); a
        function answers ``methods``, GET (and so HEAD) when none are given:
        ``@app.route("/api/items", methods=["GET", "POST"])``.
        """

        def decorator(handler: HandlerT) -> HandlerT:
            self.routing_manager.register(path, handler, methods)
            return handler

        return decorator

"""The router: a WSGI app that sends each request to the handler registered for it.

The matching itself lives in ``wsgirouter.trie`` (converters, patterns, the
trie, ``PathIndex``): plain strings in, a ``Lookup`` out, no I/O. This
module adds what WSGI needs on top: a ``Request`` built from the environ,
the handler's ``Response`` sent through ``start_response``, and the 404 /
405 / OPTIONS answers. Stage 04's ASGI router puts its own adapter on the
same core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeAlias

from rawwsgi.protocol import Environ, StartResponse

from wsgirouter.request import DEFAULT_MAX_BODY, Request
from wsgirouter.response import HTTPError, Response
from wsgirouter.trie import (
    CONVERTERS,
    Converter,
    Lookup,
    Match,
    Node,
    PathIndex,
    Placeholder,
    Route,
    Segment,
    Static,
    parse_pattern,
    split_path,
)

__all__ = [
    "CONVERTERS",
    "Converter",
    "Handler",
    "Lookup",
    "Match",
    "Node",
    "PathIndex",
    "Placeholder",
    "Route",
    "Router",
    "Segment",
    "Static",
    "parse_pattern",
    "split_path",
]

#: A handler takes the request and the path's parameters, and returns a Response.
Handler: TypeAlias = Callable[..., Response]


class Router(PathIndex):
    """A WSGI app that sends each request to the handler registered for it.

    >>> router = Router()
    >>> @router.get("/books/{id:int}")
    ... def get_book(request, id): return Response.json({"id": id})
    >>> router.lookup("GET", "/books/7").params
    {'id': 7}
    """

    def __init__(
        self,
        *,
        converters: Mapping[str, Converter] | None = None,
        json_errors: bool = False,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        if max_body < 0:
            raise ValueError(f"max_body must be >= 0, not {max_body}")
        super().__init__(converters=converters)
        self.json_errors = json_errors
        self.max_body = max_body

    def add(
        self,
        pattern: str,
        handler: Handler,
        *,
        methods: Iterable[str] = ("GET",),
        name: str | None = None,
    ) -> list[Route]:
        """Register ``handler`` for ``pattern`` and ``methods``; compile the pattern now."""
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {handler!r}")
        return super().add(pattern, handler, methods=methods, name=name)

    # ── Serving: the router is a WSGI app ───────────────────────────────────

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request: route it, run its handler, send the Response."""
        request = Request(environ, max_body=self.max_body)
        try:
            response = self.dispatch(request)
        except HTTPError as error:
            response = self.error_response(error)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """Return the handler's Response, or raise HTTPError (404, 405, 4xx)."""
        lookup = self.lookup(request.method, request.path)
        if lookup.match is Match.NONE:
            raise HTTPError(404, f"no route matches {request.path}")
        if lookup.match is Match.PARTIAL:
            allow = ", ".join(lookup.allowed)
            if request.method == "OPTIONS":
                return Response(b"", 200, [("Allow", allow)])
            raise HTTPError(
                405,
                f"{request.method} is not allowed on {request.path}; allowed: {allow}",
                [("Allow", allow)],
            )
        assert lookup.route is not None  # FULL always carries its route
        response = lookup.route.handler(request, **lookup.params)
        if not isinstance(response, Response):
            raise TypeError(
                f"handler {lookup.route.name!r} returned {type(response).__name__}, "
                "not a Response (try Response.json(...))"
            )
        return response

    def error_response(self, error: HTTPError) -> Response:
        """Return the Response for an HTTPError: plain text, or JSON if asked for."""
        if self.json_errors:
            response = Response.json({"error": error.message}, error.status)
        else:
            response = Response.text(error.message + "\n", error.status)
        for name, value in error.headers:
            response.add_header(name, value)
        return response

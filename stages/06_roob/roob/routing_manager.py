"""The routing layer: store routes as they are registered, dispatch requests.

``RouteManager.routes`` maps each registered path to its :class:`Route`,
as in the chapter; ``table`` holds the compiled form of the same routes
(:mod:`roob.route_tree`), which the chapter's ``RoutingHelper``
(:mod:`roob.helpers`) searches per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from webob import Request, Response

from roob.helpers import RoutingHelper
from roob.route_tree import Route, RouteTable


class RouteManager:
    """Register routes once at start-up; find and call the right one per request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.table = RouteTable()

    def register(
        self, path: str, handler: Callable[..., Any], methods: Iterable[str] | None = None
    ) -> Route:
        """Compile ``path`` for ``handler`` and add it; a path taken twice is an error.

        ``register("/api/products/{id:d}", ProductModifyController)`` compiles
        the path's segments (``parse.compile`` for ``{id:d}``) here, once,
        and raises ``RuntimeError`` if a route with the same path (or one
        that matches the same URLs, such as ``/api/products/{pk:d}``) exists.
        """
        route = Route.create(path, handler, methods)
        self.table.add(route)
        self.routes[route.path] = route
        return route

    def dispatch(self, http_request: Request) -> Response:
        """Find the handler for the request and return what it returns."""
        handler, kwargs = RoutingHelper.get_handler(self.table, http_request)
        return handler(http_request, **kwargs)

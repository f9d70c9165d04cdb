"""The chapter's helper layer: from a request to the callable that answers it.

:class:`RoutingHelper` is the chapter's class (``RoutingHelper.get_handler``
is what ``RouteManager.dispatch`` calls). Per request it finds the route
for the path in the compiled :class:`~roob.route_tree.RouteTable` and turns
it into the callable that answers: a function route, the bound method of a
fresh class-based view, or one of the
:class:`~roob.common_handlers.CommonHandlers` (400 / 404 / 405). The tree
itself, and how paths are compiled into it, is :mod:`roob.route_tree`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from webob import Request, Response

from roob.common_handlers import CommonHandlers
from roob.route_tree import Route, RouteTable, normalize_request_url

#: What answers a request: ``handler(request, **path_parameters) -> Response``.
Handler: TypeAlias = Callable[..., Response]


# ── Per request ──────────────────────────────────────────────────────────────


class RoutingHelper:
    """Turn a request into the callable that answers it, and its arguments."""

    @classmethod
    def _find_handler(
        cls, table: RouteTable, request: Request
    ) -> tuple[Route | None, dict[str, Any]]:
        """Return the route whose path matches the request, and its parameters."""
        found = table.find(normalize_request_url(request.path_info))
        if found is None:
            return None, {}
        return found

    @classmethod
    def _find_class_based_handler(
        cls, route: Route, request: Request, kwargs: dict[str, Any]
    ) -> tuple[Handler, dict[str, Any]]:
        """Return the view method that answers the request's method, or the 405 handler.

        ``GET`` on a view with ``get`` -> ``(View().get, kwargs)``; a method
        the view does not define -> ``(method_not_allowed_handler, {"allow": ...})``.
        """
        # EXERCISE 6.2: Pick the method of a class-based view
        name = route.view_methods.get(request.method)
        if name is None and request.method == "HEAD":
            name = route.view_methods.get("GET")
        if name is None:
            return CommonHandlers.method_not_allowed_handler, {"allow": route.allow}
        view = route.handler()
        return getattr(view, name), kwargs
        # END EXERCISE

    @classmethod
    def get_handler(cls, table: RouteTable, request: Request) -> tuple[Handler, dict[str, Any]]:
        """Return the callable that answers the request and its keyword arguments.

        A path no route matches gets the 404 handler; a method the route does
        not answer gets the 405 handler; a path that is not UTF-8 gets 400.
        """
        try:
            route, kwargs = cls._find_handler(table, request)
        except UnicodeDecodeError:
            return CommonHandlers.bad_request_handler, {
                "message": "Request path is not valid UTF-8"
            }
        if route is None:
            return CommonHandlers.url_not_found_handler, {}
        if route.is_view:
            return cls._find_class_based_handler(route, request, kwargs)
        if request.method in route.methods:
            return route.handler, kwargs
        return CommonHandlers.method_not_allowed_handler, {"allow": route.allow}

"""An ASGI router: path parameters, 404, 405 with ``Allow``, and WebSocket routes.

Stage 02 built a router for WSGI, and its hard part, the index that finds
the route for a path, does not care which protocol the request came by:
stage 02 keeps it apart, with no I/O, in ``wsgirouter.trie``. So this
router does not write a second one: it imports stage 02's ``PathIndex``
(and none of its WSGI Request, Response or Router) and fills it once, when
the router is built. What this module adds is what ASGI changes:

* a route's endpoint is itself an ASGI app, and the path parameters travel
  to it in ``scope["path_params"]``;
* WebSocket routes live in an index of their own, since a WebSocket is
  routed by its path alone, and one without a route is refused (closed
  before accept, which the server turns into a 403);
* the path to match is the one below the app's mount point: the ASGI spec
  says ``scope["path"]`` includes ``scope["root_path"]``, so a scope with
  ``"root_path": "/api", "path": "/api/hello/ada"`` (what
  ``uvicorn --root-path /api`` makes of a request for ``/hello/ada``, the
  proxy in front having stripped ``/api``) matches ``/hello/ada``;
* the router is an ASGI app too, so middleware can wrap it like anything
  else, and it answers the ``lifespan`` scope::

    router = Router([
        Route("/", home),
        Route("/users/{user_id:int}", show_user, methods=["GET", "DELETE"]),
        WebSocketRoute("/chat/{room}", chat),
    ])

A lookup has three outcomes, not two (``Match``): a path can match while
the method does not. That PARTIAL match is what turns "no route" into
"405 Method Not Allowed" with an ``Allow`` header listing what would work.
The lookup walks stage 02's trie one path segment at a time and never tries
the routes one by one, so it costs the same with 1,000 routes as with 10.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wsgirouter.trie import Lookup, Match, PathIndex, parse_pattern

from rawasgi.protocol import ASGIApp, Receive, Scope, Send
from rawasgi.responses import send_response, send_text

__all__ = [
    "BaseRoute",
    "Lookup",
    "Match",
    "Route",
    "Router",
    "WebSocketRoute",
    "complete_lifespan",
    "route_path",
]

#: The method WebSocket routes are filed under in their index: the opening
#: handshake is a GET request (RFC 6455, section 4.1), and no other method
#: can open a WebSocket.
HANDSHAKE = "GET"


def route_path(scope: Scope) -> str:
    """Return the path below the app's mount point (``root_path``), to route on.

    The ASGI spec (HTTP connection scope) says ``path`` includes
    ``root_path``: ``{"root_path": "/api", "path": "/api/hello"}`` routes
    ``/hello``. The root path must end on a segment boundary (``/apix`` is
    not below ``/api``); a path that is not below it is routed as it is,
    for servers that still send ``path`` without the root path.
    """
    path: str = scope["path"]
    root = scope.get("root_path", "").rstrip("/")
    if not root or not path.startswith(root):
        return path
    rest = path[len(root) :]
    if not rest:
        return "/"
    return rest if rest.startswith("/") else path


class BaseRoute:
    """A path pattern and the ASGI app that serves it.

    The pattern is checked here, so a bad one fails on the line that wrote
    it: it must start with ``/``, each ``{name:converter}`` fills a whole
    segment, uses a converter stage 02 knows (``int``, ``slug``, ``str``,
    ``path``) and a name not used before in the pattern.
    """

    def __init__(self, path: str, endpoint: ASGIApp) -> None:
        if not callable(endpoint):
            raise TypeError(f"endpoint for {path!r} must be an ASGI app, got {endpoint!r}")
        parse_pattern(path)  # raises ValueError for a pattern the index would refuse
        self.path = path
        self.endpoint = endpoint

    def __repr__(self) -> str:
        endpoint = getattr(self.endpoint, "__name__", self.endpoint)
        return f"{type(self).__name__}({self.path!r}, {endpoint})"


class Route(BaseRoute):
    """An HTTP route: a path, an endpoint, and the methods it answers.

    A route that answers GET also answers HEAD (the index serves HEAD with
    the GET route when no route takes HEAD itself; the server drops the
    body), and OPTIONS on its path is answered with ``Allow``.
    """

    def __init__(self, path: str, endpoint: ASGIApp, *, methods: Iterable[str] = ("GET",)) -> None:
        super().__init__(path, endpoint)
        if isinstance(methods, str):
            raise TypeError(f"methods is a list of strings: methods=[{methods!r}]")
        self.methods = frozenset(method.upper() for method in methods)
        if not self.methods:
            raise ValueError(f"route {path!r} needs at least one method")


class WebSocketRoute(BaseRoute):
    """A WebSocket route: WebSockets have a path but no method."""


class Router:
    """Send each request to the route its method and path select; else 404, 405 or a refusal.

    The routes are indexed once, here: HTTP routes in one ``PathIndex``
    (stage 02's trie), WebSocket routes in another. Registering the same
    method and pattern twice is a ValueError, not a route that can never be
    reached. Lifespan events go to ``lifespan`` (an ASGI app) if given;
    otherwise the router completes startup and shutdown itself, so it runs
    on servers that insist on the lifespan protocol.
    """

    def __init__(self, routes: Sequence[BaseRoute], *, lifespan: ASGIApp | None = None) -> None:
        self.routes = tuple(routes)  # a tuple: the index is built once, from these
        self.lifespan = lifespan
        self.http = PathIndex()
        self.websocket = PathIndex()
        for route in self.routes:
            if isinstance(route, Route):
                index, methods = self.http, sorted(route.methods)
            elif isinstance(route, WebSocketRoute):
                index, methods = self.websocket, [HANDSHAKE]
            else:
                raise TypeError(f"routes must be Route or WebSocketRoute, got {route!r}")
            try:
                index.add(route.path, route.endpoint, methods=methods)
            except ValueError as error:
                raise ValueError(f"cannot add {route!r}: {error}") from None

    def lookup(self, scope: Scope) -> Lookup:
        """Find the route for an ``http`` or ``websocket`` scope: FULL, PARTIAL or NONE.

        A FULL lookup carries the route (``lookup.route.handler`` is the
        endpoint) and the converted parameters; a PARTIAL one, the methods
        the path does take (``lookup.allowed``, for ``Allow``).
        """
        if scope["type"] == "websocket":
            return self.websocket.lookup(HANDSHAKE, route_path(scope))
        return self.http.lookup(scope["method"], route_path(scope))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one connection: lifespan, or the route for its method and path."""
        kind = scope["type"]
        if kind == "lifespan":
            await (self.lifespan or complete_lifespan)(scope, receive, send)
            return
        if kind not in ("http", "websocket"):
            # The ASGI spec: an app raises on a scope type it does not know.
            raise ValueError(f"the router does not handle {kind!r} scopes")
        lookup = self.lookup(scope)
        if lookup.match is Match.FULL:
            assert lookup.route is not None  # FULL always carries its route
            scope["path_params"] = lookup.params
            await lookup.route.handler(scope, receive, send)
        elif kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1000})  # before accept: a 403
        elif lookup.match is Match.PARTIAL:
            allow = [(b"allow", ", ".join(lookup.allowed).encode("ascii"))]
            if scope["method"] == "OPTIONS":
                # No route takes OPTIONS itself: answer it for the path (RFC 9110, 9.3.7).
                await send_response(send, 200, b"", headers=allow)
            else:
                await send_text(
                    send, 405, f"Method Not Allowed: {scope['method']}\n", headers=allow
                )
        else:
            await send_text(send, 404, f"Not Found: {scope['path']}\n")

    def describe(self) -> str:
        """Return both compiled indexes as text, as stage 02's ``describe`` draws them."""
        return (
            f"HTTP routes\n{self.http.describe()}\n\n"
            f"WebSocket routes (filed under {HANDSHAKE}, the handshake's method)\n"
            f"{self.websocket.describe()}"
        )


async def complete_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the lifespan protocol with nothing to do at startup or shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return

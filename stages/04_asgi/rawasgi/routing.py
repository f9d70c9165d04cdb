"""An ASGI router: path parameters, 404, 405 with ``Allow``, and WebSocket routes.

Stage 02 built a router for WSGI. The ideas carry over unchanged, only the
calling convention differs: a route's endpoint is itself an ASGI app, the
path parameters travel in ``scope["path_params"]``, and the router is an app
too, so middleware can wrap it like anything else::

    router = Router([
        Route("/", home),
        Route("/users/{user_id:int}", show_user, methods=["GET", "DELETE"]),
        WebSocketRoute("/chat/{room}", chat),
    ])

Matching has three outcomes, not two (``Match``): a route can match the
path but not the method. That PARTIAL match is what turns "no route" into
"405 Method Not Allowed" with an ``Allow`` header listing what would work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Any

from rawasgi.protocol import ASGIApp, Receive, Scope, Send
from rawasgi.responses import send_text

#: A converter: the regex one parameter matches, and the function that converts it.
Converter = tuple[str, Callable[[str], Any]]

CONVERTERS: dict[str, Converter] = {
    "str": (r"[^/]+", str),
    "int": (r"[0-9]+", int),
    "path": (r".*", str),
}

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}")


class Match(Enum):
    """How well a route fits a request."""

    NONE = 0  # wrong path (or wrong scope type)
    PARTIAL = 1  # right path, wrong method: remembered for the 405's Allow header
    FULL = 2  # right path and method


def compile_path(path: str) -> tuple[re.Pattern[str], dict[str, Callable[[str], Any]]]:
    """Compile a route path to a regex and the converter of each parameter.

    ``"/users/{user_id:int}"`` -> ``^/users/(?P<user_id>[0-9]+)$`` and
    ``{"user_id": int}``. Literal text is escaped, so ``"/a.b"`` matches only
    itself. An unknown converter or a repeated name is a ValueError.
    """
    if not path.startswith("/"):
        raise ValueError(f"route path must start with '/': {path!r}")
    pattern = "^"
    converters: dict[str, Callable[[str], Any]] = {}
    position = 0
    for parameter in _PARAMETER.finditer(path):
        name, kind = parameter.group(1), parameter.group(2) or "str"
        if kind not in CONVERTERS:
            raise ValueError(f"unknown converter {kind!r} in {path!r}; known: {sorted(CONVERTERS)}")
        if name in converters:
            raise ValueError(f"parameter {name!r} appears twice in {path!r}")
        regex, convert = CONVERTERS[kind]
        pattern += re.escape(path[position:parameter.start()]) + f"(?P<{name}>{regex})"
        converters[name] = convert
        position = parameter.end()
    pattern += re.escape(path[position:]) + "$"
    return re.compile(pattern), converters


def route_path(scope: Scope) -> str:
    """Return the path below the app's mount point (``root_path``)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root):] or "/"
    return path


class BaseRoute:
    """A path pattern and the ASGI app that serves it."""

    scope_type = ""

    def __init__(self, path: str, endpoint: ASGIApp) -> None:
        if not callable(endpoint):
            raise TypeError(f"endpoint for {path!r} must be an ASGI app, got {endpoint!r}")
        self.path = path
        self.endpoint = endpoint
        self.regex, self.converters = compile_path(path)

    def match_path(self, scope: Scope) -> dict[str, Any] | None:
        """Return the converted path parameters, or None if the path does not match."""
        if scope["type"] != self.scope_type:
            return None
        found = self.regex.match(route_path(scope))
        if found is None:
            return None
        return {name: self.converters[name](value) for name, value in found.groupdict().items()}

    def matches(self, scope: Scope) -> tuple[Match, dict[str, Any]]:
        """Return how well this route fits the request, and its path parameters."""
        params = self.match_path(scope)
        return (Match.NONE, {}) if params is None else (Match.FULL, params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, {getattr(self.endpoint, '__name__', self.endpoint)})"


class Route(BaseRoute):
    """An HTTP route: a path, an endpoint, and the methods it answers.

    A route that answers GET also answers HEAD: the server drops the body.
    """

    scope_type = "http"

    def __init__(self, path: str, endpoint: ASGIApp, *,
                 methods: Iterable[str] = ("GET",)) -> None:
        super().__init__(path, endpoint)
        self.methods = frozenset(method.upper() for method in methods)
        if not self.methods:
            raise ValueError(f"route {path!r} needs at least one method")
        if "GET" in self.methods:
            self.methods |= {"HEAD"}

    def matches(self, scope: Scope) -> tuple[Match, dict[str, Any]]:
        """Return FULL for path and method, PARTIAL for path only, else NONE."""
        params = self.match_path(scope)
        if params is None:
            return Match.NONE, {}
        if scope["method"] in self.methods:
            return Match.FULL, params
        return Match.PARTIAL, params


class WebSocketRoute(BaseRoute):
    """A WebSocket route: WebSockets have a path but no method."""

    scope_type = "websocket"


class Router:
    """Send each request to the first route that fits; else 404, 405 or a refused socket.

    Lifespan events go to ``lifespan`` (an ASGI app) if given; otherwise the
    router completes startup and shutdown itself, so it runs on servers
    that insist on the lifespan protocol.
    """

    def __init__(self, routes: Sequence[BaseRoute], *, lifespan: ASGIApp | None = None) -> None:
        for route in routes:
            if not isinstance(route, BaseRoute):
                raise TypeError(f"routes must be Route or WebSocketRoute, got {route!r}")
        self.routes = list(routes)
        self.lifespan = lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one connection: lifespan, or the best route for its path."""
        if scope["type"] == "lifespan":
            await (self.lifespan or complete_lifespan)(scope, receive, send)
            return
        allowed: set[str] = set()
        for route in self.routes:
            match, params = route.matches(scope)
            if match is Match.FULL:
                scope["path_params"] = params
                await route.endpoint(scope, receive, send)
                return
            if match is Match.PARTIAL and isinstance(route, Route):
                # The path is right but the method is not: keep looking (another
                # route may take this method), and remember it for Allow.
                allowed |= route.methods
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1000})  # before accept: a 403
        elif allowed:
            await send_text(send, 405, f"Method Not Allowed: {scope['method']}\n",
                            headers=[(b"allow", ", ".join(sorted(allowed)).encode("ascii"))])
        else:
            await send_text(send, 404, f"Not Found: {scope['path']}\n")


async def complete_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the lifespan protocol with nothing to do at startup or shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return

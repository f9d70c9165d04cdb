# ruff: noqa
# The chapter's bare.py, verbatim: from the "# bare.py" line down, this is the
# chapter's code block, unedited. It is not the stage: the tests load it as
# ``bare_chapter_copy`` to show that each flaw the stage fixes is real.
# bare.py
import asyncio
import json
import re
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple


# ── Types ─────────────────────────────────────────────────────────────────────

Headers = List[Tuple[bytes, bytes]]
ASGIApp = Callable  # (scope, receive, send) -> None


# ── Request ───────────────────────────────────────────────────────────────────


class Request:
    def __init__(self, scope: dict, receive: Callable):
        self._scope = scope
        self._receive = receive
        self._body: Optional[bytes] = None

    @property
    def method(self) -> str:
        return self._scope["method"]

    @property
    def path(self) -> str:
        return self._scope["path"]

    @property
    def query_string(self) -> str:
        return self._scope.get("query_string", b"").decode("latin-1")

    @property
    def headers(self) -> Dict[str, str]:
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in self._scope.get("headers", [])}

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return self.header("content-type")

    @property
    def path_params(self) -> Dict[str, str]:
        return self._scope.get("path_params", {})

    @property
    def query_params(self) -> Dict[str, List[str]]:
        return urllib.parse.parse_qs(self.query_string, keep_blank_values=True)

    def query(self, name: str, default: str = "") -> str:
        values = self.query_params.get(name, [])
        return values[0] if values else default

    async def body(self) -> bytes:
        if self._body is None:
            chunks = []
            while True:
                event = await self._receive()
                if event["type"] == "http.request":
                    chunks.append(event.get("body", b""))
                    if not event.get("more_body", False):
                        break
                elif event["type"] == "http.disconnect":
                    break
            self._body = b"".join(chunks)
        return self._body

    async def text(self) -> str:
        return (await self.body()).decode("utf-8")

    async def json(self) -> Any:
        return json.loads(await self.body())

    @property
    def app(self) -> "Bare":
        return self._scope["app"]

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


# ── Response ──────────────────────────────────────────────────────────────────


class Response:
    def __init__(
        self,
        body: Any = None,
        status: int = 200,
        headers: Optional[Dict[str, str]] = None,
        content_type: str = "text/plain; charset=utf-8",
    ):
        self.status = status
        self._headers = {"content-type": content_type}
        if headers:
            self._headers.update({k.lower(): v for k, v in headers.items()})

        if body is None:
            self._body = b""
        elif isinstance(body, bytes):
            self._body = body
        elif isinstance(body, str):
            self._body = body.encode("utf-8")
        else:
            self._body = str(body).encode("utf-8")

    def set_header(self, name: str, value: str) -> "Response":
        self._headers[name.lower()] = value
        return self

    def set_cookie(self, name: str, value: str, **attrs) -> "Response":
        cookie = f"{name}={value}"
        for attr, attr_val in attrs.items():
            cookie += f"; {attr.replace('_', '-')}={attr_val}"
        self._headers.setdefault("set-cookie", cookie)
        return self

    async def send(self, send: Callable) -> None:
        headers = list(self._headers.items())
        headers.append(("content-length", str(len(self._body))))

        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]

        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": raw_headers,
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": self._body,
                "more_body": False,
            }
        )


class JSONResponse(Response):
    def __init__(self, data: Any, status: int = 200, **kwargs):
        super().__init__(
            body=json.dumps(data, default=str),
            status=status,
            content_type="application/json",
            **kwargs,
        )


class HTMLResponse(Response):
    def __init__(self, html: str, status: int = 200, **kwargs):
        super().__init__(
            body=html, status=status, content_type="text/html; charset=utf-8", **kwargs
        )


class RedirectResponse(Response):
    def __init__(self, location: str, status: int = 302):
        super().__init__(status=status, headers={"location": location})


# ── Routing ───────────────────────────────────────────────────────────────────


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable
    param_names: List[str]


def compile_route(path: str) -> Tuple[re.Pattern, List[str]]:
    """Convert '/users/{id:int}' to a compiled regex and param names."""
    converters = {"str": r"[^/]+", "int": r"[0-9]+", "slug": r"[a-zA-Z0-9-]+"}
    param_names = []

    def replace(m):
        name, _, conv = m.group(1).partition(":")
        param_names.append(name)
        return f"(?P<{name}>{converters.get(conv or 'str', converters['str'])})"

    regex = "^" + re.sub(r"\{([^}]+)\}", replace, path) + "$"
    return re.compile(regex), param_names


# ── WebSocket ─────────────────────────────────────────────────────────────────


class WebSocket:
    def __init__(self, scope: dict, receive: Callable, send: Callable):
        self._scope = scope
        self._receive = receive
        self._send = send
        self.path_params: Dict[str, str] = scope.get("path_params", {})

    async def accept(self, subprotocol: str = None) -> None:
        event = await self._receive()
        assert event["type"] == "websocket.connect"
        await self._send(
            {
                "type": "websocket.accept",
                "subprotocol": subprotocol,
            }
        )

    async def receive_text(self) -> Optional[str]:
        event = await self._receive()
        if event["type"] == "websocket.receive":
            return event.get("text")
        return None  # disconnect

    async def receive_bytes(self) -> Optional[bytes]:
        event = await self._receive()
        if event["type"] == "websocket.receive":
            return event.get("bytes")
        return None

    async def receive_json(self) -> Any:
        text = await self.receive_text()
        return json.loads(text) if text is not None else None

    async def send_text(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any) -> None:
        await self.send_text(json.dumps(data, default=str))

    async def close(self, code: int = 1000) -> None:
        await self._send({"type": "websocket.close", "code": code})

    async def __aenter__(self) -> "WebSocket":
        await self.accept()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


# ── The Framework ─────────────────────────────────────────────────────────────


class Bare:
    def __init__(self):
        self._http_routes: List[Route] = []
        self._ws_routes: List[Route] = []
        self._startup_handlers: List[Callable] = []
        self._shutdown_handlers: List[Callable] = []
        self._middleware: List[Callable] = []
        self._built_app: Optional[ASGIApp] = None
        self.state: Dict[str, Any] = {}

    # ── Route registration ────────────────────────────────────────────────

    def route(self, path: str, methods: List[str] = None):
        """Decorator to register an HTTP route handler."""
        methods = [m.upper() for m in (methods or ["GET"])]

        def decorator(func: Callable) -> Callable:
            pattern, param_names = compile_route(path)
            for method in methods:
                self._http_routes.append(Route(method, pattern, func, param_names))
            return func

        return decorator

    def get(self, path: str):
        return self.route(path, ["GET"])

    def post(self, path: str):
        return self.route(path, ["POST"])

    def put(self, path: str):
        return self.route(path, ["PUT"])

    def patch(self, path: str):
        return self.route(path, ["PATCH"])

    def delete(self, path: str):
        return self.route(path, ["DELETE"])

    def websocket(self, path: str):
        """Decorator to register a WebSocket handler."""

        def decorator(func: Callable) -> Callable:
            pattern, param_names = compile_route(path)
            self._ws_routes.append(Route("WS", pattern, func, param_names))
            return func

        return decorator

    # ── Lifespan ──────────────────────────────────────────────────────────

    def on_startup(self, func: Callable) -> Callable:
        self._startup_handlers.append(func)
        return func

    def on_shutdown(self, func: Callable) -> Callable:
        self._shutdown_handlers.append(func)
        return func

    # ── Middleware ────────────────────────────────────────────────────────

    def add_middleware(self, middleware_class, **kwargs):
        self._middleware.append((middleware_class, kwargs))
        self._built_app = None  # Invalidate cache

    # ── ASGI interface ────────────────────────────────────────────────────

    async def __call__(self, scope, receive, send):
        if self._built_app is None:
            self._built_app = self._build_app()
        await self._built_app(scope, receive, send)

    def _build_app(self) -> ASGIApp:
        app = self._handle
        for mw_class, kwargs in reversed(self._middleware):
            app = mw_class(app, **kwargs)
        return app

    async def _handle(self, scope, receive, send):
        scope["app"] = self

        if scope["type"] == "lifespan":
            await self._handle_lifespan(receive, send)
        elif scope["type"] == "http":
            await self._handle_http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._handle_websocket(scope, receive, send)

    async def _handle_lifespan(self, receive, send):
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                try:
                    for handler in self._startup_handlers:
                        await handler() if asyncio.iscoroutinefunction(handler) else handler()
                    await send({"type": "lifespan.startup.complete"})
                except Exception as e:
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
            elif event["type"] == "lifespan.shutdown":
                for handler in self._shutdown_handlers:
                    try:
                        await handler() if asyncio.iscoroutinefunction(handler) else handler()
                    except Exception:
                        pass
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle_http(self, scope, receive, send):
        method = scope["method"]
        path = scope["path"]

        matched = []
        for route in self._http_routes:
            m = route.pattern.match(path)
            if m:
                matched.append((route, m))

        if not matched:
            await JSONResponse({"error": "not found"}, 404).send(send)
            return

        for route, m in matched:
            if route.method == method:
                scope["path_params"] = m.groupdict()
                request = Request(scope, receive)
                try:
                    response = await route.handler(request)
                    if response is None:
                        response = Response()
                    if not isinstance(response, Response):
                        response = JSONResponse(response)
                    await response.send(send)
                except Exception as e:
                    await JSONResponse({"error": str(e)}, 500).send(send)
                return

        allowed = sorted({r.method for r, _ in matched})
        await JSONResponse(
            {"error": "method not allowed", "allowed": allowed},
            405,
            headers={"allow": ", ".join(allowed)},
        ).send(send)

    async def _handle_websocket(self, scope, receive, send):
        path = scope["path"]
        for route in self._ws_routes:
            m = route.pattern.match(path)
            if m:
                scope["path_params"] = m.groupdict()
                ws = WebSocket(scope, receive, send)
                try:
                    await route.handler(ws)
                except Exception:
                    await send({"type": "websocket.close", "code": 1011})
                return

        # No matching WebSocket route — reject
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.close", "code": 4004})

    def run(self, host: str = "127.0.0.1", port: int = 8000, **kwargs):
        """Convenience method to run with uvicorn."""
        import uvicorn

        uvicorn.run(self, host=host, port=port, **kwargs)

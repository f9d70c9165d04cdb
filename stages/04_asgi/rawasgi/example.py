"""The router and the middleware together: a small API wrapped in the ASGI onion.

Serve it with either server::

    cd stages/04_asgi
    ../../.venv/bin/python -m rawasgi.server rawasgi.example:app --port 8000
    ../../.venv/bin/uvicorn rawasgi.example:app --port 8000

    curl -i http://127.0.0.1:8000/hello/ada          # a path parameter
    curl -i http://127.0.0.1:8000/add/2/40           # two int parameters
    curl -i -X DELETE http://127.0.0.1:8000/hello/ada  # 405, Allow: GET, HEAD, OPTIONS
    curl -I http://127.0.0.1:8000/hello/ada          # HEAD: the GET's headers, no body
    curl -i http://127.0.0.1:8000/boom               # 500, traceback in the log
    python -m websockets ws://127.0.0.1:8000/rooms/lobby

Read ``build_app`` from the inside out: the router answers, BodyLimit
guards what comes in, ServerErrors catches what goes wrong, AccessLog sees
everything, exactly the onion of stage 03.
"""

from __future__ import annotations

from rawasgi.apps import echo, lifespan
from rawasgi.middleware import AccessLog, BodyLimit, ServerErrors
from rawasgi.protocol import ASGIApp, Receive, Scope, Send
from rawasgi.responses import send_json, send_text
from rawasgi.routing import Route, Router, WebSocketRoute

#: The largest request body the example accepts.
MAX_BODY = 64 * 1024


async def home(scope: Scope, receive: Receive, send: Send) -> None:
    """List the routes this example serves."""
    await send_json(
        send,
        200,
        {"routes": ["/hello/{name}", "/add/{a:int}/{b:int}", "/echo", "/boom", "ws /rooms/{room}"]},
    )


async def hello_name(scope: Scope, receive: Receive, send: Send) -> None:
    """Greet the ``name`` path parameter."""
    await send_text(send, 200, f"Hello, {scope['path_params']['name']}!\n")


#: The largest integer every JSON parser reads exactly (RFC 8259, section 6):
#: past it, a client's parser may round it; past 4,300 digits, Python's json
#: cannot even write it (a ValueError, so a 500, for the sum of two such ids).
MAX_SAFE_INTEGER = 2**53 - 1


async def add(scope: Scope, receive: Receive, send: Send) -> None:
    """Add two int path parameters (the router has already converted them)."""
    params = scope["path_params"]
    a, b = params["a"], params["b"]
    if max(a, b, a + b) > MAX_SAFE_INTEGER:
        await send_text(send, 400, f"a, b and their sum must be at most {MAX_SAFE_INTEGER}\n")
        return
    await send_json(send, 200, {"a": a, "b": b, "sum": a + b})


async def boom(scope: Scope, receive: Receive, send: Send) -> None:
    """Fail on purpose, to show ServerErrors at work."""
    raise RuntimeError("boom: this handler fails on purpose")


async def room(scope: Scope, receive: Receive, send: Send) -> None:
    """Echo WebSocket messages, prefixed with the room's name."""
    name = scope["path_params"]["room"]
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            text = message["bytes"].decode("utf-8", "replace")
        await send({"type": "websocket.send", "text": f"[{name}] {text}"})


def build_app(*, debug: bool = False, max_body: int = MAX_BODY) -> ASGIApp:
    """Return the router wrapped in the middleware onion."""
    router = Router(
        [
            Route("/", home),
            Route("/hello/{name}", hello_name),
            Route("/add/{a:int}/{b:int}", add),
            Route("/echo", echo, methods=["POST", "PUT"]),
            Route("/boom", boom),
            WebSocketRoute("/rooms/{room}", room),
        ],
        lifespan=lifespan,
    )
    return AccessLog(ServerErrors(BodyLimit(router, max_bytes=max_body), debug=debug))


app = build_app()

"""Raw ASGI apps: no framework, only a scope and two channels of events.

An ASGI app is ``async def app(scope, receive, send)``. The ``scope`` says
what the connection is (an HTTP request, a WebSocket, or the server's own
lifespan); ``receive()`` waits for the next event from the client, and
``send(event)`` hands one event to the server. Where a WSGI app returned a
finished body, an ASGI app *talks*: it can read the body a chunk at a time,
stream its answer, and keep a WebSocket open for as long as it likes.

Try them (``make stage-4`` serves ``app`` on http://127.0.0.1:8000)::

    curl -i http://127.0.0.1:8000/                    # hello
    curl -i http://127.0.0.1:8000/echo -d 'hello'     # the body comes back
    curl -N http://127.0.0.1:8000/stream              # five lines, one at a time
    curl -i http://127.0.0.1:8000/lifespan            # what startup stored
    python -m websockets ws://127.0.0.1:8000/ws       # type, and it echoes
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import parse_qsl

from rawasgi.protocol import ASGIApp, Receive, Scope, Send
from rawasgi.responses import TEXT_PLAIN, send_response, send_text

logger = logging.getLogger("rawasgi.apps")


# ── Reading the request body ─────────────────────────────────────────────────


async def read_body(receive: Receive) -> bytes | None:
    """Collect the request body from ``http.request`` events; None if the client left.

    The server hands the body over in pieces: each ``http.request`` event
    carries some ``body`` bytes and says with ``more_body`` whether more are
    coming. ``[{"body": b"hel", "more_body": True}, {"body": b"lo"}]`` gives
    ``b"hello"``. An ``http.disconnect`` event instead means the client went
    away before sending it all.
    """
    # EXERCISE 4.1: Read a streamed request body
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
    # END EXERCISE


# ── HTTP apps ────────────────────────────────────────────────────────────────


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every request with a plain-text greeting."""
    await send_text(send, 200, "Hello, ASGI!\n")


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Send the request body back, with the request's content type."""
    body = await read_body(receive)
    if body is None:
        return  # nobody is left to answer
    content_type = next(
        (value for name, value in scope["headers"] if name == b"content-type"), TEXT_PLAIN[1]
    )
    await send_response(send, 200, body, headers=[(b"content-type", content_type)])


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    """Stream ``count`` numbered lines, ``delay`` seconds apart: ``/stream?count=5&delay=0.2``.

    The start event has no Content-Length, so the server must frame the body
    itself: chunked transfer coding for HTTP/1.1. Each ``more_body=True``
    event reaches the client as soon as it is sent (watch it with ``curl -N``).
    """
    query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    try:
        count = int(query.get("count", "5"))
        delay = float(query.get("delay", "0.2"))
    except ValueError:
        await send_text(send, 400, "count must be an integer and delay a number\n")
        return
    if not (0 <= count <= 1000 and 0 <= delay <= 5):
        await send_text(send, 400, "count must be 0-1000 and delay 0-5 seconds\n")
        return
    await send({"type": "http.response.start", "status": 200, "headers": [TEXT_PLAIN]})
    for number in range(1, count + 1):
        if number > 1 and delay:
            await asyncio.sleep(delay)
        line = f"line {number} of {count}\n".encode("ascii")
        await send({"type": "http.response.body", "body": line, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def lifespan_info(scope: Scope, receive: Receive, send: Send) -> None:
    """Report what the lifespan startup stored in the server's shared ``state``."""
    state = scope.get("state")
    if state is None or "started_at" not in state:
        await send_text(send, 200, "This server did not run the lifespan startup.\n")
        return
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(state["started_at"]))
    await send_text(send, 200, f"Started by the lifespan protocol at {started}.\n")


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer 404 for a path no app serves."""
    await send_text(send, 404, f"Not Found: {scope['path']}\n")


# ── Lifespan ─────────────────────────────────────────────────────────────────


async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    """Run start-up and shut-down work when the server starts and stops.

    The server calls the app once with ``scope["type"] == "lifespan"`` and
    sends two events over its life: ``lifespan.startup`` before the first
    request and ``lifespan.shutdown`` after the last. ``scope["state"]`` is
    a dict the server copies into every request's scope: the place for
    things opened once, like a database pool.
    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if "state" in scope:
                scope["state"]["started_at"] = time.time()
            logger.info("lifespan: startup complete")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            logger.info("lifespan: shutdown complete")
            await send({"type": "lifespan.shutdown.complete"})
            return


# ── WebSocket apps ───────────────────────────────────────────────────────────


async def websocket_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept a WebSocket and send every message back as it came (text or bytes).

    If the client offers the ``echo`` subprotocol, the app accepts it, so a
    client can see subprotocol negotiation at work.
    """
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    subprotocol = "echo" if "echo" in scope.get("subprotocols", []) else None
    await send({"type": "websocket.accept", "subprotocol": subprotocol})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def websocket_reject(scope: Scope, receive: Receive, send: Send) -> None:
    """Refuse a WebSocket: closing before accepting makes the server answer 403."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 1008})


# ── Dispatch ─────────────────────────────────────────────────────────────────

HTTP_APPS: dict[str, ASGIApp] = {
    "/": hello,
    "/echo": echo,
    "/stream": stream,
    "/lifespan": lifespan_info,
}

WEBSOCKET_APPS: dict[str, ASGIApp] = {
    "/ws": websocket_echo,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Hand each connection to the app for its scope type and path.

    This is the smallest router there is: a dict lookup. ``routing.py``
    grows it into path parameters, 405 and ``Allow``.
    """
    kind = scope["type"]
    if kind == "http":
        await HTTP_APPS.get(scope["path"], not_found)(scope, receive, send)
    elif kind == "websocket":
        await WEBSOCKET_APPS.get(scope["path"], websocket_reject)(scope, receive, send)
    elif kind == "lifespan":
        await lifespan(scope, receive, send)
    else:
        # The spec: an app must raise for a scope type it does not understand.
        raise ValueError(f"unsupported scope type {kind!r}")

"""The chapter's LoggingMiddleware, as written: one stderr line per HTTP request.

    from bare_logging import LoggingMiddleware
    app.add_middleware(LoggingMiddleware)

prints ``GET /tasks → 200 (0.4ms)``. Like every middleware it is an ASGI app
wrapping an ASGI app: it passes non-HTTP scopes straight on, and watches the
``send`` channel to learn the status without touching the response.
"""

from __future__ import annotations

import sys
import time

from bare import ASGIApp, Message, Receive, Scope, Send


class LoggingMiddleware:
    """Print each HTTP request's method, path, status and time taken to stderr."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.monotonic()
        status_code: list[int | None] = [None]

        async def capturing_send(event: Message) -> None:
            if event["type"] == "http.response.start":
                status_code[0] = event["status"]
            await send(event)

        await self.app(scope, receive, capturing_send)

        elapsed = (time.monotonic() - started) * 1000
        print(
            f"{scope['method']} {scope['path']} → {status_code[0]} ({elapsed:.1f}ms)",
            file=sys.stderr,
        )

"""Log one line per HTTP request, by wrapping ``send`` to watch the response go out."""

from __future__ import annotations

import logging
import time

from rawasgi.protocol import ASGIApp, Message, Receive, Scope, Send


class AccessLog:
    """Log ``client - "METHOD /path HTTP/1.1" status bytes time`` for each request.

    WSGI middleware learned the status by wrapping ``start_response``; here
    the same information passes through ``send`` as an
    ``http.response.start`` event, so the middleware hands the app a ``send``
    that looks at each event and passes it on unchanged.
    """

    def __init__(self, app: ASGIApp, *, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger("rawasgi.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, then log what it answered, even if it raised."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        size = 0

        async def send_and_watch(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            self.logger.info(
                "%s", self.format_line(scope, status, size, time.perf_counter() - started)
            )

    @staticmethod
    def format_line(scope: Scope, status: int | None, size: int, seconds: float) -> str:
        """Return one access-log line; status ``-`` means no response was started."""
        client = scope.get("client")
        who = f"{client[0]}:{client[1]}" if client else "-"
        target = scope.get("root_path", "") + scope["path"]
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        version = scope.get("http_version", "1.1")
        return (
            f'{who} - "{scope["method"]} {target} HTTP/{version}" '
            f"{status if status is not None else '-'} {size} {seconds * 1000:.1f}ms"
        )

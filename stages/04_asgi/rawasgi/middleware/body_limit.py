"""Refuse request bodies over a size limit with 413, by wrapping ``receive``."""

from __future__ import annotations

from rawasgi.middleware.response_started import RemembersResponseStart
from rawasgi.protocol import ASGIApp, Message, Receive, Scope, Send
from rawasgi.responses import send_text


class BodyTooLarge(Exception):
    """Raised inside the app's ``receive()`` when the body passes the limit."""


class BodyLimit(RemembersResponseStart):
    """Answer ``413 Content Too Large`` when a request body exceeds ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before the app
    runs. A chunked body has no declared size, so the middleware hands the
    app a ``receive`` that counts the bytes as they stream in and raises
    ``BodyTooLarge`` the moment they pass the limit; the exception unwinds
    the app, and the middleware answers 413 (if the app had not started a
    response yet).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        if not isinstance(max_bytes, int) or max_bytes < 0:
            raise ValueError(f"max_bytes must be a non-negative int, got {max_bytes!r}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with a counting ``receive``; turn BodyTooLarge into 413."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.declared_length(scope) > self.max_bytes:
            await self.refuse(send)
            return
        received = 0

        async def receive_and_count() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(f"request body is over {self.max_bytes} bytes")
            return message

        wrapped, response = self.remembering(send)
        try:
            await self.app(scope, receive_and_count, wrapped)
        except BodyTooLarge:
            if response.started:
                raise
            await self.refuse(send)

    @staticmethod
    def declared_length(scope: Scope) -> int:
        """Return the request's Content-Length, or 0 if it has none (or a bad one)."""
        for name, value in scope["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    async def refuse(self, send: Send) -> None:
        """Send the 413 response."""
        await send_text(
            send,
            413,
            f"Content Too Large: the limit is {self.max_bytes} bytes\n",
            headers=[(b"connection", b"close")],
        )

"""A wrapped ``send`` that remembers whether the response has started.

A middleware that answers for the app when it fails (500 for an exception,
413 for an oversized body) may do so only while nothing has gone out:
once ``http.response.start`` is sent, the status is on its way to the
client (ASGI 3.0, HTTP connection scope: ``http.response.start`` comes
once, before any body). Both such middlewares wrap ``send`` with this one
class instead of each writing the same closure.
"""

from __future__ import annotations

from rawasgi.protocol import Message, Send


class TrackedSend:
    """``send`` for the inner app; ``response_started`` turns True at ``http.response.start``.

    ``tracked = TrackedSend(send); await app(scope, receive, tracked)``; then
    ``tracked.response_started`` says whether a status already went out.
    Every message is passed on unchanged.
    """

    __slots__ = ("send", "response_started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.response_started = False

    async def __call__(self, message: Message) -> None:
        """Pass ``message`` on, noting a response start."""
        if message["type"] == "http.response.start":
            self.response_started = True
        await self.send(message)

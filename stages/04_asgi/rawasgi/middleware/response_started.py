"""Remember whether the app's response has started: the one wrapped ``send`` of two middlewares.

A middleware that answers for the app when it fails (``ServerErrors``: 500
for an exception; ``BodyLimit``: 413 for an oversized body) may do so only
while nothing has gone out: once ``http.response.start`` is sent, the status
is on its way to the client (ASGI 3.0: ``http.response.start`` comes once,
before any body). Both inherit :class:`RemembersResponseStart` instead of
each writing the same closure.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from rawasgi.protocol import Message, Send


@dataclass(slots=True)
class ResponseStarted:
    """One request's answer to "has ``http.response.start`` gone out?"."""

    started: bool = False


class RemembersResponseStart:
    """Mixin for a middleware: wrap ``send`` so that it remembers a response start.

    ``send_and_remember`` is a method of the middleware (so a trace shows
    each event passing through the middleware itself), bound per request to
    that request's ``send`` and :class:`ResponseStarted`.
    """

    def remembering(self, send: Send) -> tuple[Send, ResponseStarted]:
        """Return the ``send`` to give the inner app, and the state it updates.

        ``wrapped, response = self.remembering(send)``; after the app ran (or
        raised), ``response.started`` says whether a status went out.
        """
        response = ResponseStarted()
        return functools.partial(self.send_and_remember, send, response), response

    async def send_and_remember(
        self, send: Send, response: ResponseStarted, message: Message
    ) -> None:
        """Pass ``message`` on unchanged, noting ``http.response.start``."""
        if message["type"] == "http.response.start":
            response.started = True
        await send(message)

"""Turn an unhandled exception into a plain 500, by wrapping ``send`` to know if it can."""

from __future__ import annotations

import logging
import traceback

from rawasgi.middleware.response_started import RemembersResponseStart
from rawasgi.protocol import ASGIApp, Receive, Scope, Send
from rawasgi.responses import send_text


class ServerErrors(RemembersResponseStart):
    """Answer ``500 Internal Server Error`` when the app raises, and log the traceback.

    A 500 can only be sent while nothing has been sent yet: once
    ``http.response.start`` has gone out, the status is on its way to the
    client. So the wrapped ``send`` remembers whether the response started;
    if it had, the middleware re-raises and the server cuts the connection,
    which is the only honest way left to say "this response is broken".

    With ``debug=True`` the 500's body is the traceback (never in production:
    it tells an attacker how your code works).
    """

    def __init__(
        self, app: ASGIApp, *, debug: bool = False, logger: logging.Logger | None = None
    ) -> None:
        self.app = app
        self.debug = debug
        self.logger = logger or logging.getLogger("rawasgi.errors")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; if it raises before responding, send a 500 instead."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wrapped, response = self.remembering(send)
        try:
            await self.app(scope, receive, wrapped)
        except Exception as error:
            self.logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if response.started:
                raise
            text = (
                "".join(traceback.format_exception(error))
                if self.debug
                else ("Internal Server Error\n")
            )
            await send_text(send, 500, text)

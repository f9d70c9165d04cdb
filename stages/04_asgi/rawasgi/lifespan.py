"""Run an app's lifespan protocol: one long call that sees the server start and stop.

WSGI had no way to say "the server is starting, open your database pool".
ASGI does: before the first request the server calls the app once with
``{"type": "lifespan"}`` and keeps that call running for the server's whole
life. Over it travel four events::

    server -> app   lifespan.startup           app -> server   lifespan.startup.complete
                                                               (or .failed, with a message)
    ... the server serves requests ...
    server -> app   lifespan.shutdown          app -> server   lifespan.shutdown.complete

Not every app implements it: with ``mode="auto"`` an app that raises (or
returns) instead of answering ``lifespan.startup`` is taken to not support
lifespan, and the server runs without it, as uvicorn and hypercorn do.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rawasgi.protocol import ASGIApp, Message
from rawasgi.scopes import ASGI_VERSION

MODES = ("auto", "on", "off")


class LifespanFailure(RuntimeError):
    """The app refused to start (``lifespan.startup.failed``) or broke the protocol."""


class Lifespan:
    """Drive the lifespan protocol for one app: ``await startup()``, later ``await shutdown()``.

    ``state`` is the dict the app sees as ``scope["state"]``: whatever startup
    puts there is copied into every request's scope.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        mode: str = "auto",
        state: dict[str, Any] | None = None,
        timeout: float = 10.0,
        logger: logging.Logger | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"lifespan mode must be one of {MODES}, got {mode!r}")
        self.app = app
        self.mode = mode
        self.state: dict[str, Any] = state if state is not None else {}
        self.timeout = timeout
        self.logger = logger or logging.getLogger("rawasgi.server")
        self.supported = mode != "off"
        self._events: asyncio.Queue[Message] = asyncio.Queue()
        self._started = asyncio.Event()  # startup answered, or the app ended
        self._stopped = asyncio.Event()  # shutdown answered, or the app ended
        self._failure: str | None = None  # the message of a *.failed event
        self._error: BaseException | None = None  # what the app raised, if it did
        self._phase = "startup"
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the answer; raise LifespanFailure if refused."""
        if not self.supported:
            return
        scope = {
            "type": "lifespan",
            "asgi": {"version": ASGI_VERSION, "spec_version": "2.0"},
            "state": self.state,
        }
        self._task = asyncio.create_task(self._run(scope))
        await self._events.put({"type": "lifespan.startup"})
        await self._started.wait()
        if self._failure is not None:
            raise LifespanFailure(self._failure or "the app reported lifespan.startup.failed")
        if self._task.done():  # ended without answering startup: no lifespan support
            self.supported = False
            if self.mode == "on":
                raise LifespanFailure(f"the app does not support lifespan: {self._error!r}")
            self.logger.info("The app does not support the lifespan protocol; running without it.")
            return
        self._phase = "running"

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait (up to ``timeout``) for the app to finish."""
        if not self.supported or self._task is None:
            return
        self._phase = "shutdown"
        await self._events.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self._stopped.wait(), self.timeout)
        except TimeoutError:
            self.logger.error("The app did not finish lifespan shutdown within %ss.", self.timeout)
        if self._failure is not None:
            self.logger.error("Application shutdown failed: %s", self._failure)
        if not self._task.done():
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, scope: dict[str, Any]) -> None:
        """Call the app with the lifespan scope, and note how the call ended."""
        try:
            await self.app(scope, self.receive, self.send)
        except Exception as error:
            self._error = error
            if self._phase == "startup" and self.mode == "auto":
                # The usual way for an app to say "I don't do lifespan": it raises.
                self.logger.debug("lifespan call raised %r during startup", error)
            else:
                self.logger.exception("Exception in the app's lifespan handler")
        finally:
            self._started.set()
            self._stopped.set()

    async def receive(self) -> Message:
        """Give the app its next lifespan event."""
        return await self._events.get()

    async def send(self, message: Message) -> None:
        """Take the app's answer to startup or shutdown."""
        kind = message["type"]
        if self._phase == "startup" and kind in (
            "lifespan.startup.complete",
            "lifespan.startup.failed",
        ):
            if kind == "lifespan.startup.failed":
                self._failure = message.get("message", "")
            self._started.set()
        elif self._phase == "shutdown" and kind in (
            "lifespan.shutdown.complete",
            "lifespan.shutdown.failed",
        ):
            if kind == "lifespan.shutdown.failed":
                self._failure = message.get("message", "")
            self._stopped.set()
        else:
            raise RuntimeError(f"unexpected lifespan message {kind!r} during {self._phase}")

"""The ASGI 3.0 protocol, written down once as type names.

Every ASGI piece in stage 04 (apps, the server, the router, middleware) is
typed with these names: an app is an async callable that takes a ``Scope``
(what the connection is) and two channels, ``Receive`` for events coming
in and ``Send`` for events going out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

#: What the connection is: ``{"type": "http" | "websocket" | "lifespan", ...}``.
Scope: TypeAlias = MutableMapping[str, Any]

#: One event on either channel: ``{"type": "http.request", "body": b"...", ...}``.
Message: TypeAlias = MutableMapping[str, Any]

#: Await the next event from the server.
Receive: TypeAlias = Callable[[], Awaitable[Message]]

#: Hand one event to the server.
Send: TypeAlias = Callable[[Message], Awaitable[None]]

#: An ASGI 3.0 application.
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

"""Wrap the ASGI protocol callables so the recorder sees each message.

ASGI 3.0 has one call, ``await app(scope, receive, send)``, and two
channels: every ``await receive()`` brings an event from the server, every
``await send(event)`` hands one to it. :class:`ASGIProbe` wraps both
channels and records each message with the layer that sent or received it
and how long it took (a ``receive`` that waits for the body shows the
wait). :func:`call_asgi` plays the server's part in process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from workbook.tracer.layers import describe_error, short
from workbook.tracer.model import NOTE, PROTOCOL, SERVER, SPAN
from workbook.tracer.recorder import Recorder

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


def scope_snapshot(scope: Scope) -> dict[str, Any]:
    """Return a copy of the scope that JSON and a notebook can show in full."""
    shown: dict[str, Any] = {}
    for key, value in scope.items():
        if key == "headers":
            shown[key] = [(name, header) for name, header in value]
        elif isinstance(value, (str, bytes, int, float, bool, tuple, list, dict)) or value is None:
            shown[key] = value
        else:
            shown[key] = f"<{type(value).__qualname__}>"
    return shown


def message_summary(message: Message) -> str:
    """Return one message in a few words: ``http.response.start 201, 2 headers``."""
    kind = message.get("type", "?")
    if kind == "http.response.start":
        headers = message.get("headers", [])
        plural = "s" if len(headers) != 1 else ""
        return f"status {message.get('status')}, {len(headers)} header{plural}"
    if kind in {"http.request", "http.response.body"}:
        body = message.get("body", b"")
        return f"{short(body)}, more_body={message.get('more_body', False)}"
    if kind.startswith("websocket."):
        for field in ("text", "bytes", "code", "subprotocol"):
            if message.get(field) is not None:
                return f"{field}={short(message[field])}"
    return ""


def message_snapshot(message: Message) -> dict[str, Any]:
    """Return a shallow copy of a message (its header list copied too)."""
    copy = dict(message)
    if "headers" in copy:
        copy["headers"] = [(name, value) for name, value in copy["headers"]]
    return copy


class TracedReceive:
    """``receive``, recorded as an arrow from the server to the awaiting layer."""

    __trace_name__ = "receive"

    def __init__(
        self,
        receive: Callable[[], Awaitable[Message]],
        recorder: Recorder,
        log: list[dict[str, Any]],
    ) -> None:
        self._receive = receive
        self._recorder = recorder
        self._log = log

    async def __call__(self) -> Message:
        start = self._recorder.now()
        message = await self._receive()
        snapshot = message_snapshot(message)
        self._log.append({"direction": "receive", **snapshot})
        self._recorder.event(
            PROTOCOL,
            f"receive {message.get('type')}",
            detail=message_summary(message),
            source=SERVER,
            start=start,
            data={"message": snapshot},
        )
        return message


class TracedSend:
    """``send``, recorded as an arrow from the sending layer to the server."""

    __trace_name__ = "send"

    def __init__(
        self,
        send: Callable[[Message], Awaitable[None]],
        recorder: Recorder,
        log: list[dict[str, Any]],
    ) -> None:
        self._send = send
        self._recorder = recorder
        self._log = log

    async def __call__(self, message: Message) -> None:
        start = self._recorder.now()
        snapshot = message_snapshot(message)
        self._log.append({"direction": "send", **snapshot})
        try:
            await self._send(message)
        finally:
            self._recorder.event(
                PROTOCOL,
                f"send {message.get('type')}",
                detail=message_summary(message),
                lane=SERVER,
                start=start,
                data={"message": snapshot},
            )


class ASGIProbe:
    """An ASGI app that records what passes between its server and ``app``."""

    __trace_name__ = "app"

    def __init__(self, app: Any, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder
        self.scope: dict[str, Any] | None = None
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        recorder = self.recorder
        if not recorder.armed or scope.get("type") == "lifespan":
            await self.app(scope, receive, send)
            return
        self.scope = scope_snapshot(scope)
        self.messages = []
        recorder.event(
            NOTE,
            "scope",
            detail=f"type={scope.get('type')!r} method={scope.get('method')!r} "
            f"path={scope.get('path')!r}, {len(scope.get('headers', []))} headers",
            lane=SERVER,
            source=SERVER,
            data={"scope": self.scope},
        )
        await self.app(
            scope,
            TracedReceive(receive, recorder, self.messages),
            TracedSend(send, recorder, self.messages),
        )

    def entry_lane(self) -> str:
        """Return the lane of the first layer the app call reached."""
        for step in self.recorder.steps:
            if step.kind == SPAN:
                return step.lane
        return "app"


async def call_asgi(
    probe: ASGIProbe, scope: Scope, body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Play the server's part in process: one body message in, the response out.

    After the body, ``receive`` waits until the response is complete and
    then reports ``http.disconnect``, as a server does when the client
    goes away. An app that raises before starting a response gets a 500.
    """
    incoming: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    finished = asyncio.Event()
    response: dict[str, Any] = {"status": None, "headers": [], "body": bytearray()}

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            response["status"] = message["status"]
            response["headers"] = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            response["body"] += message.get("body", b"")
            if not message.get("more_body", False):
                finished.set()

    try:
        await probe(scope, receive, send)
    except Exception as error:  # noqa: BLE001 - a server turns this into a 500
        probe.recorder.event(
            NOTE,
            "500",
            detail=f"the app {describe_error(error)}; the server answers 500",
            lane=SERVER,
            source=SERVER,
        )
        if response["status"] is None:
            return 500, [("content-type", "text/plain")], b"Internal Server Error"
    finally:
        finished.set()
    return response["status"] or 500, response["headers"], bytes(response["body"])

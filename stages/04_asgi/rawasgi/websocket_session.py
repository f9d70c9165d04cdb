"""Serve one WebSocket: map RFC 6455 frames to ASGI ``websocket.*`` events and back.

The HTTP side (``connection.py``) has read the upgrade request and checked
the handshake headers. From here, the conversation with the app is::

    receive() -> websocket.connect         the client is knocking
    send(websocket.accept)                 -> 101 Switching Protocols + Sec-WebSocket-Accept
      or send(websocket.close)             -> 403 Forbidden, no WebSocket at all
    receive() -> websocket.receive         a whole text or binary message arrived
    send(websocket.send)                   -> one text or binary frame
    send(websocket.close)                  -> a close frame with the app's code
    receive() -> websocket.disconnect      the client closed, broke the protocol, or vanished

A reader task runs beside the app once the socket is accepted: it answers
pings by itself (the spec says apps never see them), reassembles
fragmented messages, and turns protocol errors into the right close code
(1002 malformed or unmasked, 1007 bad UTF-8, 1009 too big).
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum

from rawwsgi.http11 import READ_SIZE, error_response, format_response_head

from rawasgi.protocol import ASGIApp, Message, Scope
from rawasgi.websocket import (
    BinaryMessage,
    Close,
    CloseCode,
    Event,
    MessageReader,
    Opcode,
    Ping,
    ProtocolError,
    TextMessage,
    accept_key,
    encode_close_payload,
    encode_frame,
)


class ClientDisconnected(OSError):
    """``send()`` was called on a connection that is already closed (ASGI spec 2.4)."""


async def write_flushed(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Write and flush; raise ClientDisconnected if the client has gone.

    Both halves of a connection write through this: HTTP responses
    (:class:`rawasgi.connection.HTTPConnection`) and WebSocket frames.
    """
    if writer.is_closing():
        raise ClientDisconnected("the client closed the connection")
    writer.write(data)
    try:
        await writer.drain()
    except ConnectionError as error:
        raise ClientDisconnected(str(error)) from error


class State(Enum):
    """Where the WebSocket is in its life."""

    CONNECTING = "connecting"  # handshake received, the app has not answered yet
    OPEN = "open"  # accepted: messages flow both ways
    CLOSING = "closing"  # we sent a close frame and wait for the client's
    CLOSED = "closed"


class WebSocketSession:
    """One WebSocket connection: the app's ``receive`` and ``send``, and a frame reader."""

    def __init__(
        self,
        app: ASGIApp,
        scope: Scope,
        key: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        max_size: int,
        timeout: float,
        logger: logging.Logger,
    ) -> None:
        self.app = app
        self.scope = scope
        self.key = key
        self.reader = reader
        self.writer = writer
        self.max_size = max_size
        self.timeout = timeout
        self.logger = logger
        self.state = State.CONNECTING
        self._connect_sent = False
        self._events: asyncio.Queue[Message] = asyncio.Queue(maxsize=64)
        self._disconnect: Message | None = None  # the last event, once the socket is closed
        self._reader_task: asyncio.Task[None] | None = None

    # ── The app's side ──

    async def run(self) -> None:
        """Run the app for this socket, then finish the closing handshake."""
        try:
            await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass  # the client left; the spec says this is not an error to log
        except Exception:
            self.logger.exception(
                "Exception in ASGI application (WebSocket %s)", self.scope["path"]
            )
            await self._fail(CloseCode.INTERNAL_ERROR)
        else:
            if self.state is State.CONNECTING:
                self.logger.error("ASGI app returned without accepting or closing the WebSocket")
                await self._fail(CloseCode.INTERNAL_ERROR)
            elif self.state is State.OPEN:
                await self._send_close(CloseCode.NORMAL, "")
        await self._finish()

    async def receive(self) -> Message:
        """Return the next event for the app: connect first, then messages, then disconnect."""
        if not self._connect_sent:
            self._connect_sent = True
            return {"type": "websocket.connect"}
        if self._events.empty() and self._disconnect is not None:
            return self._disconnect
        return await self._events.get()

    async def send(self, message: Message) -> None:
        """Carry out the app's accept, send or close, or raise for one out of place."""
        kind = message["type"]
        if self.state is State.CONNECTING:
            if kind == "websocket.accept":
                await self._accept(message)
            elif kind == "websocket.close":
                await self._reject()
            else:
                raise RuntimeError(
                    f"expected 'websocket.accept' or 'websocket.close' before "
                    f"the handshake is done, got {kind!r}"
                )
        elif self.state is State.OPEN:
            if kind == "websocket.send":
                await self._send_data(message)
            elif kind == "websocket.close":
                await self._send_close(
                    message.get("code", CloseCode.NORMAL), message.get("reason") or ""
                )
            else:
                raise RuntimeError(f"expected 'websocket.send' or 'websocket.close', got {kind!r}")
        else:
            raise ClientDisconnected(f"{kind!r} on a closed WebSocket")

    # ── The handshake ──

    async def _accept(self, message: Message) -> None:
        """Finish the handshake with 101, then start reading frames."""
        headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", accept_key(self.key)),
        ]
        if message.get("subprotocol"):
            headers.append(("Sec-WebSocket-Protocol", message["subprotocol"]))
        for name, value in message.get("headers", []):
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        await self._write(format_response_head(101, headers))
        self.state = State.OPEN
        self._reader_task = asyncio.create_task(self._read_frames())

    async def _reject(self) -> None:
        """Refuse the socket: 403, as the ASGI spec requires for close before accept."""
        await self._write(error_response(403, "WebSocket connection refused"))
        self._closed_with(CloseCode.ABNORMAL, "")

    async def _fail(self, code: int) -> None:
        """End a socket the app failed: 500 before the handshake, else close ``code``."""
        if self.state is State.CONNECTING:
            await self._write_quietly(error_response(500, "Internal Server Error"))
            self._closed_with(CloseCode.ABNORMAL, "")
        elif self.state is State.OPEN:
            await self._send_close(code, "")

    # ── Frames out ──

    async def _send_data(self, message: Message) -> None:
        """Send one text or binary message as one frame."""
        text, data = message.get("text"), message.get("bytes")
        if (text is None) == (data is None):
            raise RuntimeError("websocket.send needs exactly one of 'text' and 'bytes'")
        if text is not None:
            await self._write(encode_frame(Opcode.TEXT, text.encode("utf-8")))
        else:
            assert data is not None  # the check above: exactly one of the two is set
            await self._write(encode_frame(Opcode.BINARY, data))

    async def _send_close(self, code: int, reason: str) -> None:
        """Start the closing handshake: send our close frame, then wait for the client's."""
        frame = encode_frame(Opcode.CLOSE, encode_close_payload(code, reason))  # may raise
        self.state = State.CLOSING
        await self._write_quietly(frame)

    async def _write(self, data: bytes) -> None:
        """Write and flush, raising ClientDisconnected if the client is gone."""
        await write_flushed(self.writer, data)

    async def _write_quietly(self, data: bytes) -> None:
        """Write if the client is still there; a gone client is fine here."""
        try:
            await self._write(data)
        except ClientDisconnected:
            self._closed_with(CloseCode.ABNORMAL, "")

    # ── Frames in ──

    async def _read_frames(self) -> None:
        """Read frames until the socket closes, feeding messages to the app's queue."""
        messages = MessageReader(max_size=self.max_size)
        try:
            while True:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    await self._deliver_disconnect(CloseCode.ABNORMAL, "")
                    return
                messages.feed(data)
                while (event := messages.next_event()) is not None:
                    if isinstance(event, Close):
                        await self._answer_close(event)
                        return
                    await self._handle(event)
        except ProtocolError as error:
            self.logger.info("WebSocket closed for a protocol error: %s", error)
            if self.state is State.OPEN:
                await self._write_quietly(
                    encode_frame(Opcode.CLOSE, encode_close_payload(error.code, error.reason))
                )
            await self._deliver_disconnect(error.code, error.reason)
        except ConnectionError:
            await self._deliver_disconnect(CloseCode.ABNORMAL, "")
        except Exception:
            self.logger.exception("WebSocket reader failed")
            if self.state is State.OPEN:
                await self._write_quietly(
                    encode_frame(Opcode.CLOSE, encode_close_payload(CloseCode.INTERNAL_ERROR, ""))
                )
            await self._deliver_disconnect(CloseCode.INTERNAL_ERROR, "")
        finally:
            # RFC 6455 §7.1.1: after the closing handshake the server closes TCP first.
            self.writer.close()

    async def _handle(self, event: Event) -> None:
        """Pass a message to the app, or answer a ping; pongs need nothing."""
        if self.state is not State.OPEN:
            return  # after our close frame, only the client's close matters (§5.5.1)
        if isinstance(event, TextMessage):
            await self._events.put({"type": "websocket.receive", "text": event.text})
        elif isinstance(event, BinaryMessage):
            await self._events.put({"type": "websocket.receive", "bytes": event.data})
        elif isinstance(event, Ping):
            await self._write_quietly(encode_frame(Opcode.PONG, event.payload))

    async def _answer_close(self, event: Close) -> None:
        """Echo the client's close (if we had not sent ours) and tell the app."""
        if self.state is State.OPEN:
            code = CloseCode.NORMAL if event.code == CloseCode.NO_STATUS else event.code
            await self._write_quietly(encode_frame(Opcode.CLOSE, encode_close_payload(code, "")))
        await self._deliver_disconnect(event.code, event.reason)

    async def _deliver_disconnect(self, code: int, reason: str) -> None:
        """Queue the final ``websocket.disconnect`` event for the app."""
        await self._events.put(self._closed_with(code, reason))

    def _closed_with(self, code: int, reason: str) -> Message:
        """Mark the socket closed and return the disconnect event later receives get."""
        self.state = State.CLOSED
        if self._disconnect is None:
            self._disconnect = {"type": "websocket.disconnect", "code": int(code), "reason": reason}
        return self._disconnect

    # ── Shutting down ──

    async def close_for_shutdown(self) -> None:
        """Tell the client the server is going away (1001) and let the app wind down."""
        if self.state is State.OPEN:
            await self._send_close(CloseCode.GOING_AWAY, "server shutting down")

    async def _finish(self) -> None:
        """Wait (briefly) for the client's close frame, then stop reading."""
        if self._reader_task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._reader_task), self.timeout)
        except TimeoutError:
            self._reader_task.cancel()
        await asyncio.gather(self._reader_task, return_exceptions=True)

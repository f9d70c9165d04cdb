"""Serve one HTTP/1.1 connection: bytes in, ASGI events to the app, events back to bytes.

This is where the ASGI model meets the wire. Stage 01's I/O-free parser
turns the bytes into a ``RequestHead``, ``Body`` pieces and an
``EndOfRequest``; this module turns those into the events an app awaits,
and the app's events back into HTTP/1.1:

=================================================  ==========================================
On the wire                                        ASGI
=================================================  ==========================================
request line + headers (``RequestHead``)           the ``http`` scope; the app is called
body bytes, Content-Length or chunked (``Body``)   ``http.request`` with ``more_body=True``
the end of the body (``EndOfRequest``)             ``http.request`` with ``more_body=False``
the client closes, or the response is done         ``http.disconnect``
``Upgrade: websocket``                             the ``websocket`` scope (``websocket_session``)
status line + headers (held until the body)        <- ``http.response.start``
``Content-Length`` body, or one chunk              <- ``http.response.body``, ``more_body=True``
the last bytes, or the ``0\\r\\n\\r\\n`` last-chunk   <- ``http.response.body``, ``more_body=False``
=================================================  ==========================================

A connection serves one request at a time (``RequestCycle``), then either
keeps the connection for the next one (keep-alive, pipelining) or closes it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from rawwsgi.http11 import (
    CONTINUE,
    DRAIN_LIMIT,
    LAST_CHUNK,
    NEED_DATA,
    READ_SIZE,
    Body,
    BodyFraming,
    HTTPDate,
    HTTPError,
    RequestHead,
    RequestParser,
    encode_chunk,
    error_response,
    format_response_head,
    frame_response,
    list_elements,
    parse_response_length,
)

from rawasgi.protocol import ASGIApp, Message, Scope
from rawasgi.scopes import build_http_scope, build_websocket_scope
from rawasgi.websocket import WEBSOCKET_VERSION, is_valid_client_key
from rawasgi.websocket_session import ClientDisconnected, WebSocketSession, write_flushed

__all__ = ["HTTPConnection", "HTTPDate", "RequestCycle", "Settings"]

#: How long a refused client gets to read our error response before the socket closes.
LINGER_SECONDS = 1.0

SERVER_HEADER = ("server", "rawasgi")


class ProtocolViolation(RuntimeError):
    """The app sent an event the ASGI protocol does not allow at this point."""


@dataclass(frozen=True)
class Settings:
    """What every connection of one server shares."""

    app: ASGIApp
    timeout: float
    max_body: int | None
    root_path: str
    ws_max_size: int
    state: dict[str, Any]
    date: HTTPDate
    logger: logging.Logger
    access_logger: logging.Logger


def is_websocket_upgrade(head: RequestHead) -> bool:
    """Return whether a request asks to become a WebSocket (RFC 6455 §4.1).

    Upgrade and Connection are comma-separated lists (RFC 9110 §7.8, §7.6.1):
    each is split into its elements, compared without case, never searched
    for a substring ("Upgrade: notwebsocket" is not a WebSocket).
    """
    upgrade = [protocol.lower() for protocol in list_elements(head.header("upgrade"))]
    connection = [option.lower() for option in list_elements(head.header("connection"))]
    return head.method == "GET" and "websocket" in upgrade and "upgrade" in connection


def websocket_handshake_problem(head: RequestHead) -> bytes | None:
    """Return the error response for a handshake this server cannot accept, else None."""
    if head.version != "HTTP/1.1":
        return error_response(400, "WebSocket needs HTTP/1.1")
    if head.header("sec-websocket-version") != WEBSOCKET_VERSION:
        # RFC 6455 §4.4: say which version we speak.
        body = b"unsupported Sec-WebSocket-Version\n"
        return (
            format_response_head(
                426,
                [
                    ("Sec-WebSocket-Version", WEBSOCKET_VERSION),
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),
                ],
            )
            + body
        )
    if not is_valid_client_key(head.header("sec-websocket-key")):
        return error_response(400, "missing or invalid Sec-WebSocket-Key")
    return None


class HTTPConnection:
    """One client's TCP connection: a loop of requests, then a clean close."""

    def __init__(
        self, settings: Settings, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.settings = settings
        self.reader = reader
        self.writer = writer
        self.parser = RequestParser(max_body=settings.max_body)
        peer = writer.get_extra_info("peername")
        local = writer.get_extra_info("sockname")
        self.client = (peer[0], peer[1]) if peer else None
        self.server = (local[0], local[1]) if local else None
        self.task: asyncio.Task[Any] | None = None
        self.idle = True  # no request in progress: safe to close when the server stops
        self.stopping = False  # the server is shutting down: no more keep-alive
        self.linger = False  # we refused a request: let the client read why before closing
        self.websocket: WebSocketSession | None = None

    async def serve(self) -> None:
        """Serve requests until the client leaves, asks to close, or idles too long."""
        try:
            while not self.stopping:
                head = await self.read_head()
                if head is None:
                    return
                self.idle = False
                if is_websocket_upgrade(head):
                    await self.serve_websocket(head)
                    return
                cycle = await self.start_cycle(head)
                if cycle is None:
                    return
                await cycle.run()
                if self.settings.access_logger.isEnabledFor(logging.INFO):
                    self.log_access(cycle)
                if not (
                    cycle.keep_alive and not self.stopping and await self.skip_unread_body(cycle)
                ):
                    return
                self.parser.start_next_request()
                self.idle = True
        finally:
            await self.close()

    # ── Reading ──

    async def read(self, deadline: float | None = None) -> bytes:
        """Return the next bytes from the client, b"" if it closed.

        TimeoutError if nothing comes for the server's timeout, or by
        ``deadline`` (in the event loop's clock) when one is given.
        """
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self.settings.timeout
        try:
            async with asyncio.timeout_at(deadline):
                return await self.reader.read(READ_SIZE)
        except ConnectionError:
            return b""

    async def read_head(self) -> RequestHead | None:
        """Return the next request's head, or None when the connection should end.

        The whole head must arrive within the server's timeout, however it is
        spread over packets, as in stage 01: a client that trickles a byte a
        second (slowloris) is answered 408 and closed, not kept for ever.
        """
        received = False
        deadline = asyncio.get_running_loop().time() + self.settings.timeout
        while True:
            try:
                event = self.parser.next_event()
            except HTTPError as error:
                await self.refuse(error.status, error.message)
                return None
            if event is not NEED_DATA:
                return event  # type: ignore[return-value]  # a head is the first event
            if self.parser.closed:
                return None  # a clean close between requests
            try:
                data = await self.read(deadline)
            except TimeoutError:
                if received:  # half a request, then silence or a trickle
                    await self.refuse(408, "timed out waiting for the request")
                return None
            self.parser.feed(data)
            received = received or bool(data)

    async def skip_unread_body(self, cycle: RequestCycle) -> bool:
        """Read past any body the app ignored, so the next request can be parsed.

        Return False (close instead) if the body is large, broken, or a client
        that asked for ``100 Continue`` is still waiting to send it.
        """
        if cycle.request_complete:
            return True
        if cycle.expect_continue:
            return False
        skipped = 0
        while True:
            try:
                event = self.parser.next_event()
            except HTTPError:
                return False
            if isinstance(event, Body):
                skipped += len(event.data)
            elif event is not NEED_DATA:
                return True  # EndOfRequest
            elif skipped > DRAIN_LIMIT or self.parser.closed:
                return False
            else:
                try:
                    self.parser.feed(await self.read())
                except TimeoutError:
                    return False

    # ── Dispatching ──

    async def start_cycle(self, head: RequestHead) -> RequestCycle | None:
        """Build the scope and the cycle for a request; answer 500 if that fails."""
        try:
            scope = build_http_scope(
                head,
                client=self.client,
                server=self.server,
                root_path=self.settings.root_path,
                state=self.settings.state,
            )
        except Exception:
            self.settings.logger.exception("Could not build the ASGI scope")
            await self.write_quietly(error_response(500, "Internal Server Error"))
            return None
        return RequestCycle(self, head, scope)

    async def serve_websocket(self, head: RequestHead) -> None:
        """Hand an upgrade request to a WebSocket session, after checking the handshake."""
        problem = websocket_handshake_problem(head)
        if problem is not None:
            self.linger = True
            await self.write_quietly(problem)
            return
        settings = self.settings
        try:
            scope = build_websocket_scope(
                head,
                client=self.client,
                server=self.server,
                root_path=settings.root_path,
                state=settings.state,
            )
        except Exception:
            settings.logger.exception("Could not build the ASGI scope")
            await self.write_quietly(error_response(500, "Internal Server Error"))
            return
        key = head.header("sec-websocket-key") or ""
        self.websocket = WebSocketSession(
            settings.app,
            scope,
            key,
            self.reader,
            self.writer,
            max_size=settings.ws_max_size,
            timeout=settings.timeout,
            logger=settings.logger,
        )
        await self.websocket.run()

    def log_access(self, cycle: RequestCycle) -> None:
        """Log one line for a finished request, the way uvicorn does."""
        scope = cycle.scope
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
        self.settings.access_logger.info(
            '%s - "%s %s %s" %s',
            client,
            cycle.method,
            target,
            cycle.version,
            cycle.sent_status or "-",
        )

    # ── Writing and closing ──

    async def write(self, data: bytes) -> None:
        """Write and flush; raise ClientDisconnected if the client has gone."""
        await write_flushed(self.writer, data)

    async def write_quietly(self, data: bytes) -> None:
        """Write if the client is still there; if not, there is nobody to tell."""
        try:
            await self.write(data)
        except ClientDisconnected:
            pass

    async def refuse(self, status: int, message: str) -> None:
        """Answer a request the server will not serve (400, 408, 413, 414, 431, 501, 505)."""
        self.settings.logger.info("Refused a request from %s: %s %s", self.client, status, message)
        self.idle = False
        self.linger = True
        await self.write_quietly(error_response(status, message))

    async def shut_down(self) -> None:
        """Start closing for a server shutdown: idle connections end now, busy ones soon."""
        self.stopping = True
        if self.websocket is not None:
            await self.websocket.close_for_shutdown()
        elif self.idle and self.task is not None:
            self.task.cancel()

    async def close(self) -> None:
        """Close the socket, letting a refused client read its error response first.

        Closing a socket that still has unread input makes the kernel send a
        reset, which can destroy the response we just wrote. So after refusing
        a request we shut our sending side, read whatever is left for a moment,
        and only then close.
        """
        self.idle = False
        writer = self.writer
        try:
            if self.linger and not writer.is_closing() and writer.can_write_eof():
                writer.write_eof()
                async with asyncio.timeout(LINGER_SECONDS):
                    while await self.reader.read(READ_SIZE):
                        pass
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()  # even when a shutdown cancels the lingering
        try:
            async with asyncio.timeout(self.settings.timeout):
                await writer.wait_closed()
        except (OSError, TimeoutError):
            writer.transport.abort()  # the client stopped reading: drop what is unsent


class RequestCycle:
    """One request and its response: the ``receive`` and ``send`` the app is called with."""

    def __init__(self, connection: HTTPConnection, head: RequestHead, scope: Scope) -> None:
        self.connection = connection
        self.scope = scope
        self.method = head.method
        self.version = head.version
        self.keep_alive = head.keep_alive
        # Still owed a "100 Continue"? Only if a body is announced (RFC 9110 §10.1.1).
        self.expect_continue = head.expect_continue and (head.chunked or bool(head.content_length))
        # The request side.
        self.request_complete = False  # the app has received the whole body
        self.disconnected = False  # the client has gone
        # The response side.
        self.status: int | None = None  # set by http.response.start
        self.sent_status: int | None = None  # what the client got (for the access log)
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_sent = False
        self.body_allowed = True  # False for HEAD requests and 1xx / 204 / 304 responses
        self.chunked = False
        self.declared_length: int | None = None  # the app's own Content-Length, if any
        self.body_sent = 0
        self.response_complete = False
        # Created only if the app waits for http.disconnect (long polling).
        self._finished: asyncio.Event | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Call the app; answer 500 if it fails (or breaks the protocol) before responding."""
        settings = self.connection.settings
        try:
            await settings.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            self.keep_alive = False  # the spec: not an error worth logging
        except Exception as error:
            self.keep_alive = False
            where = f"{self.method} {self.scope['path']}"
            if isinstance(error, ProtocolViolation):
                settings.logger.error("ASGI app broke the protocol in %s: %s", where, error)
            else:
                settings.logger.exception("Exception in ASGI application (%s)", where)
            if not self.head_sent and not self.disconnected:
                self.sent_status = 500
                await self.connection.write_quietly(error_response(500, "Internal Server Error"))
        else:
            await self.check_complete()
        finally:
            await self.finish()

    async def check_complete(self) -> None:
        """After the app returned: log a response it left unfinished, and close."""
        logger = self.connection.settings.logger
        if self.disconnected:
            self.keep_alive = False
        elif not self.response_complete:
            self.keep_alive = False
            logger.error(
                "ASGI app returned without %s the response to %s %s",
                "completing" if self.head_sent else "sending",
                self.method,
                self.scope["path"],
            )
            if not self.head_sent:
                # Nothing went out yet, so the client can still be told the truth.
                self.sent_status = 500
                await self.connection.write_quietly(error_response(500, "Internal Server Error"))
        elif (
            self.declared_length is not None
            and self.body_allowed
            and self.body_sent != self.declared_length
        ):
            self.keep_alive = False  # the framing is wrong: the next response would be garbled
            logger.error(
                "ASGI app sent %d body bytes after declaring Content-Length: %d",
                self.body_sent,
                self.declared_length,
            )

    async def finish(self) -> None:
        """Wake anyone waiting for http.disconnect and stop watching the socket."""
        if self._finished is not None:
            self._finished.set()
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)

    # ── receive(): request bytes -> events ──

    async def receive(self) -> Message:
        """Return the next request event: body pieces, then ``http.disconnect``."""
        if self.request_complete or self.disconnected:
            await self.wait_until_finished()
            return {"type": "http.disconnect"}
        if self.expect_continue:
            self.expect_continue = False
            if not self.head_sent:
                # The client waits for this before sending its body (RFC 9110 §10.1.1).
                await self.connection.write_quietly(CONTINUE)
        return await self.read_body()

    async def read_body(self) -> Message:
        """Return the body bytes available now as one ``http.request`` event."""
        parser = self.connection.parser
        chunks: list[bytes] = []
        while True:
            try:
                event = parser.next_event()
            except HTTPError as error:
                return await self.body_failed(error)
            if isinstance(event, Body):
                chunks.append(event.data)
            elif event is not NEED_DATA:  # EndOfRequest
                self.request_complete = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            elif chunks:
                # PERF: hand over what has arrived rather than wait to fill a bigger event.
                return {"type": "http.request", "body": b"".join(chunks), "more_body": True}
            else:
                try:
                    parser.feed(await self.connection.read())
                except TimeoutError:
                    return await self.body_failed(HTTPError(408, "timed out reading the body"))

    async def body_failed(self, error: HTTPError) -> Message:
        """The body broke off (bad chunk, too large, timeout, client gone): tell both sides."""
        self.disconnected = True
        self.keep_alive = False
        if not self.connection.parser.closed and not self.head_sent:
            self.head_sent = True
            self.sent_status = error.status
            await self.connection.refuse(error.status, error.message)
        return {"type": "http.disconnect"}

    async def wait_until_finished(self) -> None:
        """Wait until the response is complete or the client goes away (long polling)."""
        if self.response_complete or self.disconnected:
            return
        if self._finished is None:
            self._finished = asyncio.Event()
            self._watcher = asyncio.create_task(self.watch_for_close())
        await self._finished.wait()

    async def watch_for_close(self) -> None:
        """Read the socket while the app works, to notice the client leaving."""
        parser = self.connection.parser
        buffered = 0
        # Bytes that arrive now belong to a pipelined next request: keep them in the
        # parser. Past a head's worth, stop reading and let TCP make the client wait.
        while buffered <= READ_SIZE:
            try:
                data = await self.connection.reader.read(READ_SIZE)
            except ConnectionError:
                data = b""
            if not data:
                self.disconnected = True
                if self._finished is not None:
                    self._finished.set()
                return
            parser.feed(data)
            buffered += len(data)

    # ── send(): response events -> bytes ──

    async def send(self, message: Message) -> None:
        """Turn the app's response events into bytes, in the order the protocol allows."""
        # EXERCISE 4.3: Send the response events
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        kind = message["type"]
        if self.status is None:
            if kind != "http.response.start":
                raise ProtocolViolation(f"expected 'http.response.start', got {kind!r}")
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
            return  # the head waits for the first body event: it decides the framing
        if kind != "http.response.body":
            raise ProtocolViolation(f"expected 'http.response.body', got {kind!r}")
        if self.response_complete:
            raise ProtocolViolation("'http.response.body' after the response was complete")
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        data = b""
        if not self.head_sent:
            data = self.encode_head(None if more_body else len(body))
        if body and self.body_allowed:
            data += encode_chunk(body) if self.chunked else body
            self.body_sent += len(body)
        if not more_body:
            if self.chunked:
                data += LAST_CHUNK
            self.complete_response()
        if data:
            await self.connection.write(data)
        # END EXERCISE

    def complete_response(self) -> None:
        """Mark the response complete, waking a receive() that waits for http.disconnect."""
        self.response_complete = True
        if self._finished is not None:
            self._finished.set()

    def encode_head(self, final_length: int | None) -> bytes:
        """Serialize the held status and headers, choosing how the body is framed.

        ``final_length`` is the whole body's size when the first body event is
        also the last, else None. The framing, and whether the connection
        stays open, is stage 01's ``frame_response`` (RFC 9112 §6), decided
        here, before the head goes out, so that a connection we will close
        always says ``connection: close`` (RFC 9112 §9.6). The app's own
        ``content-length`` is kept; its ``transfer-encoding`` and
        ``connection`` are the server's business (a "close" is honoured).
        """
        status = self.status
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ProtocolViolation(f"'status' must be an int from 100 to 599, got {status!r}")
        headers: list[tuple[str, str]] = []
        lengths: list[str] = []
        defaults = {b"date", b"server"}  # added by the server unless the app sets its own
        for name, value in self.headers:
            name = name.lower()
            if name in defaults:
                defaults.discard(name)
            elif name == b"content-length":
                lengths.append(value.decode("latin-1"))
                continue  # added back by the framing, unless the status forbids a body
            elif name == b"transfer-encoding":
                continue  # the spec: servers frame the body themselves and ignore this
            elif name == b"connection":
                if "close" in (option.lower() for option in list_elements(value.decode("latin-1"))):
                    self.keep_alive = False
                continue
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        try:
            self.declared_length = parse_response_length(lengths)
        except ValueError as error:
            raise ProtocolViolation(str(error)) from None
        if b"server" in defaults:
            headers.insert(0, SERVER_HEADER)
        if b"date" in defaults:
            headers.insert(0, ("date", self.connection.settings.date.now()))
        framing = frame_response(
            self.method,
            self.version,
            status,
            declared_length=self.declared_length,
            known_length=final_length,
            keep_alive=self.keep_alive and self.can_reuse_connection(),
        )
        self.keep_alive = framing.keep_alive
        self.body_allowed = framing.body is not BodyFraming.NONE
        self.chunked = framing.body is BodyFraming.CHUNKED
        headers += [(name.lower(), value) for name, value in framing.headers(self.version)]
        try:
            head = format_response_head(status, headers, self.version)
        except (ValueError, TypeError) as error:
            raise ProtocolViolation(f"invalid response head: {error}") from None
        self.head_sent = True
        self.sent_status = status
        return head

    def can_reuse_connection(self) -> bool:
        """Return whether another request can follow this one on the connection.

        Not when the server is stopping, nor when the rest of the request body
        cannot be skipped: a client still waiting for 100 Continue sends it
        later or never, and a large or chunked rest is not worth reading.
        """
        if self.connection.stopping or self.disconnected:
            return False
        if self.request_complete:
            return True
        return not self.expect_continue and self.connection.parser.can_skip_body(DRAIN_LIMIT)

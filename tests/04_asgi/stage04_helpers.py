"""Stage 04 test helpers: a server in a thread, raw HTTP and WebSocket bytes, in-process calls.

(A module with a unique name rather than conftest.py, so that tests can
import it by name: the finder of workbook/pytest_plugin.py loads it from tests/.)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from asgiref.testing import ApplicationCommunicator
from rawasgi.protocol import ASGIApp, Message, Scope
from rawasgi.server import ASGIServer

from workbook.testing import LOOPBACK, SIDE_EFFECT_TIMEOUT

# ── The hand-written server in a thread ──────────────────────────────────────


class ServerThread:
    """Run an ASGIServer on its own event loop in a background thread."""

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        options.setdefault("shutdown_timeout", 5.0)
        self.server = ASGIServer(app, LOOPBACK, 0, **options)
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        #: The tasks on the server's loop once it listens (this thread's own, the lifespan's):
        #: every task beyond these serves a connection.
        self._standing: set[asyncio.Task[Any]] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def start(self) -> ServerThread:
        """Start the server and wait until it listens; re-raise what stopped it from starting."""
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("the server did not start within 10 s")
        if self.error is not None:
            self._thread.join(5)
            raise self.error
        return self

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as error:
            self.error = error
            self._ready.set()
            return
        self._standing = asyncio.all_tasks()
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()

    def wait_finished(self, timeout: float = SIDE_EFFECT_TIMEOUT) -> None:
        """Wait until the server has finished every connection it accepted (``timeout`` s at most).

        This is the event a test waits for before it checks what the server
        does after the response (logs an error or the access line, closes):
        it happens in a right and in a wrong server alike, so a test of an
        unfinished server fails as soon as the connection is done, instead
        of waiting out a bound for a log line that can no longer come.

        "Finished" is seen from the harness, not from the code under test:
        asyncio runs each accepted connection in a task of its own, and no
        task is left on the server's loop but those it had when it began to
        listen. Call it once the client is done (it has the response and
        closed, or the server closed). Raise AssertionError on timeout.
        """
        if self._loop is None:
            raise RuntimeError("the server is not started")
        waiting = asyncio.run_coroutine_threadsafe(self._connections_finished(), self._loop)
        try:
            waiting.result(timeout)
        except TimeoutError:
            waiting.cancel()
            raise AssertionError(
                f"the server still served a connection after {timeout} s"
            ) from None

    async def _connections_finished(self) -> None:
        """Return once no task but the standing ones (and this one) runs on the loop."""
        this = asyncio.current_task()
        while serving := asyncio.all_tasks() - self._standing - {this}:
            await asyncio.wait(serving)  # a task may start another: look again

    def stop(self) -> None:
        """Stop the server (gracefully) and wait for its thread to end."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    @property
    def port(self) -> int:
        assert self.server.server_address is not None
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.port}"


# ── Calling an app in process ────────────────────────────────────────────────


def http_scope(
    method: str = "GET",
    path: str = "/",
    *,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Scope:
    """Return a complete ASGI 3.0 http scope, as a server would build it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def websocket_scope(path: str = "/ws", *, subprotocols: list[str] | None = None) -> Scope:
    """Return a complete ASGI websocket scope."""
    scope = http_scope("GET", path)
    del scope["method"]
    scope.update(type="websocket", scheme="ws", subprotocols=subprotocols or [])
    return scope


@dataclass
class Response:
    """An HTTP response as an app sent it in events."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    messages: list[Message]

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)


async def next_output(
    communicator: ApplicationCommunicator, timeout: float = SIDE_EFFECT_TIMEOUT
) -> Message:
    """Return the app's next event; raise at once if the app ends without sending one.

    asgiref's ``receive_output`` waits its whole timeout when the app has
    already returned or raised; this waits for whichever comes first, the
    event or the app's end. The app's exception is re-raised; an app that
    returned is an AssertionError, and so is no event within ``timeout`` s.
    """
    queue, app = communicator.output_queue, communicator.future
    if queue.empty() and not app.done():
        getting = asyncio.ensure_future(queue.get())
        await asyncio.wait({getting, app}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if getting.done():
            return getting.result()  # type: ignore[no-any-return]
        getting.cancel()  # a cancelled get() takes nothing off the queue
    if not queue.empty():
        return queue.get_nowait()  # type: ignore[no-any-return]
    if not app.done():
        raise AssertionError(f"the app sent no event within {timeout} s")
    app.result()  # the app's own exception, if it raised
    raise AssertionError("the app returned without sending another event")


def call(app: ASGIApp, scope: Scope, events: list[Message] | None = None) -> Response:
    """Run ``app`` in process with asgiref's ApplicationCommunicator and collect its response."""

    async def exchange() -> Response:
        communicator = ApplicationCommunicator(app, scope)
        for event in events if events is not None else [{"type": "http.request"}]:
            await communicator.send_input(event)
        messages = []
        while True:
            message = await next_output(communicator)
            messages.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                break
        await communicator.wait(timeout=SIDE_EFFECT_TIMEOUT)  # returns when the app does
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        return Response(start["status"], list(start.get("headers", [])), body, messages)

    return asyncio.run(exchange())


# ── Raw HTTP over a socket ───────────────────────────────────────────────────


def exchange(port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes, then read until the server closes the connection (or ``timeout``)."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    """Read everything until the peer closes; raise TimeoutError if it does not."""
    received = b""
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return received
        except TimeoutError:
            raise TimeoutError(f"the server kept the connection open; got {received!r}") from None
        if not data:
            return received
        received += data


def status_of(response: bytes) -> int:
    """Return the status code of the first response in some raw bytes."""
    parts = response.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise AssertionError(f"not an HTTP response: {response[:200]!r}")
    return int(parts[1])


def read_response(sock: socket.socket) -> tuple[int, dict[bytes, bytes], bytes]:
    """Read one response framed by Content-Length from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed the connection mid-response: {data!r}")
        data += chunk
    head = data.partition(b"\r\n\r\n")[0]
    length = int(split_responses(head + b"\r\n\r\n")[0][1].get(b"content-length", b"0"))
    while len(data) < len(head) + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed the connection mid-body: {data!r}")
        data += chunk
    return split_responses(data)[0]


def split_responses(data: bytes) -> list[tuple[int, dict[bytes, bytes], bytes]]:
    """Split raw bytes into (status, headers, body) responses framed by Content-Length."""
    responses = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        responses.append((status_of(lines[0]), headers, data[:length]))
        data = data[length:]
    return responses


# ── Raw WebSocket frames, written independently of the code under test ──────


def upgrade_request(
    path: str = "/ws", *, key: str | None = None, version: str = "13", extra: bytes = b""
) -> bytes:
    """Return a WebSocket handshake request."""
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    return (
        (
            f"GET {path} HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: {version}\r\n"
        ).encode()
        + extra
        + b"\r\n"
    )


@contextlib.contextmanager
def raw_websocket(port: int, path: str = "/ws", *, timeout: float = 5.0) -> Iterator[socket.socket]:
    """Open a WebSocket by hand; yield the socket just after the 101 response."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(upgrade_request(path))
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(1)
            if not data:
                raise AssertionError(f"the server closed during the handshake: {head!r}")
            head += data
        if status_of(head) != 101:
            raise AssertionError(f"expected 101 Switching Protocols, got {head!r}")
        yield sock


def client_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    mask: bytes | None = b"\x01\x02\x03\x04",
    rsv: int = 0,
) -> bytes:
    """Return one frame as a client sends it: masked unless ``mask`` is None."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    size = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if size < 126:
        head = struct.pack("!BB", first, mask_bit | size)
    elif size < 65536:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if mask is None:
        return head + payload
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return head + mask + masked


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """Read one (unmasked, server) frame: ``(opcode, payload)``; (-1, b"") if the socket closed."""

    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    try:
        first, second = exactly(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", exactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", exactly(8))
        return first & 0x0F, exactly(size)
    except (EOFError, ConnectionResetError):
        return -1, b""


def read_close_code(sock: socket.socket) -> int | None:
    """Read frames until a close frame; return its code (None if the socket just closed)."""
    while True:
        opcode, payload = read_frame(sock)
        if opcode == -1:
            return None
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005

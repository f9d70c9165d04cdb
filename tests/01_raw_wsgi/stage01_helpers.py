"""Helpers stage 01's tests import: call an app in process, talk raw HTTP over a socket.

(A module with a unique name rather than conftest.py, so that tests can
import it by name: the finder of workbook/pytest_plugin.py loads it from tests/.)
"""

from __future__ import annotations

import contextlib
import io
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

from rawwsgi.server import WSGIServer

from workbook.testing import SIDE_EFFECT_TIMEOUT, wait_until

App = Callable[..., Iterable[bytes]]


# ── Calling an app in process ────────────────────────────────────────────────


@dataclass
class Result:
    """What an app answered when called in process."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status_code(self) -> int:
        return int(self.status[:3])

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def call(
    app: App,
    method: str = "GET",
    path: str = "/",
    *,
    query: str = "",
    body: bytes = b"",
    environ: dict[str, object] | None = None,
) -> Result:
    """Call ``validator(app)`` in process, the way any WSGI server would, and collect the answer."""
    env: dict[str, object] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(body),
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
    env.update(environ or {})
    setup_testing_defaults(env)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], None]:
        started.append((status, headers))
        return lambda data: None

    result = validator(app)(env, start_response)
    try:
        content = b"".join(result)
    finally:
        result.close()
    status, headers = started[-1]
    return Result(status, headers, content)


def wait_finished(server: WSGIServer, timeout: float = SIDE_EFFECT_TIMEOUT) -> None:
    """Wait until the server has finished every connection it accepted (``timeout`` s at most).

    This is the event a test waits for before it checks what the server
    does after the response (calls the iterable's close(), logs): it comes
    in a right and in a wrong implementation alike, so a test of an
    unfinished one fails as soon as the connection is done instead of
    waiting out a bound for a side effect that can no longer come.
    (White-box: a connection leaves ``server._connections`` as the last
    thing its thread does. Call it once the client is done with the
    connection. Raise AssertionError on timeout.)
    """

    def finished() -> bool:
        with server._lock:
            return not server._connections

    wait_until(finished, timeout=timeout, what="the server to finish every connection")


def url(server: WSGIServer, path: str = "/") -> str:
    host, port = server.server_address
    return f"http://{host}:{port}{path}"


# ── Raw HTTP over a socket ───────────────────────────────────────────────────


@dataclass
class RawResponse:
    """A response read byte by byte off a socket."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ", ".join(values) if values else None


def read_response(stream: BinaryIO, method: str = "GET") -> RawResponse:
    """Read one response from a buffered socket file, framed as RFC 9112 says."""
    status_line = stream.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection without a response")
    version, status, reason = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    response = RawResponse(int(status), reason)
    while (line := stream.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        response.headers.append((name, value.strip()))
    if method == "HEAD" or response.status in (204, 304) or response.status < 200:
        return response
    if (response.header("Transfer-Encoding") or "").lower() == "chunked":
        pieces = []
        while (size := int(stream.readline().split(b";")[0], 16)) > 0:
            pieces.append(stream.read(size))
            stream.readline()
        while stream.readline() not in (b"\r\n", b""):
            pass
        response.body = b"".join(pieces)
    elif (length := response.header("Content-Length")) is not None:
        response.body = stream.read(int(length))
    else:
        response.body = stream.read()
    return response


@contextlib.contextmanager
def connect(server: WSGIServer, timeout: float = 5.0) -> Iterator[tuple[socket.socket, BinaryIO]]:
    """Open a raw connection to the server; yield the socket and a buffered reader on it."""
    sock = socket.create_connection(server.server_address, timeout=timeout)
    stream = sock.makefile("rb")
    try:
        yield sock, stream
    finally:
        stream.close()
        sock.close()


def exchange(server: WSGIServer, data: bytes, method: str = "GET") -> tuple[RawResponse, bytes]:
    """Send raw bytes, read one response, and return it with whatever follows until close."""
    with connect(server) as (sock, stream):
        sock.sendall(data)
        response = read_response(stream, method)
        return response, stream.read()


def closed_by_peer(sock: socket.socket, stream: BinaryIO) -> bool:
    """Return whether the server has closed the connection (reading gives EOF)."""
    try:
        return stream.read() == b""
    except ConnectionResetError:
        return True

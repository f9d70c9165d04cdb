"""One HTTP request, three ways: raw bytes, a WSGI environ, an ASGI scope.

The tracer sends the same request in process (as an environ or a scope it
builds itself, the way a server would) or over a real socket (as bytes).
Building all three from one :class:`Request` keeps the traces comparable.
The response side reads raw bytes back into status, headers and body.
"""

from __future__ import annotations

import io
import json as jsonlib
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

HeaderPairs = Sequence[tuple[str, str]] | Mapping[str, str]


@dataclass
class Request:
    """A request as a client writes it: method, target, headers, body."""

    method: str = "GET"
    target: str = "/"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def make(
        cls,
        method: str = "GET",
        target: str = "/",
        *,
        headers: HeaderPairs = (),
        body: bytes | str | None = None,
        json: Any = None,
    ) -> Request:
        """Build a request; ``json=`` encodes a body and sets its Content-Type."""
        if json is not None and body is not None:
            raise ValueError("give body= or json=, not both")
        if not target.startswith("/"):
            raise ValueError(f"the target must start with '/', not {target!r}")
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
        if json is not None:
            body = jsonlib.dumps(json).encode("utf-8")
            if not any(name.lower() == "content-type" for name, _ in pairs):
                pairs.append(("Content-Type", "application/json"))
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        return cls(method.upper(), target, pairs, data)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    @property
    def line(self) -> str:
        return f"{self.method} {self.target} HTTP/1.1"

    def header_lines(self, host: str) -> list[tuple[str, str]]:
        """Return every header the client sends, in order: Host first.

        A body gets a Content-Length, and ``Connection: close`` asks the
        server to close after one response, so the client reads to EOF.
        """
        given = {name.lower() for name, _ in self.headers}
        pairs: list[tuple[str, str]] = []
        if "host" not in given:
            pairs.append(("Host", host))
        pairs += self.headers
        if (self.body or self.method in {"POST", "PUT", "PATCH"}) and "content-length" not in given:
            pairs.append(("Content-Length", str(len(self.body))))
        if "connection" not in given:
            pairs.append(("Connection", "close"))
        return pairs

    # ── The three forms ──────────────────────────────────────────────────

    def raw(self, host: str = "127.0.0.1:8000") -> bytes:
        """Return the bytes a client writes on the socket (RFC 9112)."""
        lines = [self.line] + [f"{name}: {value}" for name, value in self.header_lines(host)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body

    def environ(
        self,
        server: tuple[str, int] = ("127.0.0.1", 8000),
        client: tuple[str, int] = ("127.0.0.1", 50000),
    ) -> dict[str, Any]:
        """Return the WSGI environ a server would build for this request (PEP 3333).

        ``PATH_INFO`` is the percent-decoded path as a "WSGI string": its
        bytes decoded as latin-1, as the PEP requires.
        """
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(self.path).decode("latin-1"),
            "QUERY_STRING": self.query,
            "SERVER_NAME": server[0],
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": client[0],
            "REMOTE_PORT": str(client[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(self.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.header_lines(f"{server[0]}:{server[1]}"):
            key = name.upper().replace("-", "_")
            if key not in {"CONTENT_TYPE", "CONTENT_LENGTH"}:
                key = "HTTP_" + key
            # Repeated headers are joined with a comma (RFC 9110, 5.3).
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        return environ

    def scope(
        self,
        server: tuple[str, int] = ("127.0.0.1", 8000),
        client: tuple[str, int] = ("127.0.0.1", 50000),
    ) -> dict[str, Any]:
        """Return the ASGI HTTP connection scope a server would build (ASGI 3.0)."""
        raw_path = self.target.partition("?")[0].encode("latin-1")
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": unquote(self.path),
            "raw_path": raw_path,
            "query_string": self.query.encode("latin-1"),
            "root_path": "",
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in self.header_lines(f"{server[0]}:{server[1]}")
            ],
            "client": client,
            "server": server,
        }


@dataclass
class Response:
    """A response as the client read it."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return default


@dataclass
class Exchange:
    """One request/response over a socket, with the client's clock readings."""

    sent: bytes
    received: bytes
    connect_at: int
    sent_at: int
    first_byte_at: int
    done_at: int


def exchange(
    host: str, port: int, data: bytes, *, timeout: float = 10.0, clock: Any = time.perf_counter_ns
) -> Exchange:
    """Send ``data`` on a new connection and read the whole response back."""
    connect_at = clock()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        sent_at = clock()
        chunks: list[bytes] = []
        first_byte_at = 0
        head_only = data.startswith(b"HEAD ")
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            if not first_byte_at:
                first_byte_at = clock()
            chunks.append(chunk)
            if response_complete(b"".join(chunks), head_only=head_only):
                break
        done_at = clock()
    return Exchange(data, b"".join(chunks), connect_at, sent_at, first_byte_at or done_at, done_at)


def split_head(data: bytes) -> tuple[int, str, list[tuple[str, str]], bytes] | None:
    """Split raw response bytes into status, reason, headers and the rest."""
    head, found, rest = data.partition(b"\r\n\r\n")
    if not found:
        return None
    lines = head.decode("latin-1").split("\r\n")
    version, _, status_reason = lines[0].partition(" ")
    status_text, _, reason = status_reason.partition(" ")
    if not version.startswith("HTTP/") or not status_text.isdigit():
        raise ValueError(f"not an HTTP response: {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return int(status_text), reason, headers, rest


def response_complete(data: bytes, *, head_only: bool = False) -> bool:
    """Return True once ``data`` holds a whole response (else read on to EOF)."""
    parts = split_head(data)
    if parts is None:
        return False
    status, _, headers, rest = parts
    if head_only or status in {204, 304} or 100 <= status < 200:
        return True
    fields = {name.lower(): value for name, value in headers}
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return rest.endswith(b"0\r\n\r\n")
    if "content-length" in fields:
        return len(rest) >= int(fields["content-length"])
    return False


def parse_response(data: bytes) -> Response:
    """Read raw response bytes into a :class:`Response` (chunks joined)."""
    parts = split_head(data)
    if parts is None:
        raise ValueError(f"incomplete response: {data[:80]!r}")
    status, reason, headers, body = parts
    if any(
        name.lower() == "transfer-encoding" and "chunked" in value.lower()
        for name, value in headers
    ):
        body = dechunk(body)
    return Response(status, reason, headers, body)


def dechunk(data: bytes) -> bytes:
    """Join a chunked body: ``b"5\\r\\nhello\\r\\n0\\r\\n\\r\\n"`` -> ``b"hello"``."""
    body = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        body += data[:size]
        data = data[size + 2 :]
    return bytes(body)

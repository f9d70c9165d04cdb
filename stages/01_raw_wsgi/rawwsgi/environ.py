"""The environ: a parsed request turned into the dict PEP 3333 hands to every app.

Two pieces live here. :class:`RequestBody` is ``wsgi.input``: a file-like
object that pulls the body off the connection only when the app reads it,
and never reads past its end (the next request on a kept-alive connection
may already be in the buffer). :func:`build_environ` is the CGI-style dict.

Neither touches a socket: the body is given a ``receive()`` callable and a
parser, so both can be tested with plain bytes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from urllib.parse import unquote_to_bytes

from rawwsgi.http11 import NEED_DATA, Body, HTTPError, RequestHead, RequestParser
from rawwsgi.protocol import Environ


class ClientDisconnected(ConnectionError):
    """The client closed the connection, or it broke, while we were talking to it."""


class RequestBody:
    """``wsgi.input``: the request body, read from the connection on demand.

    ``receive()`` returns the next bytes from the client (``b""`` once it has
    closed). The body asks the parser for events and so stops exactly at
    the end of this request's body, de-chunking a chunked one on the way.
    ``send_continue()``, if given, is called before the first read: it is
    how a client that sent ``Expect: 100-continue`` learns to send its body.
    """

    def __init__(
        self,
        parser: RequestParser,
        receive: Callable[[], bytes],
        head: RequestHead,
        *,
        send_continue: Callable[[], None] | None = None,
    ) -> None:
        self._parser = parser
        self._receive = receive
        self._send_continue = send_continue
        self._buffer = bytearray()  # pulled from the parser, not yet read by the app
        self._length = head.content_length
        self._expected = head.chunked or bool(self._length)
        self._expect_continue = head.expect_continue and self._expected
        self.started = False  # the app asked for the body
        self.finished = False  # the parser reported EndOfRequest
        self.received = 0  # body bytes pulled from the parser so far
        self.error: HTTPError | None = None  # the body was malformed, too large, or timed out

    # ── The file-like interface of PEP 3333 ──

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all that is left if size is None or negative)."""
        if size is None or size < 0:
            while self._pull():
                pass
            size = len(self._buffer)
        else:
            while len(self._buffer) < size and self._pull():
                pass
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line, up to and including b"\\n" (at most ``size`` bytes if given)."""
        limit = -1 if size is None else size
        searched = 0
        while True:
            newline = self._buffer.find(b"\n", searched)
            if newline >= 0:
                end = newline + 1
                break
            if 0 <= limit <= len(self._buffer):
                end = limit
                break
            searched = len(self._buffer)
            if not self._pull():
                end = len(self._buffer)
                break
        if limit >= 0:
            end = min(end, limit)
        line = bytes(self._buffer[:end])
        del self._buffer[:end]
        return line

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read lines until the end, or until their total size reaches ``hint``."""
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        """Yield the body line by line."""
        while line := self.readline():
            yield line

    # ── What the server needs after the app has answered ──

    @property
    def awaiting_continue(self) -> bool:
        """Return whether the client still waits for 100 Continue before sending its body."""
        return self._expect_continue and not self.started

    def can_drain(self, limit: int) -> bool:
        """Return whether the unread rest of the body can be read and dropped cheaply.

        Draining is what makes keep-alive possible after an app that ignored
        the body: the next request starts where this body ends.
        """
        if self.finished:
            return True
        if self.awaiting_continue or self.error is not None:
            return False
        return self._parser.can_skip_body(limit)  # a chunked rest has no known size: False

    def discard(self, limit: int) -> bool:
        """Read and drop the rest of the body, at most ``limit`` bytes; return whether it ended."""
        if not self.can_drain(limit):
            return False
        self._buffer.clear()
        dropped = 0
        while dropped <= limit:
            if not self._pull():
                return True
            dropped += len(self._buffer)
            self._buffer.clear()
        return False

    def _pull(self) -> bool:
        """Move the next piece of the body into the buffer; return False at its end."""
        if self.finished:
            return False
        if not self.started:
            self.started = True
            if self._expect_continue and self._send_continue is not None:
                self._send_continue()
        while True:
            try:
                event = self._parser.next_event()
            except HTTPError as error:
                self.error = error
                if self._parser.closed:
                    raise ClientDisconnected("the client closed the connection mid-body") from error
                raise
            if event is NEED_DATA:
                self._parser.feed(self._receive())
            elif isinstance(event, Body):
                self._buffer += event.data
                self.received += len(event.data)
                return True
            else:
                self.finished = True
                return False


def base_environ(server_name: str, server_port: int) -> Environ:
    """Return the environ keys that are the same for every request a server handles.

    The server computes this once at start-up; each request copies it.
    """
    return {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,  # each connection runs in its own thread
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        # wsgi.input returns b"" at the end of the body, even a chunked one with no
        # CONTENT_LENGTH: the convention (mod_wsgi, gunicorn, Werkzeug) that says so.
        "wsgi.input_terminated": True,
        "SERVER_SOFTWARE": "rawwsgi",
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SCRIPT_NAME": "",
    }


def build_environ(
    head: RequestHead, body: RequestBody, base: Environ, client_address: tuple[str, int]
) -> Environ:
    """Return the PEP 3333 environ for one request.

    GET /caf%C3%A9?x=1 with "Accept: a" and "Accept: b" gives, beside ``base``:
    REQUEST_METHOD "GET", PATH_INFO "/cafÃ©" (the UTF-8 bytes, decoded as
    latin-1), QUERY_STRING "x=1", HTTP_ACCEPT "a, b", wsgi.input ``body``.
    """
    # EXERCISE 1.3: Build the environ
    environ = dict(base)
    environ["REQUEST_METHOD"] = head.method
    environ["SERVER_PROTOCOL"] = head.version
    environ["PATH_INFO"] = unquote_to_bytes(head.path).decode("latin-1")
    environ["QUERY_STRING"] = head.query
    environ["RAW_URI"] = head.target
    environ["REMOTE_ADDR"] = client_address[0]
    environ["REMOTE_PORT"] = str(client_address[1])
    environ["wsgi.input"] = body
    for name, value in head.headers:
        if "_" in name:
            continue
        if name == "content-length":
            environ["CONTENT_LENGTH"] = str(head.content_length)
            continue
        key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
        if key in environ:
            environ[key] += ", " + value
        else:
            environ[key] = value
    return environ
    # END EXERCISE

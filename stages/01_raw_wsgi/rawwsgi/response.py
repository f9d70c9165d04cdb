"""The response: ``start_response``, the legacy ``write()``, and framing on the wire.

An app hands the server three things: a status and headers (through
``start_response``), then body bytes (through the iterable it returns, or
the legacy ``write()``). :class:`Response` turns them into HTTP/1.1:

* the head is sent with the first non-empty piece of the body, never
  before (PEP 3333), so an app can still change its mind about an error;
* the body is *framed*: the client must be able to tell where it ends.
  Content-Length when the length is known (the app said so, or returned
  a one-item list), otherwise chunked for an HTTP/1.1 client, otherwise
  (HTTP/1.0) the end of the body is the end of the connection;
* HEAD, 204 and 304 responses carry no body at all (RFC 9110 §6.4.1).

The decision itself (and whether the connection stays open) is
:func:`rawwsgi.http11.frame_response`, shared with stage 04's server.

Like the parser, it does no I/O of its own: it is given a ``send(bytes)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import cast

from rawwsgi.environ import RequestBody
from rawwsgi.http11 import (
    DRAIN_LIMIT,
    LAST_CHUNK,
    BodyFraming,
    RequestHead,
    check_header,
    encode_chunk,
    format_response_head,
    frame_response,
    parse_response_length,
)
from rawwsgi.protocol import ExcInfo, Headers, Write

logger = logging.getLogger("rawwsgi.server")

#: Headers that describe one connection, not the response: the server owns them
#: and PEP 3333 forbids apps to send them (RFC 9110 §7.6.1).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

#: The body the server sends when an app fails before its headers went out.
INTERNAL_ERROR = b"Internal Server Error"


class Response:
    """One response, from ``start_response`` to the last byte of its body.

    ``send`` writes bytes to the client; ``head`` is the request being
    answered; ``date`` is the Date header's value; ``body`` is the request's
    ``wsgi.input``, asked at head time whether the connection can be reused.
    """

    def __init__(
        self,
        send: Callable[[bytes], object],
        head: RequestHead,
        *,
        date: str | None = None,
        body: RequestBody | None = None,
    ) -> None:
        self._send = send
        self._method = head.method
        self._version = head.version
        self._date = date
        self._body = body
        self.keep_alive = head.keep_alive  # lowered when the connection must close
        self.status: str | None = None
        self.headers: Headers = []
        self.headers_sent = False
        self.length_hint: int | None = None  # the body's length, if the server knows it
        self.framing: BodyFraming | None = None  # chosen when the head goes out
        self.sent = 0  # body bytes sent (or, with no body, that the app produced)
        self._length: int | None = None  # the Content-Length the head announced

    def start_response(
        self, status: str, headers: Headers, exc_info: ExcInfo | None = None
    ) -> Write:
        """Record the status and headers the app chose; return the legacy write().

        Called again with ``exc_info`` (an error page after a failure), it
        replaces them if nothing was sent yet, and re-raises the app's error
        otherwise: the client already has another status.
        """
        # EXERCISE 1.4: start_response
        if exc_info is not None:
            try:
                if self.headers_sent:
                    # cast: exc_info comes from an except block (PEP 3333), so it
                    # holds an exception, never sys.exc_info()'s (None, None, None).
                    raise cast(BaseException, exc_info[1]).with_traceback(exc_info[2])
            finally:
                exc_info = None  # a traceback refers to this frame: break the cycle
        elif self.status is not None:
            raise RuntimeError("start_response() called a second time without exc_info")
        if type(status) is not str:
            raise TypeError(f"status must be a str, not {type(status).__name__}")
        code = status[:3]
        if not (len(status) >= 4 and code.isascii() and code.isdigit() and status[3] == " "):
            raise ValueError(f'status must look like "200 OK", not {status!r}')
        if int(code) < 200:
            raise ValueError(f"a WSGI app cannot send an interim {code} response")
        if type(headers) is not list:
            raise TypeError(f"headers must be a list, not {type(headers).__name__}")
        for header in headers:
            if type(header) is not tuple or len(header) != 2:
                raise TypeError(f"each header must be a (name, value) tuple, not {header!r}")
            name, value = header
            check_header(name, value)
            if name.lower() in HOP_BY_HOP:
                raise ValueError(f"{name} is a hop-by-hop header: the server sets it")
        self.status = status
        self.headers = headers
        return self.write
        # END EXERCISE

    @property
    def wants_body(self) -> bool:
        """Return whether body bytes still go to the client (False for HEAD, 204, 304)."""
        return self.framing is not BodyFraming.NONE

    def write(self, data: bytes) -> None:
        """Send a piece of the body, preceded by the head the first time.

        Both the legacy ``write()`` and each item of the app's iterable end
        up here. Empty pieces are skipped: the head waits for real content.
        """
        if self.status is None:
            raise RuntimeError("the app sent body bytes before calling start_response()")
        if type(data) is not bytes:
            raise TypeError(f"body pieces must be bytes, not {type(data).__name__}")
        if not data:
            return
        if not self.headers_sent:
            self._send(self._head(length=self.length_hint) + self._frame(data))
        elif self.framing is not BodyFraming.NONE:
            piece = self._frame(data)
            if piece:
                self._send(piece)
        else:
            self.sent += len(data)

    def finish(self) -> None:
        """End the body: send the head if nothing was written, then the last chunk."""
        if self.status is None:
            raise RuntimeError("the app returned without calling start_response()")
        if not self.headers_sent:
            # Nothing but empty pieces: the body is known to be empty.
            self._send(self._head(length=0))
        elif self.framing is BodyFraming.CHUNKED:
            self._send(LAST_CHUNK)
        elif self.framing is BodyFraming.CONTENT_LENGTH and self.sent < (self._length or 0):
            logger.warning(
                "%s: the app sent %d of the %d bytes its Content-Length promised",
                self.status,
                self.sent,
                self._length,
            )
            self.keep_alive = False  # the client waits for bytes that never come: cut it off

    def error(self) -> None:
        """Answer 500 after an app failed before its headers were sent."""
        if self.headers_sent:
            raise RuntimeError("too late for a 500: the headers were sent")
        self.status = "500 Internal Server Error"
        self.headers = [("Content-Type", "text/plain; charset=utf-8")]
        self.keep_alive = False
        self.length_hint = len(INTERNAL_ERROR)
        self.write(INTERNAL_ERROR)

    # ── Framing ──

    def _head(self, length: int | None) -> bytes:
        """Choose the framing and return the serialized head; ``length`` if known.

        ValueError if the app's own Content-Length is invalid: the app's bug,
        answered with a 500 while nothing has been sent yet.
        """
        status = str(self.status)  # write() and finish() made sure it was set
        declared = parse_response_length(
            [value for name, value in self.headers if name.lower() == "content-length"]
        )
        names = {name.lower() for name, _ in self.headers}
        # The framing fields are the server's: the app's Content-Length goes back in below.
        headers = [
            (name, value) for name, value in self.headers if name.lower() != "content-length"
        ]
        if self._body is not None and not self._body.can_drain(DRAIN_LIMIT):
            # The rest of the request body is still on the wire, or never will be
            # (100-continue unanswered): the next request cannot be found after it.
            self.keep_alive = False
        framing = frame_response(
            self._method,
            self._version,
            int(status[:3]),
            declared_length=declared,
            known_length=length,
            keep_alive=self.keep_alive,
        )
        self.framing = framing.body
        self.keep_alive = framing.keep_alive
        self._length = framing.length
        headers += framing.headers(self._version)
        if self._date is not None and "date" not in names:
            headers.append(("Date", self._date))
        if "server" not in names:
            headers.append(("Server", "rawwsgi"))
        self.headers_sent = True
        return format_response_head(status, headers)

    def _frame(self, data: bytes) -> bytes:
        """Return ``data`` as it goes on the wire under this response's framing."""
        if self.framing is BodyFraming.CHUNKED:
            self.sent += len(data)
            return encode_chunk(data)
        if self.framing is BodyFraming.CONTENT_LENGTH:
            room = (self._length or 0) - self.sent
            if len(data) > room:
                logger.warning("the app sent more than its Content-Length (%d): cut", self._length)
                self.keep_alive = False
                data = data[: max(room, 0)]
            self.sent += len(data)
            return data
        self.sent += len(data)
        return data if self.framing is BodyFraming.CLOSE else b""

"""Gzip: compress responses the client accepts compressed, without breaking streams.

What makes this the hardest middleware of the stage is that it changes the
body, and so the headers that describe it:

* ``Content-Length`` of the app's body is wrong once compressed. For a body
  the app handed over whole (a list, the WSGI idiom for "here is all of
  it"), the middleware compresses it at once and sends the new length. For
  a streaming body (any other iterable) the length of the result is unknown
  until the end, so the header goes and the server frames the response
  itself (chunked, in HTTP/1.1).
* A streaming body stays streaming: each chunk the app yields is compressed
  and *flushed* (``Z_SYNC_FLUSH``) so that it reaches the client now, not
  when the compressor's buffer fills. And PEP 3333 asks a middleware to
  yield something for every chunk the app yields, even ``b""``, so the
  server can keep its own pace.
* The decision needs both the headers (is this text? is it already
  encoded?) and the body (is it whole, and big enough to be worth it?), so
  the middleware holds the app's ``start_response`` call back
  (``PendingResponse``) and makes the real one just before it sends the
  first bytes, which PEP 3333 allows.
* ``Vary: Accept-Encoding`` goes on every response that *could* be
  compressed, compressed or not: a cache must not give the plain version
  to a client that asked for gzip, nor the gzip one to a client that
  cannot read it.

HEAD responses are not compressed (there is no body to measure); they say
``Vary`` and keep the app's ``Content-Length``.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Callable, Iterable, Iterator

from rawwsgi.http11 import OWS, list_elements
from rawwsgi.protocol import Environ, ExcInfo, Headers, StartResponse, Write, WSGIApp

from onion.closing import ClosingIterator
from onion.headers import add_vary, header_value, without

#: zlib's way to ask for a gzip header and trailer around the deflate data.
GZIP_WBITS = 16 + zlib.MAX_WBITS
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/x-ndjson",
    "application/javascript",
    "application/xml",
    "image/svg+xml",
)
#: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2).
#: Not float(): it takes "\xa01", "1_0", "nan" and "inf".
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def accepts_gzip(accept_encoding: str) -> bool:
    """Return whether an ``Accept-Encoding`` value allows gzip (RFC 9110, 12.5.3).

    Elements and parameters are split on "," and ";" with OWS around them
    (SP and HTAB only, RFC 9110 §5.6.3): "\xa0gzip" is not gzip. A weight
    that is not a qvalue (§12.4.2) counts as q=0.

    >>> accepts_gzip("br;q=1.0, gzip;q=0.8"), accepts_gzip("gzip;q=0"), accepts_gzip("*")
    (True, False, True)
    """
    gzip_quality: float | None = None
    any_quality: float | None = None
    for item in list_elements(accept_encoding):
        coding, *parameters = (part.strip(OWS) for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.rstrip(OWS).lower() == "q":
                value = value.lstrip(OWS)
                quality = float(value) if _QVALUE.fullmatch(value) else 0.0
        if coding.lower() in ("gzip", "x-gzip"):
            gzip_quality = quality
        elif coding == "*":
            any_quality = quality
    if gzip_quality is not None:
        return gzip_quality > 0
    return any_quality is not None and any_quality > 0


def is_compressible(content_type: str | None) -> bool:
    """Return whether a media type is text-like enough to be worth compressing."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip(OWS).lower()
    return media_type.startswith(COMPRESSIBLE) or media_type.endswith(("+json", "+xml"))


def compress_whole(data: bytes, level: int) -> bytes:
    """Return ``data`` gzip-compressed in one go."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
    return compressor.compress(data) + compressor.flush()


def compress_stream(chunks: Iterable[bytes], level: int = 6) -> Iterator[bytes]:
    """Yield gzip data for each chunk as it arrives, flushed so nothing waits.

    One output per input chunk (``b""`` for an empty one), then the gzip
    trailer: joined, the outputs are one valid gzip stream.
    """
    # EXERCISE 3.4: Compress a stream
    compressor = zlib.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
    for chunk in chunks:
        if not chunk:
            yield b""
            continue
        yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()
    # END EXERCISE


def gzip_headers(headers: Headers, length: int | None) -> Headers:
    """Return the headers of a compressed response: encoding, Vary, the new length."""
    result = without(headers, "Content-Length", "Content-Encoding")
    etag = header_value(result, "ETag")
    if etag is not None and not etag.startswith("W/"):
        # A strong ETag names exact bytes; the compressed bytes are others (RFC 9110, 8.8.1).
        result = [*without(result, "ETag"), ("ETag", "W/" + etag)]
    result = add_vary([*result, ("Content-Encoding", "gzip")], "Accept-Encoding")
    if length is not None:
        result.append(("Content-Length", str(length)))
    return result


def passed_on(eligible: bool) -> Callable[[Headers], Headers]:
    """Return the header change for a response sent uncompressed: Vary, if it could have been."""
    if eligible:
        return lambda headers: add_vary(headers, "Accept-Encoding")
    return list


class PendingResponse:
    """Hold the app's ``start_response`` call until the middleware has decided.

    The app calls ``start_response`` (this object's) as usual; the status
    and headers wait here until ``forward(transform)`` sends them on,
    changed by ``transform``. After that, a call with ``exc_info`` (an
    error page replacing this response) is passed straight on: the server
    replaces the response if it has not sent the headers yet, or re-raises.
    """

    def __init__(self, start_response: StartResponse) -> None:
        self._start_response = start_response
        self.status: str | None = None
        self.headers: Headers = []
        self.written: list[bytes] = []
        self._transform: Callable[[Headers], Headers] | None = None

    def start_response(
        self, status: str, headers: Headers, exc_info: ExcInfo | None = None
    ) -> Write:
        """Keep the status and headers (the app's ``start_response``)."""
        if self._transform is not None:
            if exc_info is None:
                raise RuntimeError("start_response called a second time without exc_info")
            self._start_response(status, self._transform(headers), exc_info)
        elif self.status is not None and exc_info is None:
            raise RuntimeError("start_response called a second time without exc_info")
        else:
            self.status, self.headers = status, list(headers)
        return self.write

    def write(self, data: bytes) -> None:
        """Keep what the app writes (the legacy ``write()``) to send before its body."""
        if self._transform is not None:
            raise RuntimeError("write() after the body started: return the data instead")
        self.written.append(data)

    def forward(self, transform: Callable[[Headers], Headers]) -> None:
        """Call the real ``start_response`` with the held status and changed headers."""
        if self.status is None:
            raise RuntimeError("the app returned a body without calling start_response")
        self._transform = transform
        self._start_response(self.status, transform(self.headers))


class Gzip:
    """Compress text responses for clients that accept gzip; keep streams streaming."""

    def __init__(self, app: WSGIApp, *, minimum_size: int = 500, level: int = 6) -> None:
        if not 1 <= level <= 9:
            raise ValueError(f"level is 1 (fastest) to 9 (smallest), not {level}")
        if minimum_size < 0:
            raise ValueError(f"minimum_size must be >= 0, not {minimum_size}")
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Call the app; send its response compressed when that is allowed and worth it."""
        wanted = environ["REQUEST_METHOD"] != "HEAD" and accepts_gzip(
            environ.get("HTTP_ACCEPT_ENCODING", "")
        )
        pending = PendingResponse(start_response)
        body = self.app(environ, pending.start_response)
        return ClosingIterator(self.respond(body, pending, wanted), inner=body)

    def eligible(self, status: str, headers: Headers) -> bool:
        """Return whether this response could be compressed (so it varies on the client)."""
        code = int(status[:3])
        if code < 200 or code in (204, 206, 304):
            return False
        if header_value(headers, "Content-Encoding") is not None:
            return False
        if "no-transform" in (header_value(headers, "Cache-Control") or "").lower():
            return False
        return is_compressible(header_value(headers, "Content-Type"))

    def respond(
        self, body: Iterable[bytes], pending: PendingResponse, wanted: bool
    ) -> Iterator[bytes]:
        """Decide, forward the headers, then yield the body: compressed or as it is."""
        if isinstance(body, (list, tuple)):
            yield self.respond_whole(b"".join([*pending.written, *body]), pending, wanted)
            return
        chunks = iter(body)
        # An app written as a generator calls start_response on its first iteration:
        # the first chunk has to be pulled before the headers can be read.
        first = next(chunks, None)
        if pending.status is None:
            raise RuntimeError("the app returned a body without calling start_response")
        head = [*pending.written, *([first] if first is not None else [])]
        eligible = self.eligible(pending.status, pending.headers)
        length = header_value(pending.headers, "Content-Length")
        if not head:
            size: int | None = 0  # an empty body: nothing to gain
        elif length is not None and length.isascii() and length.isdigit():
            size = int(length)
        else:
            size = None  # a stream of unknown length: assume it is worth it
        if eligible and wanted and (size is None or size >= self.minimum_size):
            pending.forward(lambda headers: gzip_headers(headers, None))
            yield from compress_stream(itertools.chain(head, chunks), self.level)
            return
        pending.forward(passed_on(eligible))
        yield from itertools.chain(head, chunks)

    def respond_whole(self, data: bytes, pending: PendingResponse, wanted: bool) -> bytes:
        """Compress a body that is all in memory, if worth it; forward the headers."""
        if pending.status is None:
            raise RuntimeError("the app returned a body without calling start_response")
        eligible = self.eligible(pending.status, pending.headers)
        if eligible and wanted and len(data) >= self.minimum_size:
            compressed = compress_whole(data, self.level)
            pending.forward(lambda headers: gzip_headers(headers, len(compressed)))
            return compressed
        pending.forward(passed_on(eligible))
        return data

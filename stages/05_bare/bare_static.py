"""Static files for bare: a directory served under a URL prefix, as an ASGI middleware.

    app.add_middleware(StaticFiles, prefix="/static", directory="static")

``GET /static/css/site.css`` is answered from ``static/css/site.css``; any
other path goes on to the app. What a static file server owes the client,
and where the rule comes from:

- the MIME type, from the standard library's ``mimetypes`` (RFC 9110 §8.3);
- validators: ``ETag`` (§8.8.3) and ``Last-Modified`` (§8.8.2), so a cached
  copy is revalidated with ``If-None-Match`` / ``If-Modified-Since`` and
  answered 304 Not Modified with no body (§13.1.2, §13.1.3, §15.4.5);
- one byte range: ``Range: bytes=0-99`` is 206 Partial Content with
  ``Content-Range`` (§14.2, §15.3.7), a range past the end is 416 (§15.5.17),
  and ``If-Range`` drops the range when the file has changed (§13.1.5);
- HEAD: the headers of GET, no body (§9.3.2); other methods: 405 with Allow;
- the file is streamed in chunks read off the event loop, never read whole.

The URL path is untrusted: every way to step out of the directory (``..``,
``%2e%2e``, an encoded ``/`` or ``\\``, an absolute path, NUL, a symlink
that points outside) is a 404, the same answer as a file that is not there.
"""

from __future__ import annotations

import asyncio
import email.utils
import mimetypes
import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from bare import OWS, ASGIApp, Headers, Message, Receive, Response, Scope, Send

__all__ = ["FileResponse", "StaticFiles", "parse_range", "resolve_path"]

#: Bytes read from disk per chunk. PERF: each chunk is one hop to a worker
#: thread and one ASGI message; 256 KiB keeps both few for large files.
CHUNK_SIZE = 256 * 1024


# ── Resolving a URL path ──────────────────────────────────────────────────────


def resolve_path(root: Path, url_path: str) -> Path | None:
    """Return the file under ``root`` that ``url_path`` names, or None if it may not be served.

    ``url_path`` is what follows the prefix, still percent-encoded, like
    ``"css/site%20main.css"``. ``root`` must already be resolved
    (``Path.resolve()``). None means 404: a segment that is empty, ``.`` or
    ``..`` (encoded or not), one that decodes to something holding ``/``,
    ``\\`` or NUL, a drive or absolute path, a path that is not a regular
    file, or a symlink whose target leaves ``root``.
    """
    # EXERCISE 5.6: Resolve a URL path inside the root
    segments: list[str] = []
    for raw in url_path.split("/"):
        try:
            segment = urllib.parse.unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if segment in ("", ".", "..") or any(bad in segment for bad in "/\\\x00:"):
            return None
        segments.append(segment)
    candidate = Path(os.path.realpath(root.joinpath(*segments)))
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate
    # END EXERCISE


# ── Byte ranges ───────────────────────────────────────────────────────────────


def parse_range(header: str, size: int) -> tuple[int, int] | Literal[False] | None:
    """Return the one byte range ``header`` asks of a ``size``-byte file, as (first, last).

    ``"bytes=0-99"`` -> (0, 99); ``"bytes=500-"`` -> (500, size - 1);
    ``"bytes=-100"`` -> the last 100 bytes; a last byte past the end is cut
    to ``size - 1`` (RFC 9110 §14.1.2). Return None when the header is to be
    ignored (not bytes, malformed, or several ranges: a server may answer
    those with the whole file, §14.2), and False when the range cannot be
    satisfied (416). Only OWS (SP, HTAB; §5.6.3) is trimmed: "\xa0bytes=0-1"
    is not a byte range.
    """
    # EXERCISE 5.7: Parse a Range header
    unit, equals, spec = header.partition("=")
    if unit.strip(OWS).lower() != "bytes" or not equals or "," in spec:
        return None
    first_text, dash, last_text = spec.strip(OWS).partition("-")
    if not dash or not all(
        text.isascii() and (text.isdigit() or text == "") for text in (first_text, last_text)
    ):
        return None
    if first_text == "":
        if last_text == "":
            return None
        length = int(last_text)
        if length == 0 or size == 0:
            return False
        return max(size - length, 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        return False
    return first, min(int(last_text), size - 1) if last_text else size - 1
    # END EXERCISE


# ── Validators ────────────────────────────────────────────────────────────────


def entity_tag(stat: os.stat_result) -> str:
    """Return a strong ETag from the file's modification time and size: '"18c2f..-1a"'."""
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def _etag_listed(etag: str, header: str) -> bool:
    """Return True if ``etag`` is in an If-None-Match list (weak comparison, §8.8.3.2).

    Elements are split on "," with OWS (SP, HTAB) only: '\xa0"abc"' is not '"abc"'.
    """
    if header.strip(OWS) == "*":
        return True
    bare_tag = etag.removeprefix("W/")
    return any(
        candidate.strip(OWS).removeprefix("W/") == bare_tag for candidate in header.split(",")
    )


#: The characters an HTTP-date (and the OWS around it) can hold (RFC 9110 §5.6.7).
_HTTP_DATE_TEXT = re.compile(r"[ \t\x21-\x7e]*")


def _not_modified_since(stat: os.stat_result, header: str) -> bool:
    """Return True if the file has not changed since the HTTP-date ``header`` (§13.1.3).

    An HTTP-date is visible ASCII and SP (§5.6.7); email.utils would also skip
    "\xa0" and other non-HTTP whitespace, so such a date is invalid here.
    """
    if _HTTP_DATE_TEXT.fullmatch(header) is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False  # an invalid date is ignored (§13.1.3)
    if since.tzinfo is None:
        return False
    return int(stat.st_mtime) <= since.timestamp()


# ── The response ──────────────────────────────────────────────────────────────


class FileResponse(Response):
    """A file (or one byte range of it) sent in chunks, with Content-Length set.

    The file is opened when the response is sent, read ``chunk_size`` bytes
    at a time in a worker thread (a disk read must not stall the event
    loop), and closed however the send ends. ``first``/``last`` select an
    inclusive byte range; the status and Content-Range are the caller's.
    """

    def __init__(
        self,
        path: Path,
        *,
        status: int = 200,
        first: int = 0,
        last: int | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if content_type is None:
            guessed, encoding = mimetypes.guess_type(path.name)
            content_type = guessed or "application/octet-stream"
            if encoding is None and content_type.startswith("text/"):
                content_type += "; charset=utf-8"
        super().__init__(None, status, headers, content_type)
        self.path = path
        self.first = first
        self.last = path.stat().st_size - 1 if last is None else last
        self.chunk_size = chunk_size

    async def send(self, send: Send, *, head: bool = False, receive: Receive | None = None) -> None:
        """Send the start event with Content-Length, then the bytes in chunks (none for HEAD)."""
        length = max(self.last - self.first + 1, 0)
        headers = [*self.raw_headers, (b"content-length", b"%d" % length)]
        if head or length == 0:
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        # Opened before the start event: a file that cannot be opened is still
        # an error the caller can answer, not a response cut off after its headers.
        with open(self.path, "rb") as file:
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            file.seek(self.first)
            remaining = length
            while remaining > 0:
                chunk = await asyncio.to_thread(file.read, min(self.chunk_size, remaining))
                if not chunk:  # the file shrank under us: stop rather than lie about the length
                    raise OSError(f"{self.path} ended {remaining} bytes early")
                remaining -= len(chunk)
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": remaining > 0}
                )


def file_response(path: Path, headers: Headers, *, chunk_size: int = CHUNK_SIZE) -> Response:
    """Return the answer to a GET or HEAD of ``path`` given the request ``headers``.

    200 with the file, 304 when the client's copy is current, 206 for one
    satisfiable range, 416 for an unsatisfiable one. Every answer carries
    the validators and ``Accept-Ranges: bytes``.
    """
    stat = path.stat()
    etag = entity_tag(stat)
    validators = {
        "etag": etag,
        "last-modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
        "accept-ranges": "bytes",
    }
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:  # §13.1.3: If-None-Match wins over If-Modified-Since
        if _etag_listed(etag, if_none_match):
            return Response(status=304, headers=validators, content_type=None)
    elif "if-modified-since" in headers and _not_modified_since(stat, headers["if-modified-since"]):
        return Response(status=304, headers=validators, content_type=None)

    range_header = headers.get("range")
    if_range = headers.get("if-range")
    if (
        range_header is not None
        and if_range is not None
        and if_range.strip(OWS) not in (etag, validators["last-modified"])
    ):
        range_header = None  # §13.1.5: the client's partial copy is stale; send it all
    byte_range = parse_range(range_header, stat.st_size) if range_header is not None else None
    if byte_range is False:
        return Response(
            status=416,
            headers={**validators, "content-range": f"bytes */{stat.st_size}"},
            content_type=None,
        )
    if byte_range:
        first, last = byte_range
        return FileResponse(
            path,
            status=206,
            first=first,
            last=last,
            chunk_size=chunk_size,
            headers={**validators, "content-range": f"bytes {first}-{last}/{stat.st_size}"},
        )
    return FileResponse(path, headers=validators, chunk_size=chunk_size)


# ── The middleware ────────────────────────────────────────────────────────────


class StaticFiles:
    """Serve ``directory`` under ``prefix``; pass every other request on to ``app``.

    ``StaticFiles(app, prefix="/static", directory="static")``; ``app`` may
    be None to serve files alone. The directory must exist (ValueError
    otherwise, at start-up rather than at the first request).
    """

    def __init__(
        self,
        app: ASGIApp | None,
        *,
        directory: str | os.PathLike[str],
        prefix: str = "/static",
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        root = Path(directory).resolve()
        if not root.is_dir():
            raise ValueError(f"static directory {str(directory)!r} does not exist")
        if not prefix.startswith("/") or prefix.endswith("/") and prefix != "/":
            raise ValueError(f"prefix must start with / and not end with one, got {prefix!r}")
        self.app = app
        self.root = root
        self.prefix = "" if prefix == "/" else prefix
        self.chunk_size = chunk_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefix + "/"):
            if self.app is None:
                await Response("not found", 404).send(send)
                return
            await self.app(scope, receive, send)
            return
        await self.serve(scope, send)

    async def serve(self, scope: Scope, send: Send) -> None:
        """Answer one request for a file under the prefix."""
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await Response("method not allowed", 405, headers={"allow": "GET, HEAD"}).send(send)
            return
        # The raw path keeps %2F apart from "/"; the decoded path (all a server
        # may give) is re-encoded so both go through one decoder.
        raw = scope.get("raw_path")
        if raw:
            url_path = raw.split(b"?", 1)[0].decode("latin-1")
        else:
            url_path = urllib.parse.quote(scope["path"], safe="/")
        remainder = (
            url_path[len(self.prefix) + 1 :] if url_path.startswith(self.prefix + "/") else ""
        )
        file = resolve_path(self.root, remainder) if remainder else None
        not_found = Response("not found", 404)
        if file is None:
            await not_found.send(send, head=method == "HEAD")
            return
        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            response = file_response(
                file, Headers(scope.get("headers", ())), chunk_size=self.chunk_size
            )
            await response.send(send_and_note, head=method == "HEAD")
        except OSError:
            if started:
                raise  # mid-body: too late for another answer; the server ends the connection
            # Gone or unreadable between the check and the open: as if it were never there.
            await not_found.send(send, head=method == "HEAD")

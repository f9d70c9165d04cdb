"""Forms for bare: multipart/form-data parsed by hand, as a stream, with limits.

    form = await read_form(request)            # urlencoded or multipart, one API
    form["title"]                              # ["hello"]: like bare's request.form()
    upload = form.files["photo"][0]            # an UploadFile
    upload.filename, upload.content_type, upload.size
    saved = upload.save("uploads")             # a Path inside uploads/, never outside

A ``multipart/form-data`` body (RFC 7578) is a list of parts, each with its
own header lines, between delimiter lines made of ``--`` and a boundary the
client chose and named in the Content-Type (RFC 2046 §5.1.1):

    --XyZ\\r\\n
    Content-Disposition: form-data; name="title"\\r\\n
    \\r\\n
    hello\\r\\n
    --XyZ\\r\\n
    Content-Disposition: form-data; name="photo"; filename="cat.png"\\r\\n
    Content-Type: image/png\\r\\n
    \\r\\n
    <bytes>\\r\\n
    --XyZ--\\r\\n

``MultipartParser`` does no I/O: it is fed the body in whatever pieces the
network delivers (``feed``) and hands back events, so a 100 MB upload never
sits in memory, and it can be tested with plain bytes. ``read_form`` drives
it from the ASGI ``receive`` channel and spools file parts to temporary
files. Every limit is checked as the bytes arrive: too many parts, a part
too large, a body too large are 413; a malformed body is 400.

Deliberate differences from python-multipart (the test oracle), each with its
rule: a body that ends without the closing delimiter is an error here
(RFC 2046 §5.1.1 makes the close-delimiter part of the grammar), and a part
without a Content-Disposition ``name`` is refused (RFC 7578 §4.2: "MUST").
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bare import OWS, ClientDisconnected, HTTPError, Request, is_token

__all__ = [
    "Form",
    "FormLimits",
    "MultipartError",
    "MultipartParser",
    "PartData",
    "PartEnd",
    "PartStart",
    "UploadFile",
    "parse_options_header",
    "read_form",
    "safe_filename",
]


# ── Limits and errors ─────────────────────────────────────────────────────────


@dataclass(frozen=True)
class FormLimits:
    """How much a form may hold; past any of these the request is refused with 413."""

    max_parts: int = 1000  # parts in one body
    max_part_size: int = 10 * 1024 * 1024  # bytes in one part (a file)
    max_field_size: int = 64 * 1024  # bytes in one part that is not a file
    max_size: int = 20 * 1024 * 1024  # bytes in the whole body
    max_header_size: int = 8 * 1024  # bytes of header lines in one part


class MultipartError(ValueError):
    """The body breaks the multipart grammar, or a limit; ``status`` is 400 or 413."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# ── Header parameters ─────────────────────────────────────────────────────────

#: ";" name "=" value, with OWS (SP, HTAB only: RFC 9110 §5.6.3, §5.6.6) around
#: each part. Not \s, which in a str pattern also matches "\xa0", "\x85"...
_PARAMETER = re.compile(r';[ \t]*([^ \t=;]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^;]*)')


def parse_options_header(value: str) -> tuple[str, dict[str, str]]:
    """Split a header value into its main value and parameters (RFC 9110 §5.6.6).

    ``'form-data; name="a"; filename="b c.txt"'`` ->
    ``("form-data", {"name": "a", "filename": "b c.txt"})``. Parameter names
    are lowercased; a quoted value loses its quotes and backslash escapes.
    Only OWS (SP, HTAB) is trimmed: ``"\xa0form-data"`` is not ``form-data``.
    """
    main, _, rest = value.partition(";")
    parameters: dict[str, str] = {}
    for match in _PARAMETER.finditer(";" + rest):
        name, text = match.group(1).lower(), match.group(2).strip(OWS)
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        parameters.setdefault(name, text)
    return main.strip(OWS).lower(), parameters


# ── The parser (no I/O) ───────────────────────────────────────────────────────


@dataclass(frozen=True)
class PartStart:
    """A part begins: its header lines as (lowercase name, value) pairs."""

    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PartData:
    """The next bytes of the current part's content."""

    data: bytes


@dataclass(frozen=True)
class PartEnd:
    """The current part is complete."""


Event = PartStart | PartData | PartEnd

_PREAMBLE, _AFTER_DELIMITER, _HEADERS, _BODY, _EPILOGUE = range(5)


class MultipartParser:
    """Turn the pieces of a multipart body into PartStart, PartData and PartEnd events.

    ``parser.feed(chunk)`` returns the events that ``chunk`` completes;
    ``parser.close()`` says the body has ended (MultipartError if it ended
    too soon). Body bytes are handed on as they arrive, except the last few
    that could be the start of a delimiter split across two chunks.
    """

    def __init__(self, boundary: bytes, limits: FormLimits = FormLimits()) -> None:
        # RFC 2046 §5.1.1: 1 to 70 characters, no trailing space.
        if not 1 <= len(boundary) <= 70 or boundary.endswith(b" "):
            raise MultipartError("multipart boundary must be 1 to 70 characters")
        self.limits = limits
        # A delimiter is CRLF "--" boundary. The first one may open the body
        # with no CRLF before it: feeding a CRLF first makes it like the rest.
        self.delimiter = b"\r\n--" + boundary
        self.buffer = bytearray(b"\r\n")
        self.state = _PREAMBLE
        self.parts = 0
        self.part_size = 0
        self.part_limit = limits.max_part_size
        self.total = 0

    def feed(self, data: bytes) -> list[Event]:
        """Take the next piece of the body; return the events it completes."""
        self.total += len(data)
        if self.total > self.limits.max_size:
            raise MultipartError(f"form body is larger than {self.limits.max_size} bytes", 413)
        self.buffer += data
        events: list[Event] = []
        # EXERCISE 5.9: Split a multipart stream into parts
        buffer, delimiter = self.buffer, self.delimiter
        keep = len(delimiter) - 1
        position = 0
        while True:
            if self.state == _BODY:
                found = buffer.find(delimiter, position)
                if found < 0:
                    end = max(len(buffer) - keep, position)
                    if end > position:
                        events.append(self._data(bytes(buffer[position:end])))
                        position = end
                    break
                if found > position:
                    events.append(self._data(bytes(buffer[position:found])))
                events.append(PartEnd())
                position = found + len(delimiter)
                self.state = _AFTER_DELIMITER
            elif self.state == _AFTER_DELIMITER:
                if len(buffer) - position < 2:
                    break
                if buffer[position : position + 2] == b"--":
                    self.state = _EPILOGUE
                    continue
                line_end = buffer.find(b"\r\n", position)
                if line_end < 0:
                    if len(buffer) - position > 256:
                        raise MultipartError("delimiter line is not followed by CRLF")
                    break
                if buffer[position:line_end].strip(b" \t"):
                    raise MultipartError("unexpected bytes after a multipart delimiter")
                position = line_end + 2
                self.state = _HEADERS
            elif self.state == _HEADERS:
                if buffer[position : position + 2] == b"\r\n":
                    head_end = position  # a part with no header lines at all
                else:
                    head_end = buffer.find(b"\r\n\r\n", position)
                    if head_end < 0:
                        if len(buffer) - position > self.limits.max_header_size:
                            raise MultipartError("part header lines are too long", 413)
                        break
                    head_end += 2
                if head_end - position > self.limits.max_header_size:
                    raise MultipartError("part header lines are too long", 413)
                lines = bytes(buffer[position:head_end]).split(b"\r\n")
                events.append(self._start_part([line for line in lines if line]))
                position = head_end + 2
                self.state = _BODY
            elif self.state == _PREAMBLE:
                found = buffer.find(delimiter, position)
                if found < 0:
                    position = max(len(buffer) - keep, position)
                    break
                position = found + len(delimiter)
                self.state = _AFTER_DELIMITER
            else:  # _EPILOGUE
                position = len(buffer)
                break
        del buffer[:position]
        return events
        # END EXERCISE

    def _start_part(self, lines: list[bytes]) -> PartStart:
        """Parse one part's header lines (RFC 7578 §4.8) and count the part."""
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise MultipartError(f"form has more than {self.limits.max_parts} parts", 413)
        headers: list[tuple[str, str]] = []
        for line in lines:
            name, colon, value = line.partition(b":")
            # field-name = token (RFC 9110 §5.1); latin-1 maps each byte to one character
            if not colon or not is_token(name.decode("latin-1")):
                raise MultipartError(f"malformed part header line {line[:40]!r}")
            try:
                text = value.decode("utf-8").strip(OWS)  # field-value OWS only (RFC 9112 §5)
            except UnicodeDecodeError:
                raise MultipartError("part header is not valid UTF-8") from None
            headers.append((name.decode("latin-1").lower(), text))
        self.part_size = 0
        disposition = dict(headers).get("content-disposition", "")
        is_file = "filename" in parse_options_header(disposition)[1]
        self.part_limit = self.limits.max_part_size if is_file else self.limits.max_field_size
        return PartStart(tuple(headers))

    def _data(self, data: bytes) -> PartData:
        self.part_size += len(data)
        if self.part_size > self.part_limit:
            raise MultipartError(f"a form part is larger than {self.part_limit} bytes", 413)
        return PartData(data)

    def close(self) -> None:
        """Say the body is complete; raise MultipartError if it ended inside a part."""
        if self.state != _EPILOGUE:
            raise MultipartError("form body ended before its closing delimiter")


# ── Uploaded files ────────────────────────────────────────────────────────────

_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
_WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


def safe_filename(filename: str, default: str = "upload") -> str:
    """Return ``filename`` as a name safe to create in a folder: no path, no controls.

    ``"C:\\\\Users\\\\me\\\\cat.png"`` -> ``"cat.png"``; ``"../../etc/passwd"`` ->
    ``"passwd"``; ``".htaccess"`` -> ``"htaccess"``; ``"a\\x00b"`` -> ``"a_b"``;
    an empty result, or a name Windows reserves, becomes ``default``. At
    most 200 characters (the extension kept), NFC-normalized.
    """
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip().lstrip(".").strip()
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (
            (stem[: 200 - len(extension) - 1] + dot + extension)
            if dot and len(extension) < 20
            else name[:200]
        )
    if not name or name.split(".")[0].lower() in _WINDOWS_RESERVED:
        return default
    return name


@dataclass
class UploadFile:
    """One uploaded file: its sanitized name, its type, its bytes in a temporary file."""

    filename: str
    content_type: str
    file: IO[bytes]
    size: int = 0
    original_filename: str = ""

    def read(self) -> bytes:
        """Return the whole content (it is spooled to disk past 1 MiB: mind the size)."""
        self.file.seek(0)
        return self.file.read()

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Copy the upload into ``folder`` under its safe name; return the new path.

        An existing file is never overwritten: ``cat.png`` becomes
        ``cat-1.png``. The path is checked to be inside ``folder``.
        """
        root = Path(folder).resolve()
        stem, dot, extension = self.filename.rpartition(".")
        if not dot:
            stem, extension = self.filename, ""
        for attempt in range(1000):
            name = self.filename if attempt == 0 else f"{stem}-{attempt}{dot}{extension}"
            target = (root / name).resolve()
            if target.parent != root:  # safe_filename makes this impossible; check anyway
                raise ValueError(f"refusing to write outside {root}: {name!r}")
            try:
                with open(target, "xb") as out:  # "x": fail if it exists, never overwrite
                    self.file.seek(0)
                    while chunk := self.file.read(1024 * 1024):
                        out.write(chunk)
                return target
            except FileExistsError:
                continue
        raise FileExistsError(f"too many files named like {self.filename!r} in {root}")

    def close(self) -> None:
        self.file.close()


class Form(dict[str, list[str]]):
    """A parsed form: text fields as {name: [values]} (bare's ``form()`` shape), files apart.

    ``form["title"]`` -> ``["hello"]``; ``form.get_first("title")`` ->
    ``"hello"``; ``form.files["photo"]`` -> ``[UploadFile, ...]``.
    """

    def __init__(
        self, fields: Iterable[tuple[str, str]] = (), files: Iterable[tuple[str, UploadFile]] = ()
    ) -> None:
        super().__init__()
        for name, value in fields:
            self.setdefault(name, []).append(value)
        self.files: dict[str, list[UploadFile]] = {}
        for name, upload in files:
            self.files.setdefault(name, []).append(upload)

    def get_first(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0] if values else default

    def close(self) -> None:
        """Close every upload's temporary file."""
        for uploads in self.files.values():
            for upload in uploads:
                upload.close()


# ── Reading a form from a request ─────────────────────────────────────────────


@dataclass
class _Part:
    name: str
    filename: str | None
    content_type: str
    chunks: list[bytes] = field(default_factory=list)
    upload: UploadFile | None = None


def _begin(event: PartStart) -> _Part:
    headers = dict(event.headers)
    kind, parameters = parse_options_header(headers.get("content-disposition", ""))
    if kind != "form-data" or "name" not in parameters:
        raise MultipartError('each part needs "Content-Disposition: form-data; name=..."')
    part = _Part(
        parameters["name"],
        parameters.get("filename"),
        headers.get(
            "content-type",
            "text/plain" if "filename" not in parameters else "application/octet-stream",
        ),
    )
    if part.filename is not None:
        spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        part.upload = UploadFile(
            safe_filename(part.filename), part.content_type, spool, original_filename=part.filename
        )
    return part


async def read_form(request: Request, limits: FormLimits = FormLimits()) -> Form:
    """Read the request's form: multipart/form-data by stream, urlencoded through bare.

    Return a Form; raise HTTPError 400 (malformed) or 413 (past ``limits``)
    or 415 (not a form), and ClientDisconnected if the client leaves. The
    multipart body is read from ``request.receive`` as it arrives, so it
    is not bounded by ``Bare(max_body_size)`` but by ``limits.max_size``;
    do not call ``request.body()`` first.
    """
    media_type = request.media_type
    if media_type == "application/x-www-form-urlencoded":
        return Form(
            (name, value) for name, values in (await request.form()).items() for value in values
        )
    if media_type != "multipart/form-data":
        got = request.content_type or "no Content-Type"
        raise HTTPError(
            415,
            f"expected a form (multipart/form-data or "
            f"application/x-www-form-urlencoded), got {got}",
        )
    boundary = parse_options_header(request.content_type)[1].get("boundary", "")
    declared = request.header("content-length")
    if declared.isascii() and declared.isdigit() and int(declared) > limits.max_size:
        raise HTTPError(413, f"form body is larger than {limits.max_size} bytes")
    try:
        parser = MultipartParser(boundary.encode("latin-1", "replace"), limits)
        return await _read_multipart(request, parser)
    except MultipartError as error:
        raise HTTPError(error.status, str(error)) from None


async def _read_multipart(request: Request, parser: MultipartParser) -> Form:
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, UploadFile]] = []
    part: _Part | None = None
    try:
        more = True
        while more:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected("the client left while sending a form")
            more = message.get("more_body", False)
            for event in parser.feed(message.get("body", b"")):
                if isinstance(event, PartStart):
                    part = _begin(event)
                elif isinstance(event, PartData) and part is not None:
                    if part.upload is not None:
                        part.upload.file.write(event.data)
                        part.upload.size += len(event.data)
                    else:
                        part.chunks.append(event.data)
                elif isinstance(event, PartEnd) and part is not None:
                    if part.upload is not None:
                        files.append((part.name, part.upload))
                    else:
                        try:
                            fields.append((part.name, b"".join(part.chunks).decode("utf-8")))
                        except UnicodeDecodeError:
                            raise MultipartError(f"form field {part.name!r} is not UTF-8") from None
                    part = None
        parser.close()
    except BaseException:
        for _, upload in files:
            upload.close()
        if part is not None and part.upload is not None:
            part.upload.close()
        raise
    return Form(fields, files)

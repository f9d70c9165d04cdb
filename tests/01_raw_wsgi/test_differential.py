"""The parser against h11, on generated requests: where both accept, they must agree.

Hypothesis writes request heads and bodies, valid ones and mutated ones
(whitespace of every kind, case, duplicates, control bytes, obs-fold, bare
LF, number forms, chunk sizes and extensions, trailers, random byte edits),
and feeds each to our ``RequestParser`` and to h11, the parser uvicorn
uses. Then:

- both accept: method, target, version, header fields and body are equal;
- one refuses what the other accepts: the input must show one of the
  deliberate policies in stage 01's README ("Where we differ from h11"),
  each with its RFC section; anything else is a bug in one of the two;
- our parser gives the same events however the bytes are split.

``make test`` runs a fixed, bounded set (derandomized, a few seconds); set
``HYPOTHESIS_PROFILE=long`` for a random run of many more examples::

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/01_raw_wsgi/test_differential.py -q
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import h11
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rawwsgi.http11 import (
    FORBIDDEN_TRAILERS,
    MAX_FIELD_LINE,
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    MAX_LENGTH_DIGITS,
    NEED_DATA,
    Body,
    EndOfRequest,
    HTTPError,
    RequestHead,
    RequestParser,
)

from workbook.fuzzing import fuzz_settings, long_run

# ── Settings: fixed and short in `make test`, random and long on demand ─────

LONG = long_run()
# 500 derandomized examples in `make test` (no .hypothesis/ database); 50 times
# as many fresh ones under HYPOTHESIS_PROFILE=long (workbook.fuzzing.fuzz_settings).
DIFFERENTIAL = fuzz_settings(500)

# ── What each parser makes of the bytes ──────────────────────────────────────


@dataclass(frozen=True)
class Accepted:
    """One request, as a parser read it: the fields both parsers report."""

    method: bytes
    target: bytes
    version: bytes  # "1.1"
    headers: tuple[tuple[bytes, bytes], ...]  # lowercased names, in order
    body: bytes


@dataclass(frozen=True)
class Refused:
    status: int
    reason: str


def ours(data: bytes, pieces: list[int] | None = None) -> Accepted | Refused:
    """Parse the first request in ``data`` with our parser, fed in ``pieces`` (sizes), then EOF."""
    parser = RequestParser()
    chunks = [data] if not pieces else split(data, pieces)
    head: RequestHead | None = None
    body = b""
    try:
        for chunk in [*chunks, b""]:
            parser.feed(chunk)
            while (event := parser.next_event()) is not NEED_DATA:
                if isinstance(event, RequestHead):
                    head = event
                elif isinstance(event, Body):
                    body += event.data
                elif isinstance(event, EndOfRequest):
                    assert head is not None
                    return Accepted(
                        head.method.encode("latin-1"),
                        head.target.encode("latin-1"),
                        head.version.removeprefix("HTTP/").encode("ascii"),
                        tuple(
                            (name.encode("latin-1"), value.encode("latin-1"))
                            for name, value in head.headers
                        ),
                        body,
                    )
    except HTTPError as error:
        return Refused(error.status, error.message)
    return Refused(0, "no request before the connection closed")


def theirs(data: bytes, *, eof: bool = True) -> Accepted | Refused:
    """Parse the first request in ``data`` with h11 (its head limit raised to ours), then EOF.

    With ``eof=False`` the peer stays connected: a request whose head h11
    accepted and whose body is still to come is Accepted with the body so far.
    """
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
    connection.receive_data(data)
    if eof:
        connection.receive_data(b"")
    request: h11.Request | None = None
    body = b""
    try:
        while True:
            event = connection.next_event()
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return Accepted(
                    request.method,
                    request.target,
                    request.http_version,
                    tuple(request.headers),
                    body,
                )
            elif request is not None and not eof and event is h11.NEED_DATA:
                return Accepted(
                    request.method,
                    request.target,
                    request.http_version,
                    tuple(request.headers),
                    body,
                )
            else:  # NEED_DATA, PAUSED or ConnectionClosed: the request never ended
                return Refused(0, f"h11 stopped at {event!r}")
    except h11.RemoteProtocolError as error:
        return Refused(error.error_status_hint, str(error))


def split(data: bytes, pieces: list[int]) -> list[bytes]:
    """Cut ``data`` into pieces of the given sizes (the last piece takes the rest)."""
    chunks, start = [], 0
    for size in pieces:
        chunks.append(data[start : start + size])
        start += size
    return [chunk for chunk in [*chunks, data[start:]] if chunk]  # b"" would mean EOF


# ── The deliberate differences (stage 01's README, "Where we differ from h11") ─

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HOST = re.compile(
    rb"(?:\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]"
    rb"|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?"
)
_CHUNK_EXT = re.compile(  # what RFC 9112 §7.1.1 allows after the size, written independently
    rb"(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
    rb"|\"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*\"))?)*[ \t]*"
)


def _head_of(data: bytes) -> bytes:
    """The bytes of the first head: up to the first empty line, however its lines end."""
    match = re.search(rb"\r?\n\r?\n", data)
    return data[: match.start()] if match else data


def _chunk_lines(data: bytes) -> list[bytes]:
    """The chunk-size lines of a chunked body that h11 accepted (the body after the head)."""
    rest = data[re.search(rb"\r?\n\r?\n", data).end() :]
    lines = []
    while True:
        line, crlf, rest = rest.partition(b"\r\n")
        if not crlf:
            return lines
        lines.append(line)
        size = int(re.match(rb"[0-9A-Fa-f]+", line)[0], 16)
        if size == 0:
            return lines
        rest = rest[size + 2 :]


def policies_h11_accepts(data: bytes, request: Accepted) -> list[str]:
    """Return the README's policies the input shows, for a request h11 accepted and we refused."""
    head = _head_of(data)
    found = []
    names = [name for name, _ in request.headers]
    values = dict(request.headers)
    if b"\n" in data.replace(b"\r\n", b""):
        found.append("bare LF")  # anywhere: head, chunk lines, trailers
    if re.search(rb"\n[ \t]", head):
        found.append("obs-fold")
    if b"#" in request.target:
        found.append("fragment")
    if request.target == b"*" and request.method != b"OPTIONS":
        found.append("asterisk-form")
    if not (
        request.target.startswith(b"/")
        or request.target == b"*"
        or re.match(rb"(?i)https?://[^/?#]", request.target)
    ):
        found.append("target form")
    if request.version not in (b"1.0", b"1.1"):
        found.append("version")
    if b"host" in values and _HOST.fullmatch(values[b"host"]) is None:
        found.append("Host syntax")
    if b"transfer-encoding" in values and (
        b"content-length" in values or request.version == b"1.0"
    ):
        found.append("Transfer-Encoding with Content-Length, or in HTTP/1.0")
    if len(names) > MAX_HEADERS:
        found.append("field count")
    if any(len(line) > MAX_FIELD_LINE for line in head.split(b"\n")):
        found.append("field line size")
    if len(values.get(b"content-length", b"").lstrip(b"0")) > MAX_LENGTH_DIGITS:
        found.append("Content-Length size")
    if values.get(b"transfer-encoding") == b"chunked":
        for line in _chunk_lines(data):
            size = re.match(rb"[0-9A-Fa-f]+", line)[0]
            if len(size) > 16:
                found.append("chunk-size digits")
            if _CHUNK_EXT.fullmatch(line[len(size) :]) is None:
                found.append("chunk extension syntax")
    trailer_names = re.findall(
        rb"\r\n([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:", data.rpartition(b"\r\n0")[2]
    )
    if any(name.lower().decode() in FORBIDDEN_TRAILERS for name in trailer_names):
        found.append("forbidden trailer")
    return found


def policies_we_accept(data: bytes, reason: str) -> list[str]:
    """Return the README's policies that explain an input we accepted and h11 refused."""
    found = []
    if data.startswith(b"\r\n"):
        found.append("empty lines before the request line")
    if "chunk header" in reason and re.search(rb"\r\n\r\n[0-9A-Fa-f]+[ \t]+;", data):
        found.append("BWS before a chunk extension")
    if "chunk header" in reason and re.search(rb"\r\n[0-9A-Fa-f]+[ \t]*;[ \t]*[^\r]*[ \t]=", data):
        found.append("BWS before a chunk extension")
    codings = b",".join(re.findall(rb"(?im)^transfer-encoding:([^\r\n]*)", _head_of(data)))
    if b"" in [element.strip(b" \t") for element in codings.split(b",")]:
        found.append("empty list elements")
    return found


# ── Generating requests ──────────────────────────────────────────────────────
# Half the requests are valid: every part drawn from its usual values. The other
# half are odd in one or two kinds of part (whitespace of other kinds, bare LF,
# obs-fold, number forms, bad chunk lines, forbidden trailers...), the rest valid,
# so that they differ from a valid request in a few places: the inputs where two
# parsers are most likely to disagree. Then, in one request in eight, a byte is edited.

PARTS: dict[str, Part] = {}


@dataclass(frozen=True)
class Part:
    """One kind of part of a request: its usual (valid) values, and odd ones."""

    name: str
    usual: st.SearchStrategy[Any]
    odd: st.SearchStrategy[Any]

    def __post_init__(self) -> None:
        PARTS[self.name] = self

    def draw(self, draw: st.DrawFn, odd: frozenset[str]) -> Any:
        """Draw a usual value; if this kind was chosen to be odd, half the time an odd one."""
        if self.name in odd and draw(st.booleans()):
            return draw(self.odd)
        return draw(self.usual)


def one_of_bytes(*choices: bytes) -> st.SearchStrategy[bytes]:
    return st.sampled_from(choices)


TOKEN = st.from_regex(rb"\A[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,8}\Z", fullmatch=True)

methods = Part(
    "methods",
    one_of_bytes(b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"PATCH"),
    st.one_of(one_of_bytes(b"OPTIONS", b"get", b"M-SEARCH", b"G T", b"G\x00T", b""), TOKEN),
)
targets = Part(
    "targets",
    st.one_of(
        one_of_bytes(b"/", b"/a/b?x=1&y", b"/a%20b", b"//x", b"/q?", b"http://example.com/p?q=1"),
        st.from_regex(rb"\A/[!$&'()*+,;=:@%\-._~A-Za-z0-9/?]{0,12}\Z", fullmatch=True),
    ),
    st.one_of(
        one_of_bytes(
            b"*",
            b"/#frag",
            b"example.com:80",
            b"nowhere",
            b"/a b",
            b"/\x7f",
            b"/caf\xc3\xa9",
            b"HTTP://EXAMPLE.COM",
            b"https://h?x",
            b"",
        ),
        st.binary(min_size=1, max_size=8).map(lambda path: b"/" + path),
    ),
)
versions = Part(
    "versions",
    one_of_bytes(b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"),
    one_of_bytes(b"HTTP/1.2", b"HTTP/2.0", b"http/1.1", b"HTTP/1.1 ", b"HTTP/11", b"HTTP/1.01"),
)
prefixes = Part("prefixes", st.just(b""), one_of_bytes(b"\r\n", b"\r\n\r\n", b"\n"))
separators = Part("separators", st.just(b" "), one_of_bytes(b"  ", b"\t", b"\xa0"))
line_ends = Part("line_ends", st.just(b"\r\n"), one_of_bytes(b"\n", b"\r", b"\r\r\n", b"\n\r"))
host_counts = Part("host_counts", st.just(1), st.sampled_from([0, 2]))
hosts = Part(
    "hosts",
    one_of_bytes(b"example.com", b"example.com:8080", b"[::1]:80", b"127.0.0.1", b"a", b""),
    one_of_bytes(b"a b", b"a/b", b"user@a", b"a:80x", b"\xa0a", b"a,b", b"a\\b", b"[::1", b"a?"),
)
framings = Part(
    "framings",
    st.sampled_from(["none", "length", "chunked"]),
    st.sampled_from(["both", "two lengths", "two codings"]),
)
lengths = Part(
    "lengths",
    st.integers(0, 30).map(lambda n: str(n).encode()),
    one_of_bytes(
        b"007",
        b"+5",
        b"-1",
        b"0x5",
        b"5.0",
        b"\xb2",
        b"5, 5",
        b"5,5",
        b"5, 6",
        b"5,",
        b",5",
        b"123456789012345678901",
        b"00000000000000000000005",
        b"",
    ),
)
length_errors = Part("length_errors", st.just(0), st.sampled_from([-1, 1]))
codings = Part(
    "codings",
    one_of_bytes(b"chunked", b"Chunked", b"CHUNKED"),
    one_of_bytes(
        b"gzip, chunked",
        b"chunked, identity",
        b"chunked, chunked",
        b"identity",
        b"gzip",
        b",chunked",
        b"chunked,",
        b"chunked;x=1",
        b"\xa0chunked",
        b"chunked\x85",
        b"chunk ed",
        b"",
    ),
)
names = Part(
    "names",
    st.one_of(one_of_bytes(b"Accept", b"Connection", b"User-Agent", b"X-Tag"), TOKEN),
    one_of_bytes(b"x_under", b"X Space", b"X\x00", b"", b"X:Y", b"Caf\xe9"),
)
values = Part(
    "values",
    st.one_of(
        one_of_bytes(b"close", b"keep-alive", b"*/*", b"caf\xe9", b"a  b", b""),
        st.from_regex(rb"\A[\x21-\x7e]([\x20-\x7e]{0,8}[\x21-\x7e])?\Z", fullmatch=True),
    ),
    st.one_of(one_of_bytes(b"a\x00b", b"a\rb", b"\x7f", b"100-continue"), st.binary(max_size=8)),
)
#: Whitespace as Python's str.strip() knows it; HTTP's own is SP and HTAB (RFC 9110 §5.6.3).
spaces = Part(
    "spaces",
    one_of_bytes(b"", b"", b"", b" ", b"\t", b"  ", b" \t"),
    one_of_bytes(b"\xa0", b"\x85", b"\x0b", b"\x0c", b"\x1c", b"\x00", b"\r", b"\n"),
)
#: Around the framing fields' values and list elements, odd whitespace is the point: drawn often.
framing_spaces = Part(
    "framing_spaces", spaces.usual, one_of_bytes(b"\xa0", b"\x85", b"\x0b", b"\x1c")
)
colons = Part("colons", st.just(b":"), one_of_bytes(b" :", b"", b"\t:"))
folds = Part("folds", st.just(b""), one_of_bytes(b" folded", b"\tfolded"))
size_forms = Part(
    "size_forms",
    st.sampled_from(["%x", "%X", "%05x"]),
    st.sampled_from(["%017x", "%021x", "0x%x", " %x", "%x ", "%x\t", "-%x"]),
)
extensions = Part(
    "extensions",
    one_of_bytes(b"", b"", b";a", b";a=b", b';a="q;\\"x"', b"; a = b"),
    one_of_bytes(b" ;a", b";", b';a="open', b";\xa0a", b";a=b c", b";a="),
)
data_ends = Part("data_ends", st.just(b"\r\n"), one_of_bytes(b"", b"XX", b"\n", b"\r"))
trailer_names = Part(
    "trailer_names",
    one_of_bytes(b"X-Checksum", b"X-Tag"),
    one_of_bytes(b"Content-Length", b"Host", b"Transfer-Encoding", b"Authorization", b"bad name"),
)
edits = Part("edits", st.sampled_from([0] * 7 + [1]), st.sampled_from([1, 2]))


#: The kinds a request can be odd in, the framing fields' kinds (smuggling's home) weighted up.
ODD_KINDS = (
    sorted(PARTS)
    + ["framing_spaces"] * 6
    + ["codings", "lengths", "framings"] * 3
    + ["line_ends"] * 2
)


@st.composite
def fields(draw: st.DrawFn, odd: frozenset[str]) -> list[tuple[bytes, bytes]]:
    """Header fields: a Host (or none, or two), framing fields, and others, in any order."""
    found: list[tuple[bytes, bytes]] = []
    for _ in range(host_counts.draw(draw, odd)):
        found.append((draw(one_of_bytes(b"Host", b"host", b"HOST")), hosts.draw(draw, odd)))
    framing = framings.draw(draw, odd)

    def spaced(value: bytes) -> bytes:
        """Put whitespace around the value, or around one element of a list."""
        before, after = framing_spaces.draw(draw, odd), framing_spaces.draw(draw, odd)
        elements = value.split(b",")
        index = draw(st.integers(0, len(elements) - 1))
        elements[index] = before + elements[index] + after
        return b",".join(elements)

    if framing in ("length", "both", "two lengths"):
        found.append(
            (
                draw(one_of_bytes(b"Content-Length", b"content-length")),
                spaced(lengths.draw(draw, odd)),
            )
        )
    if framing == "two lengths":
        found.append((b"Content-Length", lengths.draw(draw, odd)))
    if framing in ("chunked", "both", "two codings"):
        found.append(
            (
                draw(one_of_bytes(b"Transfer-Encoding", b"transfer-encoding")),
                spaced(codings.draw(draw, odd)),
            )
        )
    if framing == "two codings":
        found.append((b"Transfer-Encoding", codings.draw(draw, odd)))
    for _ in range(draw(st.integers(0, 3))):
        found.append((names.draw(draw, odd), values.draw(draw, odd)))
    return draw(st.permutations(found))


@st.composite
def chunked_body(draw: st.DrawFn, odd: frozenset[str]) -> bytes:
    """Chunks (sizes in any form, extensions valid or not), the last chunk, maybe trailers."""
    body = b""
    for data in draw(st.lists(st.binary(min_size=1, max_size=20), max_size=3)):
        size = (size_forms.draw(draw, odd) % len(data)).encode()
        body += size + extensions.draw(draw, odd) + line_ends.draw(draw, odd)
        body += data + data_ends.draw(draw, odd)
    body += b"0" + extensions.draw(draw, odd) + line_ends.draw(draw, odd)
    for _ in range(draw(st.integers(0, 2))):
        name = trailer_names.draw(draw, odd)
        body += (
            name
            + b":"
            + spaces.draw(draw, odd)
            + draw(one_of_bytes(b"1", b"abc", b""))
            + line_ends.draw(draw, odd)
        )
    return body + line_ends.draw(draw, odd)


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """A request, valid or odd: request line, fields, body, maybe a next request, byte edits."""
    odd = (
        frozenset()
        if draw(st.booleans())
        else draw(st.frozensets(st.sampled_from(ODD_KINDS), min_size=1, max_size=2))
    )
    end = line_ends.draw(draw, odd)
    data = prefixes.draw(draw, odd) + methods.draw(draw, odd) + separators.draw(draw, odd)
    data += targets.draw(draw, odd) + b" " + versions.draw(draw, odd) + end
    listed = draw(fields(odd))
    for name, value in listed:
        data += (
            name + colons.draw(draw, odd) + spaces.draw(draw, odd) + value + spaces.draw(draw, odd)
        )
        if fold := folds.draw(draw, odd):
            data += end + fold  # obs-fold: the field value continues on the next line
        data += line_ends.draw(draw, odd)
    data += line_ends.draw(draw, odd)
    framing = {name.lower(): value for name, value in listed}
    if b"transfer-encoding" in framing:
        data += draw(chunked_body(odd))
    else:
        length = framing.get(b"content-length", b"0")
        size = int(length) if length.isdigit() and len(length) < 4 else 0
        size = max(0, size + length_errors.draw(draw, odd))  # now and then one byte short or long
        data += draw(st.binary(min_size=size, max_size=size))
    data += draw(one_of_bytes(b"", b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n"))  # what follows
    for _ in range(edits.draw(draw, odd)):  # insert, delete or replace one byte
        position = draw(st.integers(0, len(data)))
        byte = draw(
            one_of_bytes(b"\r", b"\n", b" ", b"\t", b"\x00", b"\xa0", b":", b",", b";", b"0", b"a")
        )
        edit = draw(st.sampled_from([(0, byte), (1, b""), (1, byte)]))
        data = data[:position] + edit[1] + data[position + edit[0] :]
    return data


# ── The properties ───────────────────────────────────────────────────────────


def comparable(request: Accepted) -> Accepted:
    """h11 rewrites two fields as it reads them: do the same to ours before comparing.

    It keeps one Content-Length for "5, 5" (the length, not the list) and
    lowercases Transfer-Encoding; every other field is kept as sent.
    """
    headers = []
    for name, value in request.headers:
        if name == b"content-length":
            value = value.split(b",")[0].strip(b" \t")
            if any(existing == b"content-length" for existing, _ in headers):
                continue
        elif name == b"transfer-encoding":
            value = value.lower()
        headers.append((name, value))
    return Accepted(request.method, request.target, request.version, tuple(headers), request.body)


def check_against_h11(data: bytes) -> None:
    """The differential property, for one input."""
    mine, other = ours(data), theirs(data)
    if isinstance(mine, Accepted) and isinstance(other, Accepted):
        assert comparable(mine) == comparable(other)
    elif isinstance(other, Accepted):
        assert isinstance(mine, Refused)
        assert mine.status != 0, "our parser gave up without an error status"
        assert policies_h11_accepts(data, other), (
            f"we refused ({mine.status} {mine.reason}) what h11 accepts, "
            "and no listed policy explains it"
        )
    elif isinstance(mine, Accepted):
        assert policies_we_accept(data, other.reason), (
            f"we accepted what h11 refuses ({other.reason}), and no listed policy explains it"
        )


# The README's examples, always run first, whatever the profile.
@example(
    pieces=[],
    data=b"POST /echo HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: \xa0chunked\r\n\r\n1\r\nZ\r\n0\r\n\r\n",
)
@example(
    pieces=[],
    data=b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n1\r\nZ\r\n"
    b"0\r\n\r\n",
)
@example(
    pieces=[],
    data=b"GET / HTTP/1.1\r\nHost: a\r\nUseless:\n\nGET /echo?smuggled=1 HTTP/1.1\nHost: a\r\n\r\n",
)
@example(pieces=[], data=b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n")
@example(pieces=[], data=b"GET * HTTP/1.1\r\nHost: a\r\n\r\n")
@example(pieces=[], data=b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello")
@example(
    pieces=[],
    data=b'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a="q"\r\nhello\r\n'
    b"0\r\nX: 1\r\n\r\n",
)
@pytest.mark.timeout(3600 if LONG else 600)  # a bound: 30 s quiet, over 120 s at load 20
@given(data=requests(), pieces=st.lists(st.integers(0, 40), max_size=8))
@DIFFERENTIAL
def test_parser_agrees_with_h11_or_a_listed_policy_explains_why(
    data: bytes, pieces: list[int]
) -> None:
    """Both accept and agree, or the difference is a deliberate policy of the README's table.

    And our parser reads the same however the bytes are split into feeds.
    """
    check_against_h11(data)
    assert ours(data, pieces) == ours(data)


@pytest.mark.parametrize(
    "data",
    [
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n"
        b"X: 1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    ],
    ids=["chunked", "content-length"],
)
def test_parser_reads_the_same_split_at_every_byte_boundary(data: bytes) -> None:
    """Split once at each position, and byte by byte: the same request every time."""
    whole = ours(data)
    assert isinstance(whole, Accepted) and whole.body == b"hello"
    for position in range(len(data) + 1):
        assert ours(data, [position]) == whole
    assert ours(data, [1] * len(data)) == whole


@pytest.mark.parametrize(
    ("data", "policy"),
    [
        (b"GET / HTTP/1.1\nHost: a\n\n", "bare LF"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", "obs-fold"),
        (b"GET /#x HTTP/1.1\r\nHost: a\r\n\r\n", "fragment"),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", "asterisk-form"),
        (b"GET nowhere HTTP/1.1\r\nHost: a\r\n\r\n", "target form"),
        (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", "version"),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "Host syntax"),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
            b"0\r\n\r\n",
            "Transfer-Encoding with Content-Length, or in HTTP/1.0",
        ),
        (
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "Transfer-Encoding with Content-Length, or in HTTP/1.0",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a" + b"\r\nX: y" * (MAX_HEADERS + 1) + b"\r\n\r\n",
            "field count",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"y" * MAX_FIELD_LINE + b"\r\n\r\n",
            "field line size",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n",
            "Content-Length size",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000005\r\n"
            b"hello\r\n0\r\n\r\n",
            "chunk-size digits",
        ),
        (
            b'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a="\r\nhello\r\n'
            b"0\r\n\r\n",
            "chunk extension syntax",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
            b"Host: b\r\n\r\n",
            "forbidden trailer",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_policy_where_h11_accepts_is_real(data: bytes, policy: str) -> None:
    """Each row of the README's table: h11 accepts, we refuse, and the policy is recognised."""
    other = theirs(data, eof=False)  # h11 would wait for the body of an 18-digit length
    assert isinstance(other, Accepted), other
    assert isinstance(ours(data), Refused)
    assert policy in policies_h11_accepts(data, other)


@pytest.mark.parametrize(
    ("data", "policy"),
    [
        (b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "empty lines before the request line"),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a\r\nhello\r\n"
            b"0\r\n\r\n",
            "BWS before a chunk extension",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\n"
            b"Transfer-Encoding: , chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "empty list elements",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_policy_where_we_accept_is_real(data: bytes, policy: str) -> None:
    """Each row where we are the lenient one: we accept, h11 refuses, the policy is recognised."""
    other = theirs(data)
    assert isinstance(other, Refused), other
    assert isinstance(ours(data), Accepted)
    assert policy in policies_we_accept(data, other.reason)

"""Gzip: compress what the client accepts and is worth it; fix headers; keep streams streaming."""

from __future__ import annotations

import gzip as gzip_format
import zlib
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import pytest
from onion.errors import ErrorHandler
from onion.gzip import GZIP_WBITS, Gzip, accepts_gzip, compress_stream
from stage02_helpers import call
from stage03_helpers import Recorder, sandwich

TEXT = [("Content-Type", "text/plain; charset=utf-8")]
BIG = b"All work and no play makes Jack a dull boy.\n" * 40  # 1,760 bytes
ACCEPT = [("Accept-Encoding", "gzip, deflate")]


def zipped(app: Any, **options: Any) -> Any:
    return sandwich(partial(Gzip, **options), app)


# ── Which clients accept gzip ────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("accept_encoding", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *", False),  # gzip named with q=0 beats the wildcard
        ("*;q=0", False),
        ("deflate, br", False),
        ("identity", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(accept_encoding: str, accepted: bool) -> None:
    """gzip is accepted when named (or covered by *) with a q-value above 0."""
    assert accepts_gzip(accept_encoding) is accepted


# ── Compressing a stream (exercise 3.4) ──────────────────────────────────────


@pytest.mark.exercise("3.4")
def test_stream_yields_once_per_chunk_then_the_trailer() -> None:
    """compress_stream yields one piece per chunk (b"" for b""), plus one at the end."""
    pieces = list(compress_stream([b"one", b"", b"two"]))
    assert (len(pieces), pieces[1]) == (4, b"")


@pytest.mark.exercise("3.4")
def test_each_piece_decompresses_as_soon_as_it_arrives() -> None:
    """Every piece is flushed: a client decompresses chunk k before chunk k+1 exists."""
    decompressor = zlib.decompressobj(GZIP_WBITS)
    chunks = [b"first line\n", b"second line\n", b"third line\n"]
    stream = compress_stream(iter(chunks))
    for chunk in chunks:
        assert decompressor.decompress(next(stream)) == chunk


@pytest.mark.exercise("3.4")
def test_pieces_join_into_one_valid_gzip_file() -> None:
    """Joined, the pieces are one gzip stream that the gzip module reads back."""
    chunks = [BIG[:100], BIG[100:1000], BIG[1000:]]
    assert gzip_format.decompress(b"".join(compress_stream(chunks))) == BIG


@pytest.mark.exercise("3.4")
def test_streaming_response_is_compressed_chunk_by_chunk() -> None:
    """A streaming body stays streaming: compressed pieces, no Content-Length, gzip headers."""
    app = Recorder(chunks=[b"a" * 300, b"b" * 300, b"c" * 300], stream=True)
    reply = call(zipped(app), headers=ACCEPT)
    assert (
        len(reply.chunks),
        reply.header("Content-Encoding"),
        reply.header("Content-Length"),
        reply.header("Vary"),
        gzip_format.decompress(reply.body),
        app.log,
    ) == (4, "gzip", None, "Accept-Encoding", b"a" * 300 + b"b" * 300 + b"c" * 300, ["closed"])


@pytest.mark.exercise("3.4")
def test_app_that_starts_the_response_lazily_is_handled() -> None:
    """An app written as a generator calls start_response on its first iteration: still works."""

    def lazy(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", TEXT)
        yield BIG

    reply = call(zipped(lazy), headers=ACCEPT)
    assert (reply.header("Content-Encoding"), gzip_format.decompress(reply.body)) == ("gzip", BIG)


# ── Whole bodies and the headers ─────────────────────────────────────────────


def test_whole_body_is_compressed_with_its_new_content_length() -> None:
    """A body given whole (a list) is compressed at once and sent with its real length."""
    # No lint between Gzip and the app here: its wrapper would hide that the body is a list.
    reply = call(Gzip(Recorder(chunks=[BIG])), headers=ACCEPT)
    assert (
        reply.header("Content-Encoding"),
        reply.header("Content-Length"),
        gzip_format.decompress(reply.body),
    ) == ("gzip", str(len(reply.body)), BIG)


@pytest.mark.parametrize(
    ("app", "headers", "vary"),
    [
        (Recorder(chunks=[b"tiny"]), ACCEPT, "Accept-Encoding"),  # not worth it
        (Recorder(chunks=[BIG]), [("Accept-Encoding", "br")], "Accept-Encoding"),  # not accepted
        (Recorder(chunks=[BIG]), [], "Accept-Encoding"),
        (Recorder(chunks=[BIG], headers=[("Content-Type", "image/png")]), ACCEPT, None),
        (Recorder(chunks=[BIG], headers=[*TEXT, ("Content-Encoding", "br")]), ACCEPT, None),
        (Recorder(chunks=[BIG], headers=[*TEXT, ("Cache-Control", "no-transform")]), ACCEPT, None),
        (Recorder(chunks=[BIG], status="206 Partial Content"), ACCEPT, None),
    ],
)
def test_response_left_alone_keeps_its_body_and_length(
    app: Recorder, headers: list[tuple[str, str]], vary: str | None
) -> None:
    """Too small, not accepted, not text, already encoded, no-transform or 206: sent as is."""
    reply = call(zipped(app), headers=headers)
    body = b"".join(app.chunks)
    assert (reply.body, reply.header("Content-Length"), reply.header("Vary")) == (
        body,
        str(len(body)),
        vary,
    )


def test_vary_is_added_to_an_existing_vary() -> None:
    """An existing Vary keeps its fields and gains Accept-Encoding."""
    app = Recorder(chunks=[BIG], headers=[*TEXT, ("Vary", "Origin")])
    assert call(zipped(app), headers=ACCEPT).header_list("Vary") == ["Origin, Accept-Encoding"]


def test_strong_etag_is_weakened() -> None:
    """A strong ETag names the uncompressed bytes: the compressed response gets a weak one."""
    app = Recorder(chunks=[BIG], headers=[*TEXT, ("ETag", '"v1"')])
    assert call(zipped(app), headers=ACCEPT).header("ETag") == 'W/"v1"'


@pytest.mark.filterwarnings("ignore:Content-Length and the number of bytes:Warning")
def test_head_is_not_compressed() -> None:
    """A HEAD response keeps the app's headers (and Content-Length), plus Vary."""

    def head(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [*TEXT, ("Content-Length", "1760")])
        return []

    reply = call(zipped(head), "HEAD", headers=ACCEPT)
    assert (
        reply.header("Content-Encoding"),
        reply.header("Content-Length"),
        reply.header("Vary"),
    ) == (None, "1760", "Accept-Encoding")


def test_written_bytes_are_compressed_too() -> None:
    """Bytes sent with the legacy write() are part of the compressed body."""

    def writer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        write = start_response("200 OK", TEXT)
        write(BIG[:1000])
        return [BIG[1000:]]

    reply = call(zipped(writer), headers=ACCEPT)
    assert gzip_format.decompress(reply.body) == BIG


def test_empty_streaming_body_is_not_compressed() -> None:
    """A stream that yields nothing is sent as nothing: no gzip header and trailer for 0 bytes."""
    reply = call(zipped(Recorder(chunks=[], stream=True)), headers=ACCEPT)
    assert (reply.body, reply.header("Content-Encoding")) == (b"", None)


def test_error_page_from_an_inner_layer_replaces_a_pending_response() -> None:
    """An error handler inside gzip replaces the response (exc_info) before gzip sent anything."""
    app = Recorder(chunks=[b"x" * 600], stream=True, fail_after=0)
    reply = call(zipped(ErrorHandler(app)), headers=ACCEPT)
    assert (reply.status, reply.header("Content-Encoding"), reply.body) == (
        500,
        None,
        b"Internal Server Error\n",
    )


@pytest.mark.filterwarnings("ignore:Content-Length and the number of bytes:Warning")
def test_error_after_gzip_started_sending_reaches_the_server() -> None:
    """Once compressed bytes are out, gzip passes exc_info on and the server re-raises."""
    app = Recorder(chunks=[b"x" * 600, b"never"], stream=True, fail_after=1)
    with pytest.raises(RuntimeError, match="failed while streaming"):
        call(zipped(ErrorHandler(app)), headers=ACCEPT)
    assert app.log == ["closed"]


@pytest.mark.parametrize(
    ("options", "message"), [({"level": 0}, "level"), ({"minimum_size": -1}, "minimum_size")]
)
def test_bad_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    """A compression level outside 1..9 or a negative minimum size is a ValueError."""
    with pytest.raises(ValueError, match=message):
        Gzip(Recorder(), **options)

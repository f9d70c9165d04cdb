"""Bad input over a real socket: a clear 4xx (or a clean close), and the server lives on.

Every test here ends by checking that the server still answers a normal
request: no client, however rude, takes it down.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from wsgiref.validate import validator

import pytest
from rawwsgi import apps
from rawwsgi.environ import ClientDisconnected
from rawwsgi.http11 import MAX_HEAD_BYTES, MAX_REQUEST_LINE
from rawwsgi.protocol import Environ, StartResponse
from rawwsgi.server import WSGIServer
from stage01_helpers import closed_by_peer, connect, exchange, read_response, url, wait_finished

from workbook.smuggling import SMUGGLING_CASES, UNANSWERED_CONTINUE
from workbook.testing import fetch, wait_for_app

Serve = Callable[..., WSGIServer]


def still_serves(server: WSGIServer) -> bool:
    return fetch("GET", url(server), timeout=5).text == "Hello, WSGI!"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: a\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET /" + b"a" * MAX_REQUEST_LINE + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * MAX_HEAD_BYTES + b"\r\n\r\n", 431),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"abc",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: lots\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\na", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ],
    ids=[
        "malformed-request-line",
        "four-part-request-line",
        "malformed-header",
        "obs-fold",
        "no-host",
        "request-line-too-long",
        "headers-too-large",
        "cl-and-te",
        "invalid-cl",
        "conflicting-cl",
        "unsupported-te",
        "http-2",
    ],
)
def test_bad_request_gets_its_status_and_the_connection_closes(
    serve: Serve, sent, request_bytes: bytes, status: int
) -> None:
    """Malformed or unframeable requests get a plain-text 4xx/5xx, Connection: close, then EOF."""
    server = serve(validator(apps.app))
    sent("GET", url(server))
    response, rest = exchange(server, request_bytes)
    assert (response.status, response.header("Connection"), rest) == (status, "close", b"")
    assert response.header("Content-Type") == "text/plain; charset=utf-8"
    assert still_serves(server)


def test_body_over_max_body_is_413(serve: Serve) -> None:
    """With max_body set, a larger Content-Length is refused with 413 before the body is read."""
    server = serve(validator(apps.app), max_body=10)
    response, _ = exchange(
        server, b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"
    )
    assert response.status == 413
    assert still_serves(server)


def test_chunked_body_over_max_body_is_413(serve: Serve) -> None:
    """A chunked body that grows past max_body while the app reads it is refused with 413."""
    server = serve(validator(apps.app), max_body=10)
    response, _ = exchange(
        server,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n",
    )
    assert response.status == 413


def test_malformed_chunk_while_the_app_reads_is_400(serve: Serve) -> None:
    """A malformed chunk found while the app reads its body gets 400, not a 500."""
    server = serve(validator(apps.app))
    response, _ = exchange(
        server,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\nhello\r\n0\r\n\r\n",
    )
    assert response.status == 400
    assert still_serves(server)


# ── Slow clients ─────────────────────────────────────────────────────────────


def test_client_that_sends_part_of_a_head_gets_408(serve: Serve) -> None:
    """A head that stops arriving is answered 408 once the timeout passes, then closed."""
    server = serve(validator(apps.app), timeout=0.5)
    with connect(server) as (sock, reader):
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        response = read_response(reader)
        assert closed_by_peer(sock, reader)
    assert response.status == 408
    assert still_serves(server)


def test_client_that_sends_nothing_is_closed(serve: Serve) -> None:
    """An idle connection (or a slowloris that never starts) is closed after the timeout."""
    server = serve(validator(apps.app), timeout=0.5)
    with connect(server) as (sock, reader):
        assert closed_by_peer(sock, reader)


def test_client_that_trickles_its_head_is_cut_off(serve: Serve) -> None:
    """Slowloris: a byte every 0.1 s does not extend the deadline for the whole head."""
    server = serve(validator(apps.app), timeout=0.5)
    trickled = 0
    with connect(server) as (sock, _):
        with pytest.raises(OSError):  # broken pipe or reset: the server hung up
            for byte in b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"z" * 100:
                sock.sendall(bytes([byte]))
                trickled += 1
                time.sleep(0.1)
    assert trickled < 60  # cut off after about 0.5 s, long before the 2.8 s the head needs
    assert still_serves(server)


# ── Clients that leave ───────────────────────────────────────────────────────


def abort(sock: socket.socket) -> None:
    """Close with a TCP reset instead of a polite FIN, like a crashed client."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_client_that_leaves_mid_request_does_not_hurt_the_server(serve: Serve) -> None:
    """A client that leaves half-way through its body: the app is stopped, the server serves on."""
    errors: list[BaseException] = []
    entered = threading.Event()

    def reader(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        entered.set()
        try:
            data = environ["wsgi.input"].read(100)
        except ClientDisconnected as error:
            errors.append(error)
            raise
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"read %d bytes" % len(data)]

    server = serve(reader)
    with socket.create_connection(server.server_address, timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly part")
        wait_for_app(sock, entered.is_set)
        abort(sock)
    wait_finished(server)  # the app ends before its connection does
    assert [type(error) for error in errors] == [ClientDisconnected]
    assert fetch("GET", url(server), timeout=5).text == "read 0 bytes"


def test_client_that_leaves_mid_response_does_not_hurt_the_server(serve: Serve) -> None:
    """A client leaves while a long body streams: the app's close() runs, the server serves on."""
    closed = threading.Event()

    def endless(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        try:
            if environ["PATH_INFO"] == "/":
                yield b"Hello, WSGI!"
                return
            for _ in range(100_000):  # 6.5 GB: the client leaves long before the end
                yield b"x" * 65536
        finally:
            if environ["PATH_INFO"] != "/":
                closed.set()  # a generator's close() runs this finally

    server = serve(validator(endless))
    with socket.create_connection(server.server_address, timeout=5) as sock:
        sock.sendall(b"GET /endless HTTP/1.1\r\nHost: a\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        abort(sock)
    wait_finished(server)  # the iterable's close() comes before the connection ends
    assert closed.is_set()
    assert still_serves(server)


# ── Request smuggling and Host (README: "Request smuggling"), over a real socket ──


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [pytest.param(data, status, id=name) for name, data, status in SMUGGLING_CASES],
)
def test_smuggling_inputs_get_one_refusal_and_a_close(
    serve: Serve, request_bytes: bytes, status: int
) -> None:
    """What a proxy could frame otherwise gets one 4xx, Connection: close, EOF: no second answer."""
    server = serve(validator(apps.app))
    response, rest = exchange(server, request_bytes)
    assert (response.status, response.header("Connection"), rest) == (status, "close", b"")
    assert still_serves(server)


def test_unanswered_100_continue_says_close_before_closing(serve: Serve) -> None:
    """A body never asked for leaves the connection unusable; the head says so (RFC 9112 §9.6)."""
    server = serve(validator(apps.app))
    response, rest = exchange(server, UNANSWERED_CONTINUE)
    assert (response.status, response.header("Connection"), rest) == (200, "close", b"")

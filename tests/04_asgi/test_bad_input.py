"""Bad HTTP input over a real socket: a clear 4xx or a clean close, and the server stays up."""

from __future__ import annotations

import select
import socket
import time

import pytest
from rawasgi import apps
from stage04_helpers import exchange, read_until_closed, status_of

from workbook.smuggling import SMUGGLING_CASES, UNANSWERED_CONTINUE
from workbook.testing import LOOPBACK, fetch, wait_until


def still_serving(url: str) -> bool:
    """Return whether the server answers a normal request."""
    return fetch("GET", url, timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"x" * 70000 + b"\r\n\r\n", 431),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (
            b"POST /echo HTTP/1.1\r\nHost: t\r\n"
            b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -3\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\n folded: header\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ],
    ids=[
        "garbage",
        "no-host",
        "uri-too-long",
        "too-many-headers",
        "head-too-large",
        "unknown-coding",
        "http-2",
        "length-and-chunked",
        "negative-length",
        "obs-fold",
        "bad-chunk-size",
    ],
)
def test_malformed_request_gets_a_4xx_and_the_server_stays_up(
    serve, request_bytes: bytes, status: int
) -> None:
    """Each malformed request gets its status (400/414/431/501/505), a close; later ones work."""
    server = serve(apps.app)
    response = exchange(server.port, request_bytes)
    assert status_of(response) == status
    assert b"connection: close" in response.lower()
    assert still_serving(server.url)


def test_idle_connection_is_closed_after_the_timeout(serve) -> None:
    """A client that connects and sends nothing is disconnected after the idle timeout, silently."""
    server = serve(apps.app, timeout=0.3)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        assert read_until_closed(sock) == b""


def test_half_a_head_then_silence_is_408(serve) -> None:
    """A client that stops in the middle of a request head gets 408 Request Timeout."""
    server = serve(apps.app, timeout=0.3)
    assert status_of(exchange(server.port, b"GET / HTTP/1.1\r\nHost:")) == 408


def test_half_a_body_then_silence_is_408(serve) -> None:
    """A client that stops in the middle of its body gets 408 when the app reads it."""
    server = serve(apps.app, timeout=0.3)
    response = exchange(
        server.port, b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"
    )
    assert status_of(response) == 408
    assert still_serving(server.url)


def test_keep_alive_connection_is_closed_when_idle(serve) -> None:
    """After a response, a kept-alive connection that stays idle is closed after the timeout."""
    server = serve(apps.app, timeout=0.3)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        response = read_until_closed(sock)
    assert status_of(response) == 200 and response.endswith(b"Hello, ASGI!\n")


def test_client_vanishing_mid_request_does_not_take_the_server_down(serve) -> None:
    """Clients that disconnect mid-head, mid-body or mid-response leave the server serving."""
    server = serve(apps.app)
    for data in (
        b"GET / HT",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99\r\n\r\nab",
        b"GET /stream?count=50&delay=0.01 HTTP/1.1\r\nHost: t\r\n\r\n",
    ):
        with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
            sock.sendall(data)
            time.sleep(0.05)  # the scenario: a client that lingers a moment, then leaves
        # A reset instead of a close, too:
        with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            sock.sendall(data)
    wait_until(
        lambda: not server.server.connections,
        what="the server to drop the abandoned connections",
        show=lambda: server.server.connections,
    )
    assert still_serving(server.url)


def test_client_that_half_closes_still_gets_its_response(serve) -> None:
    """A client that shuts its sending side after the request still gets the whole response."""
    server = serve(apps.app)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
        sock.shutdown(socket.SHUT_WR)
        response = read_until_closed(sock)
    assert status_of(response) == 200 and response.endswith(b"\r\n\r\nhi")


def test_a_refused_request_with_unread_body_still_gets_its_response(serve) -> None:
    """The 4xx reaches the client even when it keeps sending: the server lingers before closing."""
    server = serve(apps.app, max_body=10)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n")
        try:
            sock.sendall(b"x" * 200000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = read_until_closed(sock)
    assert status_of(response) == 413


# ── Request smuggling and Host (stage 01's README: "Request smuggling") ──────


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [pytest.param(data, status, id=name) for name, data, status in SMUGGLING_CASES],
)
def test_smuggling_inputs_get_one_refusal_and_a_close(
    serve, request_bytes: bytes, status: int
) -> None:
    """What a proxy could frame otherwise gets one 4xx, connection: close, EOF: no second answer."""
    server = serve(apps.app)
    response = exchange(server.port, request_bytes)
    assert status_of(response) == status
    assert response.lower().count(b"http/1.1 ") == 1 and b"connection: close" in response.lower()
    assert still_serving(server.url)


def test_client_that_trickles_its_head_gets_408(serve) -> None:
    """Slowloris: the whole head must arrive within the timeout, however it is spread out."""
    server = serve(apps.app, timeout=0.5)
    head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"z" * 200
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        for byte in head:  # a byte every 0.1 s at most: 20 s for the head, 40 times the timeout
            sock.sendall(bytes([byte]))
            if select.select([sock], [], [], 0.1)[0]:
                break  # the server answered
        else:
            pytest.fail("the server waited for the whole trickled head")
        response = read_until_closed(sock)
    assert status_of(response) == 408
    assert still_serving(server.url)


def test_unanswered_100_continue_says_close_before_closing(serve) -> None:
    """A body never asked for leaves the connection unusable; the head says so (RFC 9112 §9.6)."""
    server = serve(apps.app)
    response = exchange(server.port, UNANSWERED_CONTINUE)
    assert status_of(response) == 200 and b"connection: close" in response.lower()

"""The socket server over loopback, with real clients: http.client, httpx, raw sockets.

Each test starts the server in a thread on a free port (the ``serve``
fixture), with a small app declared in the test, wrapped in
``wsgiref.validate.validator`` so that the server is held to PEP 3333 too.
"""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from wsgiref.validate import validator

import httpx
import pytest
from rawwsgi import apps
from rawwsgi.protocol import Environ, StartResponse
from rawwsgi.server import WSGIServer
from stage01_helpers import closed_by_peer, connect, read_response, url, wait_finished

from workbook.testing import fetch, loopback_client

Serve = Callable[..., WSGIServer]
TEXT = [("Content-Type", "text/plain")]


def show_environ(*keys: str) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """Return an app that answers with the environ values of ``keys``, one a line."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", TEXT)
        return ["\n".join(str(environ.get(key)) for key in keys).encode("latin-1")]

    return validator(app)


def read_body(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Answer with the request body, read in pieces until wsgi.input is exhausted."""
    stream = environ["wsgi.input"]
    pieces = []
    while piece := stream.read(7):
        pieces.append(piece)
    start_response("200 OK", TEXT)
    return [b"".join(pieces)]


def stream(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    """Answer with a body of unknown length, in three pieces."""
    start_response("200 OK", TEXT)
    yield b"one "
    yield b"two "
    yield b"three"


# ── The basics ───────────────────────────────────────────────────────────────


@pytest.mark.exercise("1.4")
def test_get_is_answered_over_a_real_socket(serve: Serve, http_client: httpx.Client) -> None:
    """GET / on the server gets the app's status, headers and body."""
    server = serve(validator(apps.app))
    response = http_client.get(url(server))
    assert (response.status_code, response.text) == (200, "Hello, WSGI!")
    assert response.headers["content-length"] == "12"
    assert response.headers["server"] == "rawwsgi"
    assert "date" in response.headers


@pytest.mark.exercise("1.4")
def test_post_body_reaches_the_app(serve: Serve, http_client: httpx.Client) -> None:
    """A POST's body arrives through wsgi.input and is echoed back."""
    server = serve(validator(apps.app))
    response = http_client.post(url(server, "/echo?name=wsgi"), content=b"hello")
    assert response.content == b"method: POST\npath: /echo\nquery: name=wsgi\nbody: hello\n"


@pytest.mark.exercise("1.4")
def test_head_gets_get_headers_and_no_body(serve: Serve) -> None:
    """HEAD gets the headers GET would get, no body, and the connection stays usable."""
    server = serve(validator(apps.app))
    with connect(server) as (sock, reader):
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        head = read_response(reader, "HEAD")
        get = read_response(reader)
    assert (head.status, head.header("Content-Length"), head.body) == (200, "12", b"")
    assert get.body == b"Hello, WSGI!"


@pytest.mark.exercise("1.4")
def test_environ_from_the_wire_is_pep_3333(serve: Serve) -> None:
    """Over the wire, PATH_INFO is decoded as PEP 3333 says and HTTP_* repeats are joined."""
    server = serve(
        show_environ("PATH_INFO", "QUERY_STRING", "HTTP_X_TAG", "SERVER_PROTOCOL", "REMOTE_ADDR")
    )
    with connect(server) as (sock, reader):
        sock.sendall(b"GET /caf%C3%A9?q=%20 HTTP/1.1\r\nHost: a\r\nX-Tag: a\r\nX-Tag: b\r\n\r\n")
        response = read_response(reader)
    assert response.body.decode("latin-1").split("\n") == [
        "/cafÃ©",
        "q=%20",
        "a, b",
        "HTTP/1.1",
        "127.0.0.1",
    ]


# ── Connections ──────────────────────────────────────────────────────────────


@pytest.mark.exercise("1.4")
def test_keep_alive_serves_several_requests_on_one_connection(serve: Serve) -> None:
    """HTTP/1.1 connections stay open: three requests, one client port."""
    server = serve(show_environ("REMOTE_PORT"))
    connection = http.client.HTTPConnection(*server.server_address, timeout=5)
    try:
        ports = []
        for _ in range(3):
            connection.request("GET", "/")
            ports.append(connection.getresponse().read())
    finally:
        connection.close()
    assert len(set(ports)) == 1


@pytest.mark.exercise("1.4")
def test_pipelined_requests_are_answered_in_order(serve: Serve) -> None:
    """Requests sent back to back in one packet get their responses in order."""
    server = serve(validator(apps.app))
    with connect(server) as (sock, reader):
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        responses = [read_response(reader) for _ in range(3)]
        assert closed_by_peer(sock, reader)
    assert [response.status for response in responses] == [200, 404, 200]
    assert responses[0].body.endswith(b"body: abc\n")


@pytest.mark.exercise("1.4")
def test_keep_alive_survives_an_unread_body(serve: Serve) -> None:
    """A small body the app never read is drained, so the next request still parses."""
    server = serve(validator(apps.hello))
    with connect(server) as (sock, reader):
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nxxxxx"
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        first, second = read_response(reader), read_response(reader)
    assert (first.status, second.status, second.body) == (200, 200, b"Hello, WSGI!")


@pytest.mark.exercise("1.4")
def test_http_1_0_connection_closes_after_the_response(serve: Serve) -> None:
    """An HTTP/1.0 request without keep-alive gets its response and then EOF."""
    server = serve(validator(apps.app))
    with connect(server) as (sock, reader):
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        response = read_response(reader)
        assert closed_by_peer(sock, reader)
    assert (response.status, response.body) == (200, b"Hello, WSGI!")


@pytest.mark.exercise("1.4")
def test_unknown_length_is_chunked_for_http_1_1(serve: Serve) -> None:
    """A streamed body of unknown length goes out chunked, and http.client reassembles it."""
    server = serve(validator(stream))
    connection = http.client.HTTPConnection(*server.server_address, timeout=5)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        assert (response.getheader("Transfer-Encoding"), response.read()) == (
            "chunked",
            b"one two three",
        )
    finally:
        connection.close()


@pytest.mark.exercise("1.4")
def test_unknown_length_is_close_delimited_for_http_1_0(serve: Serve) -> None:
    """HTTP/1.0 knows no chunks: the body is sent raw and the connection closes."""
    server = serve(validator(stream))
    with connect(server) as (sock, reader):
        sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        response = read_response(reader)
    assert (response.header("Transfer-Encoding"), response.header("Connection"), response.body) == (
        None,
        "close",
        b"one two three",
    )


# ── Request bodies ───────────────────────────────────────────────────────────


def test_chunked_request_body_is_de_chunked(serve: Serve) -> None:
    """A chunked request body (http.client encode_chunked) reaches the app whole."""
    server = serve(validator(read_body))
    connection = http.client.HTTPConnection(*server.server_address, timeout=5)
    try:
        connection.request(
            "POST",
            "/",
            body=iter([b"hello ", b"chunked ", b"world"]),
            headers={"Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        assert connection.getresponse().read() == b"hello chunked world"
    finally:
        connection.close()


def test_100_continue_is_sent_when_the_app_reads_the_body(serve: Serve) -> None:
    """With Expect: 100-continue, the client gets 100 Continue, sends its body, gets the answer."""
    server = serve(validator(read_body))
    with connect(server) as (sock, reader):
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = read_response(reader)
        sock.sendall(b"body")
        final = read_response(reader)
    assert (interim.status, interim.reason) == (100, "Continue")
    assert (final.status, final.body) == (200, b"body")


def test_100_continue_is_not_sent_when_the_app_ignores_the_body(serve: Serve) -> None:
    """An app that answers without reading: no 100, the final answer, and the connection closes."""
    server = serve(validator(apps.hello))
    with connect(server) as (sock, reader):
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        response = read_response(reader)
        assert closed_by_peer(sock, reader)
    assert (response.status, response.header("Connection")) == (405, "close")


def test_20_clients_are_served_at_once(serve: Serve) -> None:
    """20 clients are served concurrently: every one is in the app at the same moment."""
    clients = 20
    barrier = threading.Barrier(clients, timeout=10)

    def meet(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        barrier.wait()  # would time out if the server ran requests one at a time
        start_response("200 OK", TEXT)
        return [b"met"]

    server = serve(validator(meet))
    results: list[bytes | str] = []
    # One client, shared by the threads (httpx.Client is thread-safe), opens a connection
    # per request in flight; twenty clients would each build an SSL context first.
    limits = httpx.Limits(max_connections=clients)
    with loopback_client(timeout=15, limits=limits) as http:

        def client() -> None:
            try:
                results.append(http.get(url(server)).content)
            except httpx.HTTPError as error:
                results.append(repr(error))

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    assert results == [b"met"] * clients


# ── Apps that misbehave ──────────────────────────────────────────────────────


def test_app_exception_is_a_plain_500_and_logged(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """An app that raises before its headers gets a generic 500; the traceback goes to the log."""

    def broken(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("secret detail")

    server = serve(broken)
    with caplog.at_level(logging.ERROR, logger="rawwsgi.server"):
        response = fetch("GET", url(server))
        assert (response.status_code, response.text) == (500, "Internal Server Error")
        assert "secret detail" not in response.text
        wait_finished(server)  # the server logs before it ends the connection
        assert any(
            record.exc_info and "secret detail" in str(record.exc_info[1])
            for record in caplog.records
        ), "the logged traceback"
    assert fetch("GET", url(server)).status_code == 500  # and the server still answers


def test_app_exception_mid_body_cuts_the_response_off(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """An app that fails after its head went out: the response is cut off (no last chunk)."""

    def half(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", TEXT)
        yield b"half"
        raise RuntimeError("failed half-way")

    server = serve(half)
    with caplog.at_level(logging.ERROR, logger="rawwsgi.server"), connect(server) as (sock, reader):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        with pytest.raises((ValueError, ConnectionError)):
            read_response(reader)  # the chunked body ends without its last chunk


def test_result_close_is_always_called(serve: Serve) -> None:
    """The server calls the iterable's close(), after success and after failure alike."""
    closed: list[str] = []

    class Body:
        def __init__(self, fail: bool) -> None:
            self.fail = fail

        def __iter__(self) -> Iterator[bytes]:
            yield b"x"
            if self.fail:
                raise RuntimeError("failed")

        def close(self) -> None:
            closed.append("failed" if self.fail else "ok")

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", TEXT)
        return Body(environ["PATH_INFO"] == "/fail")

    server = serve(app)
    fetch("GET", url(server, "/ok"))
    wait_finished(server)  # close() comes after the last byte: the connection ends after it
    assert closed == ["ok"], "close() after the last byte of /ok"
    with pytest.raises(httpx.HTTPError):
        fetch("GET", url(server, "/fail"))
    wait_finished(server)
    assert closed == ["ok", "failed"], "close() after /fail broke off"


def test_legacy_write_sends_body_bytes(serve: Serve) -> None:
    """The write() callable from start_response sends bytes, then the iterable's follow."""

    def writer(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", TEXT)
        write(b"written, ")
        return [b"returned"]

    server = serve(validator(writer))
    assert fetch("GET", url(server)).content == b"written, returned"


def test_server_rejects_a_non_callable_app() -> None:
    """WSGIServer refuses an app that is not callable, before binding anything."""
    with pytest.raises(TypeError):
        WSGIServer("not an app", "127.0.0.1", 0)  # type: ignore[arg-type]


def test_server_address_reports_the_bound_port(serve: Serve) -> None:
    """With port 0 the kernel picks a port, and server_address tells which."""
    server = serve(validator(apps.app))
    host, port = server.server_address
    assert host == "127.0.0.1" and port > 0

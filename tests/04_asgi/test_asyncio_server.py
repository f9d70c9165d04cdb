"""The hand-written ASGI server, in a thread, over real sockets: framing, protocol, lifespan.

Each test declares the tiny app it needs and serves it with the ``serve``
fixture (an ``ASGIServer`` on a free loopback port). Framing is checked on
the raw bytes, since a polite client like httpx would hide it.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import socket
import threading
import time

import pytest
from rawasgi import apps
from rawasgi.lifespan import LifespanFailure
from rawasgi.protocol import Message, Receive, Scope, Send
from rawasgi.responses import send_text
from rawasgi.server import ASGIServer
from stage04_helpers import exchange, read_until_closed, split_responses, status_of

from workbook.testing import LOOPBACK, fetch, loopback_client, wait_for_app, wait_until


def responder(*messages: Message):
    """Return an app that sends exactly ``messages`` (after reading the request body)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await receive()
        for message in messages:
            await send(message)

    return app


START_200 = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}


def body(data: bytes, more: bool = False) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


def get(
    port: int,
    path: str = "/",
    version: str = "1.1",
    method: str = "GET",
    extra: str = "Connection: close\r\n",
) -> bytes:
    """Send one request by hand and return every byte of the answer."""
    return exchange(port, f"{method} {path} HTTP/{version}\r\nHost: test\r\n{extra}\r\n".encode())


# ── Response framing (exercise 4.3) ──────────────────────────────────────────


@pytest.mark.exercise("4.3")
def test_a_body_sent_in_one_event_gets_a_content_length(serve) -> None:
    """A response whose only body event is the last one is framed with Content-Length."""
    server = serve(responder(START_200, body(b"hello")))
    head, _, data = get(server.port).partition(b"\r\n\r\n")
    assert b"\r\ncontent-length: 5" in head.lower()
    assert b"transfer-encoding" not in head.lower()
    assert data == b"hello"


@pytest.mark.exercise("4.3")
def test_a_streamed_body_is_chunked(serve) -> None:
    """Body events with more_body=True become chunks, ended by the zero-size last chunk."""
    server = serve(
        responder(
            START_200,
            body(b"hello", True),
            body(b""),
        )
    )
    head, _, data = get(server.port).partition(b"\r\n\r\n")
    assert b"\r\ntransfer-encoding: chunked" in head.lower()
    assert data == b"5\r\nhello\r\n0\r\n\r\n"


@pytest.mark.exercise("4.3")
def test_a_streamed_body_reaches_httpx_whole(serve) -> None:
    """A client decoding the chunks gets the body the app streamed, piece after piece."""
    server = serve(apps.app)
    response = fetch("GET", f"{server.url}/stream?count=3&delay=0")
    assert response.text == "line 1 of 3\nline 2 of 3\nline 3 of 3\n"


@pytest.mark.exercise("4.3")
def test_the_apps_own_content_length_is_kept_when_streaming(serve) -> None:
    """An app that declares Content-Length streams its body without chunked framing."""
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"6")]}
    server = serve(responder(start, body(b"abc", True), body(b"def")))
    head, _, data = get(server.port).partition(b"\r\n\r\n")
    assert (head.lower().count(b"content-length"), b"chunked" in head, data) == (
        1,
        False,
        b"abcdef",
    )


@pytest.mark.exercise("4.3")
def test_http_1_0_streams_until_close(serve) -> None:
    """HTTP/1.0 has no chunks: a streamed body is sent as is and ends when the connection closes."""
    server = serve(responder(START_200, body(b"hello ", True), body(b"world")))
    response = get(server.port, version="1.0", extra="")
    head, _, data = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200")
    assert (b"chunked" in head, b"connection: close" in head.lower(), data) == (
        False,
        True,
        b"hello world",
    )


@pytest.mark.exercise("4.3")
def test_head_gets_the_headers_but_no_body(serve) -> None:
    """A HEAD response has the GET's Content-Length and no body; the next request still works."""
    server = serve(apps.app)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(
            b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        data = read_until_closed(sock)
    assert data.count(b"HTTP/1.1 200") == 2
    first, _, rest = data.partition(b"\r\n\r\n")
    assert b"content-length: 13" in first and rest.startswith(b"HTTP/1.1 200")


@pytest.mark.exercise("4.3")
@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_send_no_body(serve, status: int) -> None:
    """204 and 304 responses carry no body and no framing headers, whatever the app sends."""
    server = serve(
        responder(
            {"type": "http.response.start", "status": status, "headers": []}, body(b"ignored")
        )
    )
    response = get(server.port)
    assert status_of(response) == status
    assert response.endswith(b"\r\n\r\n") and b"content-length" not in response.lower()


@pytest.mark.exercise("4.3")
def test_keep_alive_serves_pipelined_requests_in_order(serve) -> None:
    """Three pipelined requests on one connection get three responses, in order."""
    server = serve(apps.app)
    requests = (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\none"
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree"
    )
    responses = split_responses(exchange(server.port, requests))
    assert [(status, data) for status, _, data in responses] == [
        (200, b"one"),
        (200, b"two"),
        (200, b"three"),
    ]


@pytest.mark.exercise("4.3")
def test_body_before_start_is_a_500_and_logged(serve, caplog: pytest.LogCaptureFixture) -> None:
    """An app that sends a body before the start gets a clear error logged; the client a 500."""
    server = serve(responder(body(b"too soon")))
    assert status_of(get(server.port)) == 500
    server.wait_finished()  # then the log holds all it ever will
    assert "expected 'http.response.start', got 'http.response.body'" in caplog.text


@pytest.mark.exercise("4.3")
def test_send_after_completion_is_logged(serve, caplog: pytest.LogCaptureFixture) -> None:
    """A body event after the response is complete: a logged protocol error; the response stands."""
    server = serve(responder(START_200, body(b"done"), body(b"extra")))
    response = get(server.port)
    assert (status_of(response), response.endswith(b"\r\n\r\ndone")) == (200, True)
    server.wait_finished()  # then the log holds all it ever will
    assert "after the response was complete" in caplog.text


@pytest.mark.exercise("4.3")
def test_two_starts_are_a_500(serve, caplog: pytest.LogCaptureFixture) -> None:
    """A second http.response.start is refused before anything was written: 500."""
    server = serve(responder(START_200, START_200))
    assert status_of(get(server.port)) == 500
    server.wait_finished()  # then the log holds all it ever will
    assert "expected 'http.response.body', got 'http.response.start'" in caplog.text


def test_app_that_returns_without_responding_is_a_500(
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    """An app that returns without a response gets a logged error; the client a 500."""
    server = serve(responder())
    assert status_of(get(server.port)) == 500
    server.wait_finished()  # then the log holds all it ever will
    assert "returned without sending the response" in caplog.text


@pytest.mark.exercise("4.3")
def test_start_alone_is_a_500(serve, caplog: pytest.LogCaptureFixture) -> None:
    """A start event with no body event is not a response yet: it is held; the client gets a 500."""
    server = serve(responder(START_200))
    assert status_of(get(server.port)) == 500
    server.wait_finished()  # then the log holds all it ever will
    assert "returned without sending the response" in caplog.text


@pytest.mark.exercise("4.3")
def test_header_with_crlf_is_refused(serve, caplog: pytest.LogCaptureFixture) -> None:
    """A header value with CR/LF (response splitting) is a protocol error: 500, no forged header."""
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"x-evil", b"a\r\nSet-Cookie: x=1")],
    }
    server = serve(responder(start, body(b"")))
    response = get(server.port)
    assert (status_of(response), b"Set-Cookie" in response) == (500, False)
    server.wait_finished()  # then the log holds all it ever will
    assert "invalid character in the value of header x-evil" in caplog.text


@pytest.mark.exercise("4.3")
def test_transfer_encoding_from_the_app_is_ignored(serve) -> None:
    """The server frames bodies itself: an app's Transfer-Encoding header is dropped."""
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"transfer-encoding", b"gzip")],
    }
    server = serve(responder(start, body(b"plain")))
    head, _, data = get(server.port).partition(b"\r\n\r\n")
    assert (b"gzip" in head, data) == (False, b"plain")


@pytest.mark.exercise("4.3")
def test_a_body_shorter_than_its_content_length_closes_the_connection(serve, caplog) -> None:
    """A body that does not match the app's Content-Length is logged, and the connection closed."""
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]}
    server = serve(responder(start, body(b"short")))
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        read_until_closed(sock)  # raises TimeoutError if the server kept the connection
    server.wait_finished()  # then the log holds all it ever will
    assert "declaring Content-Length: 10" in caplog.text


# ── The request side: scope, body, disconnect, 100-continue ─────────────────


async def show_scope(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the scope's plain keys as JSON."""
    if scope["type"] != "http":
        return
    shown = {key: scope[key] for key in ("http_version", "method", "scheme", "path", "root_path")}
    shown.update(
        raw_path=scope["raw_path"].decode(),
        query_string=scope["query_string"].decode(),
        client=list(scope["client"]),
        server=list(scope["server"]),
        headers=[[n.decode(), v.decode()] for n, v in scope["headers"]],
    )
    await send_text(send, 200, json.dumps(shown))


def test_scope_over_the_wire(serve) -> None:
    """A real request gives the full scope: decoded path, raw bytes, client and server addresses."""
    server = serve(show_scope, root_path="/mount")
    with loopback_client() as client:
        response = client.get(f"{server.url}/mount/caf%C3%A9?x=%20", headers={"X-Test": "1"})
        scope = response.json()
    assert (scope["path"], scope["raw_path"], scope["query_string"]) == (
        "/mount/café",
        "/mount/caf%C3%A9",
        "x=%20",
    )
    assert (scope["http_version"], scope["method"], scope["scheme"], scope["root_path"]) == (
        "1.1",
        "GET",
        "http",
        "/mount",
    )
    assert scope["server"] == [LOOPBACK, server.port] and scope["client"][0] == LOOPBACK
    assert ["x-test", "1"] in scope["headers"]


def test_response_has_a_date_header(serve) -> None:
    """Every response carries a Date header (RFC 9110 §6.6.1)."""
    server = serve(apps.app)
    assert fetch("GET", server.url).headers["date"].endswith(" GMT")


def test_large_chunked_upload_is_streamed_in_pieces(serve) -> None:
    """A big chunked body reaches the app as several http.request events and comes back whole."""
    pieces = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        data = b""
        while True:
            message = await receive()
            pieces.append(len(message["body"]))
            data += message["body"]
            if not message.get("more_body"):
                break
        await send_text(send, 200, str(len(data)))

    server = serve(app)
    payload = b"x" * 1_000_000

    def chunks():
        for start in range(0, len(payload), 100_000):
            yield payload[start : start + 100_000]

    assert fetch("POST", server.url, content=chunks()).text == "1000000"
    assert len(pieces) > 1


def test_expect_100_continue_gets_a_continue_first(serve) -> None:
    """A client sending Expect: 100-continue gets "100 Continue" when the app reads the body."""
    server = serve(apps.app)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n"
        )
        first = sock.recv(100)
        sock.sendall(b"ok")
        rest = read_until_closed(sock)
    assert first == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert status_of(rest) == 200 and rest.endswith(b"\r\n\r\nok")


def test_disconnect_is_delivered_to_a_waiting_app(serve) -> None:
    """An app waiting on receive() after the body gets http.disconnect when the client leaves."""
    received: list[str] = []
    waiting, done = threading.Event(), threading.Event()

    async def long_poll(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await receive()  # the (empty) body
        waiting.set()
        received.append((await receive())["type"])
        done.set()

    server = serve(long_poll)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        wait_for_app(sock, waiting.is_set, what="the app to wait on receive()")  # then leave
    server.wait_finished()  # the app ends with its connection
    assert done.is_set()
    assert received == ["http.disconnect"]


def test_disconnect_mid_body_is_delivered(serve) -> None:
    """A client that leaves in the middle of its body makes receive() return http.disconnect."""
    events: list[Message] = []
    done = threading.Event()

    async def reader(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while True:
            events.append(await receive())
            if events[-1]["type"] == "http.disconnect":
                done.set()
                return

    server = serve(reader)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nhalf")
        wait_for_app(sock, lambda: events, what="the app to receive the first half")  # leave
    server.wait_finished()  # the app ends with its connection
    assert done.is_set()
    assert [e["type"] for e in events][-1] == "http.disconnect"
    assert b"".join(e.get("body", b"") for e in events) == b"half"


def test_send_to_a_gone_client_raises_oserror(serve, caplog: pytest.LogCaptureFixture) -> None:
    """send() after the client left raises OSError (spec 2.4); the server logs no error for it."""
    raised: list[BaseException] = []
    done = threading.Event()

    async def streamer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            for _ in range(500):
                await send({"type": "http.response.body", "body": b"x" * 1000, "more_body": True})
                await asyncio.sleep(0.01)
        except OSError as error:
            raised.append(error)
            raise
        finally:
            done.set()

    server = serve(streamer)
    with socket.create_connection((LOOPBACK, server.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.recv(100)
    server.wait_finished()  # the server's handling of the error ends before this returns
    assert done.is_set()
    assert len(raised) == 1 and isinstance(raised[0], OSError)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_max_body_refuses_a_declared_length_with_413(serve) -> None:
    """A Content-Length over max_body is refused with 413 before the app runs."""
    server = serve(apps.app, max_body=10)
    response = exchange(
        server.port, b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n12345678901"
    )
    assert status_of(response) == 413


def test_max_body_stops_a_chunked_body_with_413(serve) -> None:
    """A chunked body that grows past max_body is cut off with 413."""
    server = serve(apps.app, max_body=10)
    response = exchange(
        server.port,
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"6\r\n123456\r\n6\r\n123456\r\n0\r\n\r\n",
    )
    assert status_of(response) == 413


def test_app_exception_is_a_plain_500_and_logged(serve, caplog: pytest.LogCaptureFixture) -> None:
    """A handler's exception is a 500 with a generic message; the traceback goes to the log only."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raise KeyError("secret detail")

    server = serve(broken)
    response = get(server.port)
    assert (status_of(response), b"secret" in response) == (500, False)
    server.wait_finished()  # then the log holds all it ever will
    assert "KeyError: 'secret detail'" in caplog.text


# ── Lifespan ─────────────────────────────────────────────────────────────────


def lifespan_app(log: list[str], *, fail: str | None = None):
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                log.append(message["type"])
                if message["type"] == "lifespan.startup":
                    if fail is not None:
                        await send({"type": "lifespan.startup.failed", "message": fail})
                        return
                    scope["state"]["greeting"] = "hi from startup"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif scope["type"] == "http":
            await send_text(send, 200, scope["state"]["greeting"])

    return app


def test_lifespan_runs_startup_first_and_shares_state(serve) -> None:
    """Startup runs before the first request, and what it stores in state reaches every request."""
    log: list[str] = []
    server = serve(lifespan_app(log))
    assert log == ["lifespan.startup"]
    assert fetch("GET", server.url).text == "hi from startup"


def test_lifespan_shutdown_runs_when_the_server_stops(serve) -> None:
    """Stopping the server sends lifespan.shutdown and waits for its answer."""
    log: list[str] = []
    serve(lifespan_app(log)).stop()
    assert log == ["lifespan.startup", "lifespan.shutdown"]


def test_startup_failure_stops_the_server_with_the_apps_message(serve) -> None:
    """lifespan.startup.failed stops the server from starting, with the app's message."""
    with pytest.raises(LifespanFailure, match="database is down"):
        serve(lifespan_app([], fail="database is down"))


def test_app_without_lifespan_is_tolerated(serve) -> None:
    """An app that raises on the lifespan scope still gets served (lifespan="auto")."""

    async def http_only(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError("http only")
        await send_text(send, 200, "fine")

    assert fetch("GET", serve(http_only).url).text == "fine"


def test_lifespan_on_requires_support(serve) -> None:
    """With lifespan="on", an app that does not support lifespan stops the server from starting."""

    async def http_only(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("http only")

    with pytest.raises(LifespanFailure):
        serve(http_only, lifespan="on")


def test_lifespan_off_never_calls_the_app(serve) -> None:
    """With lifespan="off" the app never sees a lifespan scope."""
    log: list[str] = []
    serve(lifespan_app(log), lifespan="off").stop()
    assert log == []


def test_stop_lets_a_request_in_flight_finish(serve) -> None:
    """A graceful stop waits for the response in progress, which still arrives whole."""
    started = threading.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started.set()
        await asyncio.sleep(0.5)
        await send_text(send, 200, "finished")

    server = serve(slow)
    results: list[str] = []
    client = threading.Thread(
        target=lambda: results.append(fetch("GET", server.url, timeout=5).text)
    )
    client.start()
    # A server that answers before the app starts ends the client's thread: that fails at once.
    wait_until(lambda: started.is_set() or not client.is_alive(), what="the app to start")
    assert started.is_set(), f"the server answered before the app started: {results}"
    server.stop()
    client.join(5)
    assert results == ["finished"]


def test_stop_closes_idle_keep_alive_connections(serve) -> None:
    """Idle keep-alive connections are closed at once when the server stops."""
    server = serve(apps.app, timeout=30, shutdown_timeout=30)
    connection = http.client.HTTPConnection(LOOPBACK, server.port, timeout=5)
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"Hello, ASGI!\n"
    began = time.monotonic()
    server.stop()  # would wait out shutdown_timeout (30 s) if the idle connection were kept
    connection.close()
    assert time.monotonic() - began < 10


def test_bad_configuration_is_refused() -> None:
    """Bad server options are a ValueError or TypeError when the server is made."""
    for options in ({"lifespan": "sometimes"}, {"timeout": 0}, {"port": 70000}, {"max_body": -1}):
        with pytest.raises(ValueError):
            ASGIServer(apps.app, **options)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ASGIServer("not an app")  # type: ignore[arg-type]


def test_apps_own_server_and_date_headers_replace_the_defaults(serve) -> None:
    """An app that sets Server or Date gets its own header, not a second one from the server."""
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"server", b"mine"), (b"date", b"Thu, 01 Jan 1970 00:00:00 GMT")],
    }
    server = serve(responder(start, body(b"")))
    head = get(server.port).partition(b"\r\n\r\n")[0].lower()
    assert (head.count(b"\r\nserver:"), head.count(b"\r\ndate:")) == (1, 1)
    assert b"server: mine" in head


def test_server_logs_one_access_line_per_request(serve, caplog: pytest.LogCaptureFixture) -> None:
    """At INFO level the server logs client, request line and status for each request."""
    caplog.set_level(logging.INFO, logger="rawasgi.server.access")
    server = serve(apps.app)
    fetch("GET", f"{server.url}/nowhere?x=1")
    server.wait_finished()  # then the log holds all it ever will
    assert '"GET /nowhere?x=1 HTTP/1.1" 404' in caplog.text

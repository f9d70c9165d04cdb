"""The same apps, the same tests, three servers: rawasgi.server, uvicorn and hypercorn.

Each server runs in a child process on a free port, started from the stage
folder under test, so these tests check the apps against the ASGI spec as
three independent implementations read it, and check the hand-written
server against the two others.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from stage04_helpers import exchange, read_response, status_of
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from workbook.testing import ASGI_SERVERS, early_response, fetch, served

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module", params=ASGI_SERVERS)
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve rawasgi.apps:app with each server in turn."""
    with served("04_asgi", request.param, "rawasgi.apps:app") as url:
        yield url


@pytest.fixture(scope="module", params=ASGI_SERVERS)
def example_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve rawasgi.example:app (router + middleware) with each server in turn."""
    with served("04_asgi", request.param, "rawasgi.example:app") as url:
        yield url


def ws(url: str) -> str:
    return url.replace("http://", "ws://", 1)


# ── The raw apps ─────────────────────────────────────────────────────────────


def test_get_root_is_the_greeting_on_every_server(base_url: str, http_client: httpx.Client) -> None:
    """GET / is a 200 greeting, on every server."""
    response = http_client.get(f"{base_url}/")
    assert (response.status_code, response.text) == (200, "Hello, ASGI!\n")


def test_post_echo_sends_the_body_back_with_its_content_type(
    base_url: str, http_client: httpx.Client
) -> None:
    """POST /echo sends the body back with its content type."""
    response = http_client.post(
        f"{base_url}/echo", content=b"hello", headers={"Content-Type": "text/x-test"}
    )
    assert (response.status_code, response.text, response.headers["content-type"]) == (
        200,
        "hello",
        "text/x-test",
    )


def test_echo_of_a_chunked_upload(base_url: str) -> None:
    """A chunked upload of 300 kB is read through more_body events and echoed whole."""
    payload = bytes(range(256)) * 1200

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(payload), 50_000):
            yield payload[start : start + 50_000]

    assert fetch("POST", f"{base_url}/echo", content=pieces()).content == payload


def test_stream_is_chunked(base_url: str, http_client: httpx.Client) -> None:
    """/stream arrives with Transfer-Encoding: chunked and every line."""
    response = http_client.get(f"{base_url}/stream?count=4&delay=0")
    assert response.headers.get("transfer-encoding") == "chunked"
    assert response.text.splitlines() == [f"line {n} of 4" for n in range(1, 5)]


def test_head_has_no_body(base_url: str) -> None:
    """HEAD / has the GET's Content-Length and no body."""
    response = fetch("HEAD", f"{base_url}/")
    assert (response.status_code, response.headers["content-length"], response.content) == (
        200,
        "13",
        b"",
    )


def test_unknown_path_is_404(base_url: str) -> None:
    """A path no app serves is 404."""
    assert fetch("GET", f"{base_url}/nowhere").status_code == 404


def test_lifespan_state_reaches_requests(base_url: str) -> None:
    """The lifespan startup ran and its state reaches requests, on every server."""
    assert fetch("GET", f"{base_url}/lifespan").text.startswith(
        "Started by the lifespan protocol at "
    )


def test_keep_alive_serves_two_requests_on_one_connection(base_url: str) -> None:
    """Two requests, one after the other, on one TCP connection."""
    port = int(base_url.rsplit(":", 1)[1])
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for body in (b"one", b"two"):
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n" + body)
            answers.append(read_response(sock))
    assert [(status, data) for status, _, data in answers] == [(200, b"one"), (200, b"two")]


def test_websocket_echo_returns_text_bytes_and_a_fragmented_message(base_url: str) -> None:
    """The WebSocket echo returns text, bytes and a fragmented message."""
    with connect(f"{ws(base_url)}/ws", open_timeout=5) as websocket:
        websocket.send("héllo")
        websocket.send(b"\x00\xff")
        websocket.send(["frag", "ment"])
        assert [websocket.recv(timeout=5) for _ in range(3)] == ["héllo", b"\x00\xff", "fragment"]


def test_websocket_echo_subprotocol_is_negotiated(base_url: str) -> None:
    """The "echo" subprotocol is negotiated."""
    with connect(f"{ws(base_url)}/ws", subprotocols=["echo"], open_timeout=5) as websocket:
        assert websocket.subprotocol == "echo"


def test_websocket_refused_is_403(base_url: str) -> None:
    """A WebSocket the app closes before accepting is refused with 403."""
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(f"{ws(base_url)}/nowhere", open_timeout=5),
    ):
        pass
    assert refused.value.response.status_code == 403


# ── The example: router and middleware ──────────────────────────────────────


def test_example_path_parameters_are_matched_and_converted(example_url: str) -> None:
    """Path parameters are matched and converted."""
    assert fetch("GET", f"{example_url}/hello/ada").text == "Hello, ada!\n"
    assert fetch("GET", f"{example_url}/add/2/40").json() == {"a": 2, "b": 40, "sum": 42}


def test_example_405_has_allow(example_url: str, http_client: httpx.Client) -> None:
    """A wrong method is 405 with Allow."""
    response = http_client.delete(f"{example_url}/hello/ada")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD, OPTIONS")


def test_example_head_reaches_the_get_route_without_a_body(example_url: str, sent) -> None:
    """HEAD on a GET route: the GET's status and Content-Length, no body bytes, on every server."""
    sent("HEAD", f"{example_url}/hello/ada")
    port = int(example_url.rsplit(":", 1)[1])
    # A raw socket, because an HTTP client never reads a body after HEAD: it would not notice one.
    data = exchange(port, b"HEAD /hello/ada HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    head, _, rest = data.partition(b"\r\n\r\n")
    assert (status_of(data), b"\r\ncontent-length: 12" in head.lower(), rest) == (200, True, b"")


def test_example_options_lists_the_methods(example_url: str, http_client: httpx.Client) -> None:
    """OPTIONS on a routed path is 200 with Allow, on every server."""
    response = http_client.options(f"{example_url}/add/2/40")
    assert (response.status_code, response.headers["allow"]) == (200, "GET, HEAD, OPTIONS")


def test_example_error_is_a_plain_500(example_url: str) -> None:
    """A handler's exception is a plain 500 from ServerErrors."""
    response = fetch("GET", f"{example_url}/boom")
    assert (response.status_code, response.text) == (500, "Internal Server Error\n")


def test_example_body_over_64_kib_is_413_even_when_chunked(example_url: str) -> None:
    """A chunked body past the example's 64 KiB limit is 413, and the server keeps serving.

    One chunk of 64 KiB + 1 is sent and nothing after it (no chunk end, no
    last chunk): the limit is passed only once the server has read all of
    it, so no request byte is left unread when it answers and closes (see
    ``early_response``).
    """
    size = 64 * 1024 + 1
    status, _ = early_response(
        f"{example_url}/echo",
        "POST",
        [("Transfer-Encoding", "chunked")],
        b"%x\r\n" % size + b"x" * size,
    )
    assert status == 413
    assert fetch("GET", f"{example_url}/").status_code == 200


def test_example_websocket_route_gets_its_path_parameter(example_url: str) -> None:
    """A WebSocket route with a path parameter."""
    with connect(f"{ws(example_url)}/rooms/lobby", open_timeout=5) as websocket:
        websocket.send("hi")
        assert websocket.recv(timeout=5) == "[lobby] hi"

"""The example app on real servers: uvicorn and hypercorn, over loopback sockets.

Each server runs in a child process (the stage under test first on its
path), and is talked to with httpx and the ``websockets`` client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from workbook.testing import (
    early_response,
    fetch,
    free_port,
    python_command,
    served,
    server_argv,
    serving,
)

SERVERS = ("hypercorn", "uvicorn")  # bare runs on the ASGI servers others wrote


@pytest.fixture(scope="module", params=SERVERS)
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve example_app under each server; yield its http://127.0.0.1:PORT."""
    with served("05_bare", request.param, "example_app:app") as url:
        yield url


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


# ── HTTP: the chapter's curl commands and the fixes, on the wire ──────────────


def test_curl_index_gives_the_html_page(base: str, http_client: httpx.Client) -> None:
    """`curl http://localhost:8000/` gives the HTML page."""
    response = http_client.get(f"{base}/")
    assert (response.status_code, response.text) == (
        200,
        "<h1>Bare Framework</h1><p>It's just callables.</p>",
    )


def test_curl_create_task_then_fetch_it(base: str, http_client: httpx.Client) -> None:
    """The chapter's POST /tasks is 201; the new task is then at /tasks/{id}."""
    body = '{"title": "Built with bare"}'
    created = http_client.post(
        f"{base}/tasks", content=body, headers={"Content-Type": "application/json"}
    )
    assert (created.status_code, created.json()["title"]) == (201, "Built with bare")
    fetched = http_client.get(f"{base}/tasks/{created.json()['id']}")
    assert fetched.json() == created.json()


def test_invalid_json_is_400_on_the_wire(base: str, http_client: httpx.Client) -> None:
    """A POST of "{bad" is 400 with a message, over a real server."""
    response = http_client.post(
        f"{base}/tasks", content=b"{bad", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("request body is not valid JSON")


def test_head_has_length_and_no_body_on_the_wire(base: str, http_client: httpx.Client) -> None:
    """HEAD / is 200 with the GET Content-Length and no body bytes."""
    response = http_client.head(f"{base}/")
    assert (response.status_code, response.headers["content-length"], response.content) == (
        200,
        "50",
        b"",
    )


def test_wrong_method_is_405_with_allow_on_the_wire(base: str, http_client: httpx.Client) -> None:
    """PUT /tasks is 405 with Allow."""
    response = http_client.put(f"{base}/tasks")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD, OPTIONS, POST")


def test_oversized_body_is_413_on_the_wire(base: str, http_client: httpx.Client) -> None:
    """A body declared over 1 MiB is refused with 413 before it is sent; the server keeps serving.

    The 2 MiB body is declared, not sent: bare answers from Content-Length,
    and a server that closed with the body unread in its socket would send
    RST, which can destroy the 413 in flight (see ``early_response``).
    """
    status, body = early_response(
        f"{base}/tasks",
        "POST",
        [("Content-Type", "application/json"), ("Content-Length", str(2 * 1024 * 1024))],
    )
    assert (status, b"larger than the limit" in body) == (413, True)
    assert http_client.get(f"{base}/").status_code == 200


# ── WebSocket ─────────────────────────────────────────────────────────────────


@pytest.mark.exercise("5.5")
def test_websocket_welcome_and_json_echo(base: str, sent: Any) -> None:
    """/ws sends the welcome text, then a JSON echo of each message."""
    sent("GET", ws_url(base, "/ws"))
    with connect(ws_url(base, "/ws"), open_timeout=5) as websocket:
        assert websocket.recv(timeout=5) == "Welcome! Type messages to see them echoed."
        websocket.send("hello")
        assert json.loads(websocket.recv(timeout=5)) == {
            "type": "echo",
            "original": "hello",
            "upper": "HELLO",
        }


@pytest.mark.exercise("5.5")
def test_websocket_disconnect_leaves_the_server_serving(base: str) -> None:
    """A client that disconnects mid-conversation does not disturb the next ones."""
    for _ in range(2):
        with connect(ws_url(base, "/ws"), open_timeout=5) as websocket:
            websocket.recv(timeout=5)
            websocket.send("bye")
    with connect(ws_url(base, "/ws"), open_timeout=5) as websocket:
        assert websocket.recv(timeout=5).startswith("Welcome")
    assert fetch("GET", f"{base}/tasks").status_code == 200


@pytest.mark.exercise("5.5")
def test_websocket_unknown_route_is_closed_with_4004(base: str, sent: Any) -> None:
    """A WebSocket to a path without a route is closed with code 4004."""
    sent("GET", ws_url(base, "/nowhere"))
    with connect(ws_url(base, "/nowhere"), open_timeout=5) as websocket:
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4004


@pytest.mark.exercise("5.5")
def test_websocket_binary_message_to_text_echo_is_closed_with_1003(base: str) -> None:
    """The echo expects text: a binary message closes with 1003 (unsupported data)."""
    with connect(ws_url(base, "/ws"), open_timeout=5) as websocket:
        websocket.recv(timeout=5)
        websocket.send(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003


# ── python example_app.py ─────────────────────────────────────────────────────

# Runs example_app.py as __main__, exactly as `python example_app.py` does, but
# with run()'s default port moved off 8000 so that the test never takes it.
RUN_AS_SCRIPT = (
    "import runpy, sys, bare; "
    "bare.Bare.run.__defaults__ = ('127.0.0.1', int(sys.argv[1])); "
    "sys.argv = ['example_app.py']; "
    "runpy.run_path('example_app.py', run_name='__main__')"
)


def test_python_example_app_serves_with_reload(http_client: httpx.Client) -> None:
    """`python example_app.py` (app.run(reload=True)) serves the app under uvicorn's reloader."""
    port = free_port()
    with serving("05_bare", python_command("-c", RUN_AS_SCRIPT, str(port)), port) as process:
        response = http_client.get(f"http://127.0.0.1:{port}/", timeout=15)
        assert response.status_code == 200
    output = process.stdout.read().decode()
    assert "Started reloader process" in output
    assert "App started. Ready to serve." in output


def test_routes_answer_below_uvicorn_root_path(http_client: httpx.Client) -> None:
    """uvicorn --root-path /api (a proxy strips /api) puts /api in path; bare routes below it.

    A request for /tasks reaches the app as {"root_path": "/api", "path":
    "/api/tasks"} (the ASGI spec: path includes root_path); it was a 404.
    """
    port = free_port()
    argv = [*server_argv("uvicorn", "example_app:app", port), "--root-path", "/api"]
    with serving("05_bare", argv, port):
        base = f"http://127.0.0.1:{port}"
        response = http_client.get(f"{base}/tasks")
        assert (response.status_code, response.json()) == (200, [])
        with connect(ws_url(base, "/ws")) as websocket:
            assert websocket.recv(timeout=10).startswith("Welcome!")

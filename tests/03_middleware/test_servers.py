"""The example stack over a real socket: on stage 01's own server and on gunicorn."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest

from workbook.testing import (
    WSGI_SERVERS,
    free_port,
    output_of,
    server_argv,
    serving,
)

ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:secret").decode()}
JSON = {"Content-Type": "application/json"}


def test_list_is_gzipped_with_a_request_id(client: httpx.Client) -> None:
    """GET /books with Accept-Encoding: gzip is compressed, and carries an X-Request-ID."""
    response = client.get("/books", headers={"Accept-Encoding": "gzip"})
    assert (
        response.status_code,
        response.headers["content-encoding"],
        len(response.json()["books"]) >= 3,
        re.fullmatch("[0-9a-f]{32}", response.headers["x-request-id"]) is not None,
    ) == (200, "gzip", True, True)


def test_write_needs_credentials(client: httpx.Client) -> None:
    """POST without credentials is a 401 with WWW-Authenticate; with them, a 201."""
    body = json.dumps({"title": "The Dispossessed", "author": "Ursula K. Le Guin"})
    refused = client.post("/books", content=body, headers=JSON)
    created = client.post("/books", content=body, headers={**JSON, **ADMIN})
    assert (refused.status_code, refused.headers["www-authenticate"], created.status_code) == (
        401,
        'Basic realm="onion", charset="UTF-8"',
        201,
    )


def test_bad_input_gets_clear_4xx(client: httpx.Client) -> None:
    """Through the stack: invalid JSON 400 with a message, unknown route 404, wrong method 405."""
    invalid = client.post("/books", content=b"{", headers={**JSON, **ADMIN})
    unknown = client.get("/authors")
    wrong = client.patch("/books/1", headers=ADMIN)
    assert (
        invalid.status_code,
        invalid.json()["error"][:13],
        unknown.status_code,
        wrong.status_code,
        wrong.headers["allow"],
    ) == (400, "invalid JSON:", 404, 405, "DELETE, GET, HEAD, OPTIONS, PUT")


def test_preflight_is_answered(client: httpx.Client) -> None:
    """A browser's preflight from the allowed origin gets 200 with the CORS headers."""
    headers = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "PUT"}
    response = client.options("/books/1", headers=headers)
    assert (response.status_code, response.headers["access-control-allow-origin"]) == (
        200,
        "http://localhost:3000",
    )


def test_handler_bug_is_a_generic_500(client: httpx.Client) -> None:
    """/boom is a 500 whose body says nothing about the bug."""
    response = client.get("/boom")
    assert (response.status_code, response.text) == (500, "Internal Server Error\n")


def test_bug_mid_stream_cuts_the_connection(client: httpx.Client) -> None:
    """/boom/stream fails after its first chunk: the server cuts the response short."""
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/boom/stream", headers={"Accept-Encoding": "identity"})


@pytest.mark.parametrize("server", WSGI_SERVERS)
def test_access_log_line_reaches_the_server_log(server: str, http_client: httpx.Client) -> None:
    """The access-log line goes to wsgi.errors: the server's own log (stderr)."""
    port = free_port()
    argv = server_argv(server, "onion.example:app", port)
    with serving("03_middleware", argv, port) as process:
        url = f"http://127.0.0.1:{port}/books/1"
        http_client.get(url, headers={"X-Request-ID": "find-me-42"}, timeout=10)
    # The line may be written after the response went out. The block's end stopped the
    # server gracefully (SIGTERM: the request in flight finishes first) and read its
    # output to the end: the log is complete now, in a right and a wrong stage alike.
    line = r"GET /books/1 200 \d+B [\d.]+ms id=find-me-42"
    log = output_of(process)
    assert re.search(line, log), (
        f"no log line matching {line!r} (exit {process.returncode}):\n{log[-2000:]}"
    )

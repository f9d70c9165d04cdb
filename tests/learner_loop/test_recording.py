"""The suites' clients record each request as they send it, for the grader's curl line.

A test says its request once, to a client; ``workbook.testing``'s recording
clients (and the ``http_client`` fixture of tests/conftest.py) hand the
request to the ``sent`` fixture the moment it goes out. These tests pin
what the grader then shows, and the server commands the suites share.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from workbook.testing import (
    ASGI_SERVERS,
    WSGI_SERVERS,
    curl_command,
    recording_async_client,
    recording_client,
    server_argv,
)


class Log:
    """A stand-in for the ``sent`` fixture: keeps each curl line it is given."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, method: str, url: str, *, headers: Any = (), body: Any = None) -> str:
        line = curl_command(method, url, headers=headers, body=body)
        self.lines.append(line)
        return line


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="ok")


def test_request_is_recorded_with_the_fields_the_test_chose() -> None:
    """Method, URL, the test's header lines and the body; never Host, Content-Length or defaults."""
    log = Log()
    with recording_client(log, transport=httpx.MockTransport(answer)) as client:
        client.post(
            "http://127.0.0.1:8000/books?x=1",
            content=b'{"title": "x"}',
            headers={"Content-Type": "application/json"},
        )
    assert log.lines == [
        "curl -i -X POST 'http://127.0.0.1:8000/books?x=1' "
        "-H 'Content-Type: application/json' --data '{\"title\": \"x\"}'"
    ]


def test_a_header_the_test_set_is_kept_even_where_the_client_has_a_default() -> None:
    """Accept-Encoding: gzip differs from httpx's default, so it is the test's choice: recorded."""
    log = Log()
    with recording_client(log, transport=httpx.MockTransport(answer)) as client:
        client.get("http://t/books", headers={"Accept-Encoding": "gzip"})
    assert log.lines == ["curl -i http://t/books -H 'Accept-Encoding: gzip'"]


def test_repeated_header_lines_are_recorded_apart_in_order() -> None:
    """Two X-Tag lines stay two lines (RFC 9110, 5.3), in the order the test gave them."""
    log = Log()
    with recording_client(log, transport=httpx.MockTransport(answer)) as client:
        client.get("http://t/", headers=[("X-Tag", "a"), ("X-Tag", "b")])
    assert log.lines == ["curl -i http://t/ -H 'X-Tag: a' -H 'X-Tag: b'"]


def test_every_request_is_recorded_in_the_order_sent() -> None:
    """A test that sends three requests records three; the grader shows the last."""
    log = Log()
    with recording_client(
        log, base_url="http://t", transport=httpx.MockTransport(answer)
    ) as client:
        client.head("/a")
        client.delete("/b")
        client.options("/c")
    assert log.lines == [
        "curl -i --head http://t/a",
        "curl -i -X DELETE http://t/b",
        "curl -i -X OPTIONS http://t/c",
    ]


def test_a_long_body_is_shown_by_its_size() -> None:
    """A 2 MiB body would drown the report: the curl line gives its size instead."""
    log = Log()
    with recording_client(log, transport=httpx.MockTransport(answer)) as client:
        client.post("http://t/upload", content=b" " * (2 * 1024 * 1024))
    assert log.lines == ["curl -i -X POST http://t/upload --data '<2097152 bytes>'"]


def test_a_streamed_body_is_named_not_read() -> None:
    """Reading a streamed body to record it would consume it: it is named instead."""
    log = Log()
    with recording_client(log, transport=httpx.MockTransport(answer)) as client:
        client.post("http://t/echo", content=iter([b"chunk", b"ed"]))
    assert log.lines == [
        "curl -i -X POST http://t/echo -H 'Transfer-Encoding: chunked' --data '<streamed body>'"
    ]


def test_the_async_client_records_an_in_process_asgi_request() -> None:
    """The async twin records a request to an app called through httpx.ASGITransport."""

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def go() -> int:
        transport = httpx.ASGITransport(app=app)
        async with recording_async_client(
            log, transport=transport, base_url="http://testserver"
        ) as client:
            return (await client.put("/tasks/1", json={"done": True})).status_code

    log = Log()
    assert asyncio.run(go()) == 204
    assert log.lines == [
        "curl -i -X PUT http://testserver/tasks/1 -H 'Content-Type: application/json' "
        "--data '{\"done\":true}'"
    ]


def test_the_http_client_fixture_records_into_the_test_report(
    http_client: httpx.Client, request: pytest.FixtureRequest
) -> None:
    """The fixture's requests land in the test's user_properties, where the grader reads them."""
    http_client._transport = httpx.MockTransport(answer)  # no server needed to record
    http_client.get("http://127.0.0.1:9/tasks")
    assert request.node.user_properties[-1] == ("request", "curl -i http://127.0.0.1:9/tasks")


@pytest.mark.parametrize("server", WSGI_SERVERS + ASGI_SERVERS)
def test_each_server_is_started_on_loopback_at_the_port(server: str) -> None:
    """server_argv names the app and binds 127.0.0.1 at the given port, for every server."""
    argv = server_argv(server, "module:app", 8123)
    assert "module:app" in argv
    assert "127.0.0.1:8123" in argv or argv[argv.index("--port") + 1] == "8123"
    assert "127.0.0.1" in " ".join(argv)


def test_an_unknown_server_is_a_value_error() -> None:
    """A typo in a server name fails loudly, naming the servers there are."""
    with pytest.raises(ValueError, match="unknown server 'unicorn'"):
        server_argv("unicorn", "module:app", 8000)

"""The built-in load client, used by ``bench --quick`` where wrk is not installed."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator

import pytest

from workbook.bench import servers
from workbook.bench.load import PythonClient, parse_report
from workbook.bench.pyload import read_response

FRAMINGS = [
    ("content-length", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", (200, True)),
    (
        "chunked",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
        (200, True),
    ),
    (
        "connection close",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        (404, False),
    ),
    (
        "HTTP/1.0 without length",
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello",
        (200, False),
    ),
    (
        "HTTP/1.0 keep-alive",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
        (200, True),
    ),
]


@contextlib.contextmanager
def wsgiref_server() -> Iterator[str]:
    """Serve the raw benchmark app on wsgiref, as the benchmark does; yield its base URL."""
    with servers.log_folder() as logs:
        running = servers.start(servers.WSGIREF, "workbook.bench.apps.raw_wsgi:app", None, logs)
        try:
            servers.ready(running)
            yield running.base
        finally:
            servers.stop(running)


@pytest.mark.parametrize(("framing", "raw", "expected"), FRAMINGS, ids=[f[0] for f in FRAMINGS])
def test_response_is_read_to_its_end(framing: str, raw: bytes, expected: tuple[int, bool]) -> None:
    """Each framing is read whole; the connection is reused only if the server allows it."""

    async def read() -> tuple[int, bool, int]:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await read_response(reader)

    status, keep_alive, size = asyncio.run(read())
    assert (status, keep_alive, size) == (*expected, len(raw))


def test_client_loads_a_server_that_closes_every_connection() -> None:
    """Against wsgiref (HTTP/1.0, one connection per request) the client reconnects, error-free."""
    with wsgiref_server() as base:
        result = PythonClient().run(f"{base}/hello", connections=2, duration=0.3)
    assert (result.requests > 0, result.errors) == (True, dict.fromkeys(result.errors, 0))


def test_client_counts_error_statuses() -> None:
    """Responses with a status of 400 or more are counted as errors, as wrk does."""
    with wsgiref_server() as base:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "workbook.bench.pyload",
                f"{base}/",
                "--connections",
                "1",
                "--duration",
                "0.2",
                "--path",
                "/nowhere",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    result = parse_report(completed.stdout)
    assert result.errors["status"] == result.requests > 0

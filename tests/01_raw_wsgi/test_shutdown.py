"""Graceful shutdown, in a thread and from the command line (SIGTERM, SIGINT).

Stopping well means: refuse new connections, close idle keep-alive ones,
and let every request in flight finish its response.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from rawwsgi.protocol import Environ, StartResponse
from rawwsgi.server import WSGIServer
from stage01_helpers import closed_by_peer, connect, read_response

from workbook.stages import stage_dir, subprocess_env
from workbook.testing import (
    fetch,
    free_port,
    python_command,
    server_process,
    serving,
    wait_for_app,
    wait_until,
)

Serve = Callable[..., WSGIServer]


def in_flight_told_to_close(server: WSGIServer) -> bool:
    """Return True once shutdown() has begun and marked every response in progress to close.

    (White-box: shutdown() sets ``stopping`` first and marks the responses
    after, so ``stopping`` alone is too early for a test of the marking.)
    """
    with server._lock:
        connections = list(server._connections)
    return server.stopping and all(
        connection.response is None or not connection.response.keep_alive
        for connection in connections
    )


def test_shutdown_lets_a_request_in_flight_finish(serve: Serve) -> None:
    """A request being handled when shutdown() starts still gets its whole response."""
    entered, release = threading.Event(), threading.Event()

    def slow(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        entered.set()
        release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"finished"]

    server = serve(slow)
    with connect(server) as (sock, reader):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        wait_for_app(sock, entered.is_set)
        stopper = threading.Thread(target=server.shutdown)
        stopper.start()
        # While the app still works, shutdown() tells the response in progress to close.
        wait_until(lambda: in_flight_told_to_close(server), what="shutdown() to reach the request")
        release.set()
        response = read_response(reader)
        assert closed_by_peer(sock, reader)  # and then the connection closes
        stopper.join(10)
    assert (response.status, response.body, response.header("Connection")) == (
        200,
        b"finished",
        "close",
    )


def test_shutdown_refuses_new_connections(serve: Serve) -> None:
    """After shutdown() returns, nothing listens on the port any more."""
    server = serve(lambda environ, start_response: [])
    server.shutdown()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.server_address, timeout=2).close()


def test_shutdown_closes_idle_keep_alive_connections(serve: Serve) -> None:
    """An idle keep-alive connection does not hold shutdown for the whole timeout."""

    def hello(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hi"]

    server = serve(hello, timeout=30)
    with connect(server) as (sock, reader):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert read_response(reader).body == b"hi"
        started = time.monotonic()
        server.shutdown(timeout=20)
        assert closed_by_peer(sock, reader)
    assert time.monotonic() - started < 10  # idle connections are closed, not waited for


# ── The command line ─────────────────────────────────────────────────────────


def cli(app: str, port: int, *extra: str) -> list[str]:
    return python_command(
        "-m", "rawwsgi.server", app, "--host", "127.0.0.1", "--port", str(port), *extra
    )


def output_of(process: subprocess.Popen[bytes]) -> str:
    """Return everything a stopped server printed, closing its pipe."""
    if process.stdout is None:
        return ""
    with process.stdout:
        return process.stdout.read().decode(errors="replace")


def test_cli_serves_the_app_and_stops_on_sigterm() -> None:
    """python -m rawwsgi.server MODULE:APP serves it, says where, and exits 0 on SIGTERM."""
    port = free_port()
    with serving(1, cli("rawwsgi.apps:app", port), port) as process:
        response = fetch("POST", f"http://127.0.0.1:{port}/echo?name=wsgi", content=b"hello")
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    output = output_of(process)
    assert response.content == b"method: POST\npath: /echo\nquery: name=wsgi\nbody: hello\n"
    assert f"Serving rawwsgi.apps:app on http://127.0.0.1:{port}/" in output
    assert "Traceback" not in output


SLOW_APP = textwrap.dedent("""
    import pathlib
    import time

    def app(environ, start_response):
        pathlib.Path(environ["QUERY_STRING"]).touch()  # tell the test the request is in flight
        time.sleep(1.0)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        return [b"done"]
""")


def test_cli_finishes_a_request_in_flight_on_sigint(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) while a request runs: the response completes, then exit code 0."""
    (tmp_path / "slow_app_01.py").write_text(SLOW_APP)
    marker = tmp_path / "in-flight"
    port = free_port()
    env = subprocess_env(1, PYTHONPATH=f"{stage_dir(1)}:{tmp_path}")
    results: list[bytes | str] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", f"/?{marker}")
            results.append(connection.getresponse().read())
        except (OSError, http.client.HTTPException) as error:
            results.append(repr(error))
        finally:
            connection.close()

    with server_process(
        cli("slow_app_01:app", port), port, cwd=tmp_path, env=env, stop_signal=signal.SIGINT
    ) as process:
        thread = threading.Thread(target=client)
        thread.start()
        # A server that answers before the app runs ends the client thread: fail at once then.
        wait_until(
            lambda: marker.exists() or not thread.is_alive(), what="the request to reach the app"
        )
        assert marker.exists(), f"the server answered before the app ran: {results}"
        process.send_signal(signal.SIGINT)
        thread.join(10)
        assert process.wait(10) == 0, output_of(process)
    assert results == [b"done"]
    assert "Traceback" not in output_of(process)


def test_cli_refuses_an_app_it_cannot_import() -> None:
    """A MODULE:APP that does not import is a clear error and exit code 2, not a traceback."""
    completed = subprocess.run(
        cli("no_such_module_01:app", free_port()),
        cwd=stage_dir(1),
        env=subprocess_env(1),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.returncode == 2
    assert "cannot load no_such_module_01:app" in completed.stderr
    assert "Traceback" not in completed.stderr

"""The suites' way of waiting for what a server does after the response: bounded, never a sleep.

``workbook.testing`` gives every suite ``wait_until`` / ``wait_for_text``,
``wait_for_app`` (which ends the wait as soon as the server answers instead,
so an unfinished stage fails at once) and a child-process output that is
read as it comes (``ProcessOutput``). These tests pin what the stage suites
rely on.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from workbook.testing import (
    fetch,
    free_port,
    python_command,
    server_process,
    tls_context,
    wait_for_app,
    wait_for_output,
    wait_for_text,
    wait_until,
    wsgiref_serving,
)


def test_wait_until_returns_the_first_truthy_value_as_soon_as_it_comes() -> None:
    """wait_until returns the condition's value the moment it holds, not after a fixed time."""
    ready = threading.Event()
    threading.Timer(0.05, ready.set).start()
    began = time.monotonic()
    assert wait_until(lambda: ready.is_set() and "done", timeout=30) == "done"
    assert time.monotonic() - began < 25  # far below the bound: it did not wait it out


def test_wait_until_fails_with_what_it_waited_for_and_what_it_saw() -> None:
    """A condition that never holds: an AssertionError naming the event, bounded by the timeout."""
    with pytest.raises(
        AssertionError,
        match=r"timed out after 0.1 s waiting for the access line; "
        r"saw instead:\nnothing yet",
    ):
        wait_until(lambda: False, timeout=0.1, what="the access line", show=lambda: "nothing yet")


def test_wait_for_text_shows_the_text_it_had_on_timeout() -> None:
    """wait_for_text reads like a failed `assert expected in text`: it shows the text."""
    with pytest.raises(AssertionError, match=r"waiting for '\" 404'; saw instead:\nGET / 200"):
        wait_for_text(lambda: "GET / 200", '" 404', timeout=0.1)


# A server that logs more than a pipe holds (64 KiB) before it listens: with
# nobody reading the pipe it would block on its write and never listen.
CHATTY_SERVER = """
import socket, sys, time
sys.stdout.write("x" * 300_000 + "\\n")
sys.stdout.write("listening\\n")
sys.stdout.flush()
listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
while True:
    connection, _ = listener.accept()
    sys.stdout.write("accepted a connection\\n")
    sys.stdout.flush()
    connection.close()
"""


def test_a_server_that_logs_a_lot_never_blocks_on_its_pipe() -> None:
    """server_process reads the child's output as it comes, so a chatty server starts and serves."""
    port = free_port()
    with server_process(python_command("-c", CHATTY_SERVER, str(port)), port) as process:
        # It listens: its 300 kB write did not block. The pump thread may still be
        # catching up with the pipe, so the line is waited for, not asserted at once.
        assert wait_for_output(process, "listening").count("x") == 300_000


def test_output_is_waited_for_while_the_server_runs_and_kept_after() -> None:
    """A line the server prints after a request is waited for live, read in full after the stop."""
    port = free_port()
    with server_process(python_command("-c", CHATTY_SERVER, str(port)), port) as process:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        wait_for_output(process, "accepted a connection")
    assert process.stdout is not None
    everything = process.stdout.read().decode()
    assert everything.count("x") == 300_000 and "accepted a connection" in everything


# ── Waiting for the event a right and a wrong server share ───────────────────


def test_wait_for_app_fails_at_once_when_the_server_answers_first() -> None:
    """A server that answers before the app has the request ends the wait with what it sent.

    The bound is 60 s and the failure names the answer, not the bound: the
    wait ended on the answer, not on the clock.
    """
    test_side, server_side = socket.socketpair()
    with test_side, server_side:
        server_side.sendall(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
        with pytest.raises(AssertionError, match=r"the server answered: b'HTTP/1.1 500 "):
            wait_for_app(test_side, lambda: False, timeout=60)


def test_wait_for_app_fails_at_once_when_the_server_closes_first() -> None:
    """A server that closes the connection before the app has the request ends the wait too."""
    test_side, server_side = socket.socketpair()
    server_side.close()
    with test_side, pytest.raises(AssertionError, match="it closed the connection"):
        wait_for_app(test_side, lambda: False, timeout=60)


def test_wait_for_app_returns_once_the_app_has_the_request() -> None:
    """While the server stays silent, wait_for_app returns as soon as the app signals."""
    entered = threading.Event()
    threading.Timer(0.05, entered.set).start()
    test_side, server_side = socket.socketpair()
    with test_side, server_side:
        wait_for_app(test_side, entered.is_set, timeout=60)
    assert entered.is_set()


def test_wait_for_app_is_bounded() -> None:
    """An app that never gets the request, on a server that never answers: a bounded failure."""
    test_side, server_side = socket.socketpair()
    with test_side, server_side, pytest.raises(AssertionError, match="timed out after 0.1 s"):
        wait_for_app(test_side, lambda: False, timeout=0.1)


def test_fetch_talks_to_wsgiref_in_a_thread() -> None:
    """fetch sends one request on the shared TLS context; wsgiref_serving serves in a thread."""

    def app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello from wsgiref"]

    with wsgiref_serving(app) as (host, port):
        response = fetch("GET", f"http://{host}:{port}/")
    assert (response.status_code, response.text) == (200, "hello from wsgiref")
    assert tls_context() is tls_context()  # one context, built once

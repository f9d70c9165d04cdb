"""Stage 01's test set-up: a server-in-a-thread fixture.

Most server tests run :class:`rawwsgi.server.WSGIServer` in a thread of the
test process on a free loopback port, and talk to it with real clients:
http.client, httpx, or a raw socket when the test is about bytes that no
polite client would send. The helpers they share are in stage01_helpers.py.
The stage under test is on ``sys.path`` by tests/conftest.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from rawwsgi.server import WSGIServer
from stage01_helpers import App

# ── A server in a thread ─────────────────────────────────────────────────────


@pytest.fixture
def serve() -> Iterator[Callable[..., WSGIServer]]:
    """Start ``WSGIServer(app, "127.0.0.1", 0, **options)`` in a thread; stop it afterwards."""
    running: list[tuple[WSGIServer, threading.Thread]] = []

    def start(app: App, **options: object) -> WSGIServer:
        server = WSGIServer(app, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.shutdown(timeout=2)
        thread.join(5)

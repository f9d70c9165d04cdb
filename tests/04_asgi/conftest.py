"""Stage 04's test set-up: servers to run its apps on.

Three kinds of server run the same apps here: the hand-written
``rawasgi.server.ASGIServer`` in a thread of the test process (``serve``),
and child processes of ``python -m rawasgi.server``, uvicorn and hypercorn
(``workbook.testing.served``). The helpers the tests share live in
stage04_helpers.py; the stage under test is on ``sys.path`` by tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rawasgi.protocol import ASGIApp
from stage04_helpers import ServerThread


@pytest.fixture
def serve() -> Iterator[Callable[..., ServerThread]]:
    """Start ``ASGIServer(app, "127.0.0.1", 0, **options)`` in a thread; stop it afterwards."""
    running: list[ServerThread] = []

    def start(app: ASGIApp, **options: object) -> ServerThread:
        server = ServerThread(app, **options)
        running.append(server)
        return server.start()

    yield start
    for server in running:
        server.stop()

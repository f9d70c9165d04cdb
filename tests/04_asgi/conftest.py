"""Stage 04's test set-up: the stage under test, and servers to run its apps on.

Three kinds of server run the same apps here: the hand-written
``rawasgi.server.ASGIServer`` in a thread of the test process (``serve``),
and child processes of ``python -m rawasgi.server``, uvicorn and hypercorn
(``stage04_helpers.served``). The helpers the tests share live in
stage04_helpers.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from workbook.stages import activate

activate("04_asgi")
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.append(HERE)  # for stage04_helpers; appended, so it shadows nothing

from rawasgi.protocol import ASGIApp  # noqa: E402
from stage04_helpers import ServerThread  # noqa: E402 -- after activate()


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

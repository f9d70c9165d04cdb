"""Stage 03's test set-up: the stage under test, helpers, and the stack on real servers.

The in-process client is stage 02's (``stage02_helpers.call``: both WSGI
linters on the outside, a PEP 3333 ``start_response`` that re-raises
``exc_info`` once the headers are out). ``stage03_helpers`` adds apps that
record what happened to them (``close()`` above all) and ``sandwich`` to
put the linters on the *inside* of a middleware too.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbook.stages import activate, stage_dir, subprocess_env
from workbook.testing import free_port, server_process

activate("03_middleware")
HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "02_router"):  # stage03_helpers, stage02_helpers
    if str(folder) not in sys.path:
        sys.path.append(str(folder))  # appended, so it shadows nothing

from stage03_helpers import SERVERS, server_argv  # noqa: E402 -- after the path set-up


@contextlib.contextmanager
def serving(server: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Serve the example stack on ``server`` until the block ends; close the log pipe after."""
    argv = server_argv(server, "onion.example:app", port)
    process = None
    try:
        with server_process(
            argv, port, cwd=stage_dir("03_middleware"), env=subprocess_env("03_middleware")
        ) as process:
            yield process
    finally:
        # server_process leaves the log pipe open so a test may read it after the stop.
        if process is not None and process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module", params=SERVERS)
def stack_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve the example stack on stage 01's server, then gunicorn; yield its base URL."""
    port = free_port()
    with serving(request.param, port):
        yield f"http://127.0.0.1:{port}"

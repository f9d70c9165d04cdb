"""Stage 02's test set-up: the stage under test, the in-process client, real servers.

In-process tests call apps through ``stage02_helpers.call`` (both WSGI
linters on). Over-the-wire tests get the example API served by stage 01's
own server and by gunicorn, each in a child process on a free port.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbook.stages import activate, stage_dir, subprocess_env
from workbook.testing import free_port, python_command, server_process, venv_script

activate("02_router")
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.append(HERE)  # for stage02_helpers; appended, so it shadows nothing

SERVERS = ("own", "gunicorn")


def server_argv(server: str, spec: str, port: int) -> list[str]:
    """Return the command that serves ``spec`` (MODULE:APP) on ``port``."""
    if server == "own":
        return python_command(
            "-m", "rawwsgi.server", spec, "--host", "127.0.0.1", "--port", str(port)
        )
    return [
        venv_script("gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--no-control-socket",
        spec,
    ]


@contextlib.contextmanager
def serving(argv: list[str], port: int, stage: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server for ``stage`` until the block ends, then close its log pipe."""
    process = None
    try:
        with server_process(argv, port, cwd=stage_dir(stage), env=subprocess_env(stage)) as process:
            yield process
    finally:
        # server_process leaves the log pipe open so a test may read it after the stop.
        if process is not None and process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module", params=SERVERS)
def example_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve the books API on stage 01's server, then gunicorn; yield its base URL."""
    port = free_port()
    argv = server_argv(request.param, "wsgirouter.example:app", port)
    with serving(argv, port, "02_router"):
        yield f"http://127.0.0.1:{port}"

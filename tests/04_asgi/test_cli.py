"""``python -m rawasgi.server`` as a learner runs it: the URL, Ctrl-C, SIGTERM, a failed startup."""

from __future__ import annotations

import signal
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from workbook.stages import stage_dir, subprocess_env
from workbook.testing import LOOPBACK, fetch, free_port, loopback_client, python_command, serving

pytestmark = pytest.mark.timeout(60)


@contextmanager
def cli_server(
    *extra: str, target: str = "rawasgi.apps:app"
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run the CLI in a child process; yield it and its base URL; close its output pipe after."""
    port = free_port()
    argv = python_command(
        "-m", "rawasgi.server", target, "--host", LOOPBACK, "--port", str(port), *extra
    )
    process = None
    try:
        with serving("04_asgi", argv, port) as process:
            yield process, f"http://{LOOPBACK}:{port}"
    finally:
        if process is not None and process.stdout is not None:
            process.stdout.close()


def stop_and_read(process: subprocess.Popen[bytes], signal_number: int) -> tuple[int, str]:
    """Send a signal, wait for the exit, and return the exit code and everything logged."""
    process.send_signal(signal_number)
    code = process.wait(15)
    assert process.stdout is not None
    return code, process.stdout.read().decode(errors="replace")


def test_cli_prints_its_url_and_stops_on_ctrl_c() -> None:
    """The CLI prints the URL it serves on, and Ctrl-C (SIGINT) stops it cleanly (exit 0)."""
    with cli_server() as (process, url):
        assert fetch("GET", url).text == "Hello, ASGI!\n"
        code, output = stop_and_read(process, signal.SIGINT)
    assert f"Serving on {url}/" in output
    assert (code, "Traceback" in output) == (0, False)


def test_sigterm_lets_the_request_in_flight_finish() -> None:
    """SIGTERM during a streamed response: the response completes, then lifespan shutdown runs."""
    with cli_server() as (process, url):
        with (
            loopback_client(timeout=10) as client,
            client.stream("GET", f"{url}/stream?count=4&delay=0.2") as response,
        ):
            lines = response.iter_lines()
            first = next(lines)
            process.send_signal(signal.SIGTERM)
            rest = list(lines)
        code = process.wait(15)
        assert process.stdout is not None
        output = process.stdout.read().decode(errors="replace")
    assert [first, *rest] == [f"line {n} of 4" for n in range(1, 5)]
    assert code == 0
    assert output.index("Shutting down") < output.index("lifespan: shutdown complete")


def test_startup_failure_exits_non_zero_with_the_apps_message(tmp_path: Path) -> None:
    """An app whose lifespan startup fails stops the server: its message, and exit status 3."""
    (tmp_path / "failing_app.py").write_text(
        textwrap.dedent("""
        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                await receive()
                await send(
                    {"type": "lifespan.startup.failed", "message": "cannot reach the database"}
                )
    """)
    )
    result = subprocess.run(
        python_command("-m", "rawasgi.server", "failing_app:app", "--port", str(free_port())),
        cwd=tmp_path,
        env=subprocess_env("04_asgi"),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 3
    assert "cannot reach the database" in result.stderr.decode()


@pytest.mark.parametrize("target", ["rawasgi.apps:nothing", "no_such_module:app", "rawasgi.apps"])
def test_bad_app_reference_exits_with_a_message(target: str) -> None:
    """A MODULE:APP that cannot be loaded is a one-line error and exit status 1, not a traceback."""
    result = subprocess.run(
        python_command("-m", "rawasgi.server", target, "--port", str(free_port())),
        cwd=stage_dir("04_asgi"),
        env=subprocess_env("04_asgi"),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.decode().startswith("error: cannot load")

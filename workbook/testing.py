"""Helpers the stage suites share: free ports, real servers in child processes, curl lines.

Tests start real servers (the stages' own, gunicorn, uvicorn, hypercorn) on
loopback ports and talk to them with real clients. These helpers keep that
to one line in a test and make sure every server is stopped afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, host: str = LOOPBACK, timeout: float = 15.0,
                  process: subprocess.Popen[bytes] | None = None) -> None:
    """Block until something accepts connections on ``host:port``, or raise.

    If ``process`` is given and exits first, raise with its output: a server
    that refused to start says why.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode} before listening:\n{output}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout}s")


@dataclasses.dataclass(frozen=True)
class ServerStart:
    """A server a test started: the grader shows it beside a failing request to it."""

    argv: list[str]
    port: int
    cwd: str | None
    pythonpath: str | None


STARTED: list[ServerStart] = []   # every server_process started in this process, in order


@contextlib.contextmanager
def server_process(argv: Sequence[str], port: int, *, cwd: str | Path | None = None,
                   env: Mapping[str, str] | None = None, timeout: float = 15.0,
                   stop_signal: int = signal.SIGTERM) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server command in a child process until the block ends.

    The child's stdout and stderr are merged into ``process.stdout``. When the
    block ends the server is stopped and the pipe is swapped for an in-memory
    copy of what was left in it, so a test can still read everything the
    server logged, and no pipe is left open (a ResourceWarning otherwise).
    """
    STARTED.append(ServerStart(list(argv), port, None if cwd is None else str(cwd),
                               (env or os.environ).get("PYTHONPATH")))
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=timeout, process=process)
        yield process
    finally:
        stop_process(process, stop_signal)
        pipe = process.stdout
        if pipe is not None and not pipe.closed:
            remaining = pipe.read()
            pipe.close()
            process.stdout = io.BytesIO(remaining)  # type: ignore[assignment]


def stop_process(process: subprocess.Popen[bytes], stop_signal: int = signal.SIGTERM,
                 grace: float = 10.0) -> int:
    """Stop a child server politely, then firmly; return its exit code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, stop_signal)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace)
    return process.returncode


def python_command(*args: str) -> list[str]:
    """Return argv that runs this interpreter (the venv's) with ``args``."""
    return [sys.executable, *args]


def venv_script(name: str) -> str:
    """Return the path of a console script (gunicorn, uvicorn, ...) next to this interpreter."""
    return str(Path(sys.executable).with_name(name))


def curl_command(method: str, url: str, *, headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
                 body: bytes | str | None = None) -> str:
    """Render a request as the curl command a learner can paste into a shell.

    >>> curl_command("POST", "http://127.0.0.1:8000/tasks", headers={"Content-Type": "application/json"}, body='{"title": "x"}')
    'curl -i -X POST http://127.0.0.1:8000/tasks -H \\'Content-Type: application/json\\' --data \\'{"title": "x"}\\''
    """
    parts = ["curl", "-i"]
    if method == "HEAD":
        parts.append("--head")
    elif method != "GET" or body:
        parts += ["-X", method]
    parts.append(shlex.quote(url))
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        text = body.decode("utf-8", "backslashreplace") if isinstance(body, bytes) else body
        parts += ["--data", shlex.quote(text)]
    return " ".join(parts)

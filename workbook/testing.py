"""Helpers the stage suites share: free ports, real servers in child processes, curl lines.

Tests start real servers (the stages' own, gunicorn, uvicorn, hypercorn) on
loopback ports and talk to them with real clients. These helpers keep that
to one line in a test and make sure every server is stopped afterwards.

A server does some of its work after the client has the response: it
writes the access line, logs what the app did wrong after the last byte,
commits, closes. A test that asserts on such a side effect the moment the
response arrives races the server, so it waits for it instead, bounded:
:func:`wait_until` (any condition) and :func:`wait_for_text` (a log, a
file, a process's output).
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
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

LOOPBACK = "127.0.0.1"
#: How long a test waits for a side effect before it fails (seconds). Generous,
#: because a loaded CI machine is slow; a test that passes returns at once.
SIDE_EFFECT_TIMEOUT = 10.0

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = SIDE_EFFECT_TIMEOUT,
    interval: float = 0.01,
    what: str = "the condition",
    show: Callable[[], object] | None = None,
) -> T:
    """Return ``condition()``'s first truthy value, checking every ``interval`` s for ``timeout`` s.

    This is how a test waits for something the server does after the
    response (an access line, a row, a file, an exit): bounded, and it
    returns as soon as the event happened, so a fast run stays fast.
    Raise AssertionError naming ``what`` when the deadline passes, with
    ``show()`` (what the test saw instead) when given.

    >>> wait_until(lambda: 42, what="the answer")
    42
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            seen = f"; saw instead:\n{show()}" if show is not None else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{seen}")
        time.sleep(interval)


def wait_for_text(
    source: Callable[[], str], expected: str, *, timeout: float = SIDE_EFFECT_TIMEOUT
) -> str:
    """Wait until ``expected`` appears in ``source()`` (a log, a file's text); return that text.

    On timeout the AssertionError shows what ``source()`` held, so a
    failure reads like a failed ``assert expected in text``.

    >>> wait_for_text(lambda: "GET / 200", "200")
    'GET / 200'
    """
    seen = [""]

    def found() -> bool:
        seen[0] = source()
        return expected in seen[0]

    wait_until(found, timeout=timeout, what=repr(expected), show=lambda: seen[0][-2000:])
    return seen[0]


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(
    port: int,
    host: str = LOOPBACK,
    timeout: float = 15.0,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Block until something accepts connections on ``host:port``, or raise.

    If ``process`` is given and exits first, raise with its output: a server
    that refused to start says why.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(
                f"server exited with {process.returncode} before listening:\n{output}"
            )
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout}s")


class ProcessOutput:
    """A child's merged stdout and stderr, pumped by a thread as it comes, so the pipe never fills.

    It stands in for ``process.stdout``: :meth:`read` waits for the end of
    the output (every writer closed the pipe: the server exited), as reading
    a pipe does, while :meth:`text` is what arrived so far, for a test that
    waits for a line while the server runs (:func:`wait_for_output`). A
    server that logs more than a pipe holds (64 KiB on Linux) never blocks
    on a test that is not reading yet.
    """

    def __init__(self, pipe: io.BufferedReader) -> None:
        self._pipe = pipe
        self._chunks: list[bytes] = []
        self._position = 0
        self.closed = False
        self._thread = threading.Thread(target=self._pump, name="process-output", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while data := os.read(self._pipe.fileno(), 65536):
                self._chunks.append(data)  # list.append is atomic: no lock needed

    def text(self) -> str:
        """Return everything the process wrote so far, decoded (bad bytes replaced)."""
        return b"".join(self._chunks).decode(errors="replace")

    def finish(self, timeout: float = 10.0) -> None:
        """Wait (bounded) for the end of the output, then close the pipe."""
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._pipe.close()

    def read(self) -> bytes:
        """Return the output not read yet, once the process has closed its end."""
        self.finish()
        data = b"".join(self._chunks)
        chunk, self._position = data[self._position :], len(data)
        return chunk

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> ProcessOutput:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def output_of(process: subprocess.Popen[bytes]) -> str:
    """Return what a process started by :func:`server_process` has printed so far."""
    output = process.stdout
    if not isinstance(output, ProcessOutput):
        raise TypeError("output_of() needs a process started by server_process()")
    return output.text()


def wait_for_output(
    process: subprocess.Popen[bytes], expected: str, *, timeout: float = SIDE_EFFECT_TIMEOUT
) -> str:
    """Wait until a server started by :func:`server_process` prints ``expected``.

    Return its output.
    """
    return wait_for_text(lambda: output_of(process), expected, timeout=timeout)


@dataclasses.dataclass(frozen=True)
class ServerStart:
    """A server a test started: the grader shows it beside a failing request to it."""

    argv: list[str]
    port: int
    cwd: str | None
    pythonpath: str | None


STARTED: list[ServerStart] = []  # every server_process started in this process, in order


@contextlib.contextmanager
def server_process(
    argv: Sequence[str],
    port: int,
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 15.0,
    stop_signal: int = signal.SIGTERM,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server command in a child process until the block ends.

    The child's stdout and stderr are merged into ``process.stdout``, a
    :class:`ProcessOutput` that a thread fills as the server writes. When
    the block ends the server is stopped and the pipe closed; a test can
    still read everything the server logged with ``process.stdout.read()``.
    """
    STARTED.append(
        ServerStart(
            list(argv),
            port,
            None if cwd is None else str(cwd),
            (env or os.environ).get("PYTHONPATH"),
        )
    )
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    output = ProcessOutput(process.stdout)  # type: ignore[arg-type]
    process.stdout = output  # type: ignore[assignment]
    try:
        wait_for_port(port, timeout=timeout, process=process)
        yield process
    finally:
        stop_process(process, stop_signal)
        output.finish()


def stop_process(
    process: subprocess.Popen[bytes], stop_signal: int = signal.SIGTERM, grace: float = 10.0
) -> int:
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


def curl_command(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    body: bytes | str | None = None,
) -> str:
    """Render a request as the curl command a learner can paste into a shell.

    >>> print(curl_command(
    ...     "POST",
    ...     "http://127.0.0.1:8000/tasks",
    ...     headers={"Content-Type": "application/json"},
    ...     body="{}",
    ... ))
    curl -i -X POST http://127.0.0.1:8000/tasks -H 'Content-Type: application/json' --data '{}'
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

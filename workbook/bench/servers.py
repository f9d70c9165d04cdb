"""The servers the apps run on, and how to start, check and stop one.

Every server runs in its own process group on ``SERVER_CORES``, with its
output going to a log file (a pipe nobody reads would fill up and stall a
server that logs). Access logs are off everywhere: the benchmark measures
serving requests, not writing lines to a terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path

from workbook.bench.load import SERVER_CORES, pinned
from workbook.stages import stage_dir, subprocess_env
from workbook.testing import LOOPBACK, free_port, stop_process, venv_script, wait_for_port

GUNICORN_THREADS = 4


@dataclass(frozen=True)
class Server:
    """A way to serve an app: ``argv(app, port)`` is the command line."""

    key: str
    label: str
    command: Callable[[str, int], list[str]]

    def argv(self, app: str, port: int) -> list[str]:
        return self.command(app, port)


def uvicorn(http: str, loop: str) -> Callable[[str, int], list[str]]:
    def command(app: str, port: int) -> list[str]:
        return [
            venv_script("uvicorn"),
            app,
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--http",
            http,
            "--loop",
            loop,
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    return command


def gunicorn_gthread(app: str, port: int) -> list[str]:
    # One worker, a few threads, keep-alive on: the sync worker would close every
    # connection and measure TCP set-up instead of the framework.
    return [
        venv_script("gunicorn"),
        "--bind",
        f"{LOOPBACK}:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        str(GUNICORN_THREADS),
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
        app,
    ]


def stage01_server(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rawwsgi.server",
        app,
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--quiet",
    ]


def stage04_server(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rawasgi.server",
        app,
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def wsgiref_server(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "workbook.bench.wsgiref_server",
        app,
        "--host",
        LOOPBACK,
        "--port",
        str(port),
    ]


UVICORN_HTTPTOOLS = Server(
    "uvicorn-httptools", "uvicorn (httptools, uvloop)", uvicorn("httptools", "uvloop")
)
UVICORN_HTTPTOOLS_ASYNCIO = Server(
    "uvicorn-httptools-asyncio",
    "uvicorn (httptools, asyncio loop)",
    uvicorn("httptools", "asyncio"),
)
UVICORN_H11 = Server("uvicorn-h11", "uvicorn --http h11 (asyncio loop)", uvicorn("h11", "asyncio"))
GUNICORN = Server(
    "gunicorn-gthread", f"gunicorn gthread (1 worker, {GUNICORN_THREADS} threads)", gunicorn_gthread
)
STAGE01 = Server("stage01", "stage 01 server (rawwsgi.server)", stage01_server)
STAGE04 = Server("stage04", "stage 04 server (rawasgi.server)", stage04_server)
WSGIREF = Server("wsgiref", "wsgiref.simple_server", wsgiref_server)


@dataclass
class Running:
    """A server process started for a benchmark, and where it logs."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def output(self) -> str:
        """Return the tail of what the server printed."""
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def start(server: Server, app: str, stage: str | None, logs: Path) -> Running:
    """Start ``app`` on ``server`` without waiting for it to listen (see ``ready``)."""
    port = free_port()
    log = logs / f"{server.key}-{app.rsplit('.', 1)[-1].replace(':', '-')}-{port}.log"
    env = subprocess_env(stage) if stage else dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    cwd = stage_dir(stage) if stage else None
    with log.open("wb") as sink:
        process = subprocess.Popen(
            pinned(server.argv(app, port), SERVER_CORES),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Running(process, port, log)


def ready(running: Running, timeout: float = 60.0) -> None:
    """Wait until the server answers HTTP; raise with its output if it died or never did.

    A listening port is not enough: gunicorn's master listens before its
    worker has imported the app, and a worker that cannot import it makes
    the whole server exit a moment later.
    """
    deadline = time.monotonic() + timeout
    try:
        wait_for_port(running.port, timeout=timeout, process=running.process)
        while True:
            try:
                fetch(running.base, "/")  # any status will do: something answered
                return
            except OSError:
                if running.process.poll() is not None:
                    raise RuntimeError(f"server exited with {running.process.returncode}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"no HTTP answer on port {running.port} within {timeout}s"
                    ) from None
                time.sleep(0.1)
    except (RuntimeError, TimeoutError) as error:
        raise RuntimeError(f"{error}\n--- server output ---\n{running.output()}") from None


def stop(running: Running) -> None:
    stop_process(running.process, grace=5.0)


@contextlib.contextmanager
def log_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as folder:
        yield Path(folder)


def fetch(base: str, path: str, timeout: float = 10.0) -> tuple[int, str, bytes]:
    """GET ``base + path`` once; return status, content type and body."""
    host, port = base.removeprefix("http://").split(":")
    connection = HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def check(base: str, path: str, expected: str | Mapping[str, object]) -> str | None:
    """Return None if ``path`` answers 200 with ``expected``, else what went wrong."""
    try:
        status, content_type, body = fetch(base, path)
    except OSError as error:
        return f"GET {path}: {error}"
    if status != 200:
        return f"GET {path}: status {status}, body {body[:200]!r}"
    if isinstance(expected, str):
        if body.decode(errors="replace") != expected or not content_type.startswith("text/plain"):
            return (
                f"GET {path}: expected text/plain {expected!r}, got {content_type} {body[:200]!r}"
            )
        return None
    try:
        got = json.loads(body)
    except ValueError:
        return f"GET {path}: expected JSON {expected}, got {body[:200]!r}"
    if got != expected or not content_type.startswith("application/json"):
        return f"GET {path}: expected application/json {expected}, got {content_type} {got!r}"
    return None


def rss_kib(pid: int) -> int:
    """Return the resident memory of a process and all its descendants, in KiB."""
    if not Path("/proc").is_dir():
        completed = subprocess.run(
            ["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True
        )
        return int(completed.stdout.strip() or 0)
    family = descendants(pid) | {pid}
    total = 0
    for member in family:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def cpu_seconds(pid: int) -> float | None:
    """Return the CPU time (user + system) used so far by a process and its descendants.

    Read from /proc (Linux); None elsewhere. Children that already exited
    are not counted, which is right for servers whose workers live on.
    """
    if not Path("/proc").is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in descendants(pid) | {pid}:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / ticks


def descendants(pid: int) -> set[int]:
    """Return the ids of every process below ``pid`` (gunicorn's workers, for one)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                parents.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    waiting = [pid]
    while waiting:
        for child in parents.get(waiting.pop(), []):
            if child not in found:
                found.add(child)
                waiting.append(child)
    return found


def settle(seconds: float) -> None:
    """Pause between runs so that sockets in TIME_WAIT and the CPU calm down."""
    time.sleep(seconds)

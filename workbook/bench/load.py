"""Load generators: wrk when it is installed, the built-in Python client otherwise.

Both print one ``WRK_JSON {...}`` line (see ``wrk/report.lua``), which
``parse_report`` turns into a ``LoadResult``. The client runs on its own
core (``CLIENT_CORES``) when the machine has two or more and ``taskset``
exists, so that it never steals the server's CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

from workbook.bench.results import LoadRun

WRK_DIR = Path(__file__).resolve().parent / "wrk"
MARKER = "WRK_JSON "
INSTALL_WRK = (
    "wrk is not installed. Install it with `sudo apt-get install wrk` (Debian, Ubuntu) "
    "or `brew install wrk` (macOS), then run `make bench` again."
)
SERVER_CORES = "0"
CLIENT_CORES = "1"


@dataclass(frozen=True)
class LoadResult:
    """One load run: how many requests, how fast, how many went wrong, how long they took."""

    requests: int
    seconds: float
    errors: dict[str, int]
    latency_ms: dict[str, float]
    server_cpu_s: float | None = None  # CPU seconds the server used meanwhile, where known

    @property
    def rps(self) -> float:
        """Return requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        """Return every failed request: socket errors, timeouts and statuses >= 400."""
        return sum(self.errors.values())

    @property
    def cpu_us_per_request(self) -> float | None:
        """Return the server's CPU microseconds per request: what a request costs it.

        Unlike requests per second, this barely moves when other processes
        compete for the CPU, so it is the steadier number on a busy machine.
        """
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1e6

    def as_run(self) -> LoadRun:
        """Return the run as it is recorded in the results (req/s to 0.1)."""
        return LoadRun(
            requests=self.requests,
            seconds=self.seconds,
            errors=dict(self.errors),
            latency_ms=dict(self.latency_ms),
            server_cpu_s=self.server_cpu_s,
            rps=round(self.rps, 1),
            cpu_us_per_request=self.cpu_us_per_request,
        )


def parse_report(output: str) -> LoadResult:
    """Return the ``LoadResult`` in a client's output, or raise ValueError if there is none."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            report = json.loads(line[len(MARKER) :])
            return LoadResult(
                requests=int(report["requests"]),
                seconds=report["duration_us"] / 1e6,
                errors={name: int(count) for name, count in report["errors"].items()},
                latency_ms={name: value / 1000 for name, value in report["latency_us"].items()},
            )
    raise ValueError(f"no {MARKER.strip()} line in the load client's output:\n{output[-2000:]}")


def can_pin() -> bool:
    """Say whether server and client can each have a core of their own."""
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(argv: list[str], cores: str) -> list[str]:
    """Return ``argv`` prefixed to run on ``cores`` where the OS allows it."""
    return ["taskset", "-c", cores, *argv] if can_pin() else argv


class Client:
    """A load generator: run it against a URL, get a ``LoadResult``."""

    name = "client"

    def command(self, url: str, connections: int, duration: float, paths: list[str]) -> list[str]:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def run(
        self, url: str, connections: int, duration: float, paths: list[str] | None = None
    ) -> LoadResult:
        """Load ``url`` for ``duration`` seconds (``paths``: send these in turn instead)."""
        argv = pinned(self.command(url, connections, duration, paths or []), CLIENT_CORES)
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
        if completed.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited with {completed.returncode}:\n{completed.stderr}")
        return parse_report(completed.stdout)


class Wrk(Client):
    """wrk: one thread, ``--latency``, and a Lua ``done()`` that prints JSON."""

    name = "wrk"

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.scripts = Path(tempfile.mkdtemp(prefix="wrk-scripts-"))
        # Removed when the client is collected or the interpreter exits: no
        # wrk-scripts-* folder is left behind in the temporary directory.
        weakref.finalize(self, shutil.rmtree, self.scripts, ignore_errors=True)

    def script(self, rotating: bool) -> Path:
        """Return a script file: the JSON report, plus path rotation if asked."""
        path = self.scripts / ("rotate.lua" if rotating else "report.lua")
        if not path.exists():
            parts = (["rotate.lua"] if rotating else []) + ["report.lua"]
            path.write_text("\n".join((WRK_DIR / part).read_text() for part in parts))
        return path

    def command(self, url: str, connections: int, duration: float, paths: list[str]) -> list[str]:
        # wrk counts whole seconds; a request unanswered for 5 s counts as a timeout.
        seconds = max(1, round(duration))
        argv = [
            self.executable,
            "--threads",
            "1",
            "--connections",
            str(connections),
            "--duration",
            f"{seconds}s",
            "--timeout",
            "5s",
            "--latency",
            "--script",
            str(self.script(bool(paths))),
            url,
        ]
        return argv + (["--", *paths] if paths else [])

    def version(self) -> str:
        completed = subprocess.run([self.executable, "-v"], capture_output=True, text=True)
        return (completed.stdout + completed.stderr).splitlines()[0].split(" Copyright")[0].strip()


class PythonClient(Client):
    """The built-in asyncio client (``workbook.bench.pyload``): slower, but everywhere."""

    name = "python"

    def command(self, url: str, connections: int, duration: float, paths: list[str]) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "workbook.bench.pyload",
            url,
            "--connections",
            str(connections),
            "--duration",
            str(duration),
        ]
        for path in paths:
            argv += ["--path", path]
        return argv

    def version(self) -> str:
        return f"workbook.bench.pyload on Python {sys.version.split()[0]}"


def find_client(prefer: str = "wrk") -> Client | None:
    """Return wrk if installed (or the Python client if ``prefer`` says so).

    None if wrk is missing.
    """
    if prefer == "python":
        return PythonClient()
    executable = shutil.which("wrk")
    return Wrk(executable) if executable else None

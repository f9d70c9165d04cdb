"""The framework's own cost per request, in process: no server, no socket, no client.

Each framework app of the ``asgi`` and ``wsgi`` scenarios is called directly
with a ready-made environ (or scope) for each endpoint, many times in a loop,
and the best loop's time per request is kept. What is left is exactly the
work the framework does per request (request object, routing, handler,
response object, serialisation), which the load test adds to the server's
own cost. Loops are timed in CPU seconds of this process (``process_time``),
so time spent waiting for a core on a busy machine is left out: this is
the number to read first when the throughput ratios look noisy.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import sys
import time
from collections.abc import Callable
from typing import Any

from workbook.bench.results import InprocessScenario, InprocessTarget
from workbook.bench.scenarios import ASGI, WSGI, Scenario
from workbook.stages import STAGES, activate


def wsgi_environ(path: str) -> dict[str, Any]:
    """Return the environ a server would build for ``GET path`` from wrk."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def asgi_scope(path: str) -> dict[str, Any]:
    """Return the scope a server would build for ``GET path`` from wrk."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def wsgi_loop(app: Callable[..., Any], path: str) -> Callable[[int], float]:
    """Return ``loop(n)``: call the WSGI app n times, consume and close each body."""
    template = wsgi_environ(path)
    statuses: list[str] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> None:
        statuses.append(status)

    def loop(number: int) -> float:
        started = time.process_time()
        for _ in range(number):
            environ = dict(template)
            environ["wsgi.input"] = io.BytesIO(b"")
            body = app(environ, start_response)
            try:
                for _chunk in body:
                    pass
            finally:
                if hasattr(body, "close"):
                    body.close()
        elapsed = time.process_time() - started
        if not statuses or not statuses[-1].startswith("200"):
            raise ValueError(f"GET {path} answered {statuses[-1:] or 'nothing'}, expected 200")
        return elapsed

    return loop


def asgi_loop(app: Callable[..., Any], path: str) -> Callable[[int], float]:
    """Return ``loop(n)``: run the ASGI app n times inside one event loop."""
    template = asgi_scope(path)
    request = {"type": "http.request", "body": b"", "more_body": False}
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def run(number: int) -> float:
        started = time.process_time()
        for _ in range(number):
            await app(dict(template), receive, send)
        return time.process_time() - started

    def loop(number: int) -> float:
        elapsed = asyncio.run(run(number))
        if not statuses or statuses[-1] != 200:
            raise ValueError(f"GET {path} answered {statuses[-1:] or 'nothing'}, expected 200")
        return elapsed

    return loop


def best_microseconds(loop: Callable[[int], float], budget: float, repeat: int) -> float:
    """Return the best time per call, in microseconds, of ``repeat`` loops of ``budget`` seconds."""
    number = 10
    elapsed = loop(number)
    while elapsed < budget / 10 and number < 1 << 22:
        number *= 4
        elapsed = loop(number)
    number = max(1, int(number * budget / max(elapsed, 1e-9)))
    return min(loop(number) for _ in range(repeat)) / number * 1e6


def measure(
    budget: float = 0.1, repeat: int = 3, scenarios: tuple[Scenario, ...] = (ASGI, WSGI)
) -> dict[str, InprocessScenario]:
    """Time every framework target on every endpoint; return each scenario's timings by key."""
    for stage in STAGES.values():
        activate(stage)  # the stage under test first, as the servers see it
    results: dict[str, InprocessScenario] = {}
    for scenario in scenarios:
        make_loop = asgi_loop if scenario is ASGI else wsgi_loop
        table: dict[str, InprocessTarget] = {}
        for target in scenario.targets:
            timed: dict[str, float] = {}
            try:
                module, _, name = target.app.partition(":")
                app = getattr(importlib.import_module(module), name)
                for endpoint in scenario.endpoints:
                    timed[endpoint.key] = best_microseconds(
                        make_loop(app, endpoint.path), budget, repeat
                    )
            except Exception as error:  # a missing or broken stage is reported, not fatal
                table[target.key] = InprocessTarget(
                    target.label, timed, f"{type(error).__name__}: {error}"
                )
                continue
            table[target.key] = InprocessTarget(target.label, timed)
        results[scenario.key] = InprocessScenario(
            title=scenario.title,
            baseline=scenario.baseline,
            endpoints=[endpoint.key for endpoint in scenario.endpoints],
            targets=table,
        )
    return results

"""Lifespan: startup hooks before the first request, shutdown hooks after the last.

In process through asgi-lifespan's LifespanManager, by hand with scripted
lifespan events, and under uvicorn and hypercorn for a startup that fails.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from bare import Bare, Request
from bare_helpers import BASE_URL, Channels

from workbook.stages import stage_dir, subprocess_env
from workbook.testing import free_port, server_argv, stop_process, venv_script, wait_for_port

pytestmark = pytest.mark.exercise("5.4")


def app_with_hooks(events: list[str]) -> Bare:
    """Return an app whose sync and async hooks, and one route, record into ``events``."""
    app = Bare()

    @app.on_startup
    def open_pool() -> None:
        events.append("sync startup")

    @app.on_startup
    async def warm_cache() -> None:
        await asyncio.sleep(0)
        events.append("async startup")

    @app.on_shutdown
    async def flush() -> None:
        events.append("async shutdown")

    @app.on_shutdown
    def close_pool() -> None:
        events.append("sync shutdown")

    @app.get("/")
    async def index(request: Request) -> dict:
        events.append("request")
        return {"ready": request.app.state.get("ready", False)}

    @app.on_startup
    def mark_ready() -> None:
        app.state["ready"] = True

    return app


def run_lifespan(app: Bare, *events: str) -> list[dict[str, Any]]:
    """Feed ``app`` lifespan events by type; return what it sent back."""
    channels = Channels([{"type": event} for event in events], after={"type": "lifespan.shutdown"})
    asyncio.run(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, channels.receive, channels.send)
    )
    return channels.sent


def test_hooks_run_in_order_around_requests() -> None:
    """Sync and async startup hooks run before requests, shutdown hooks after, in order."""
    events: list[str] = []
    app = app_with_hooks(events)

    async def session() -> dict:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                return (await client.get("/")).json()

    assert asyncio.run(session()) == {"ready": True}
    assert events == ["sync startup", "async startup", "request", "async shutdown", "sync shutdown"]


def test_startup_and_shutdown_complete_messages() -> None:
    """A clean lifespan answers startup.complete, then shutdown.complete."""
    assert run_lifespan(app_with_hooks([]), "lifespan.startup", "lifespan.shutdown") == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]


def failing_app() -> Bare:
    app = Bare()

    @app.on_startup
    async def connect() -> None:
        raise ConnectionError("database is down")

    return app


def test_failing_startup_hook_is_startup_failed_with_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A startup hook that raises is lifespan.startup.failed carrying the message, and logged."""
    assert run_lifespan(failing_app(), "lifespan.startup") == [
        {"type": "lifespan.startup.failed", "message": "database is down"}
    ]
    assert [record.exc_info is not None for record in caplog.records] == [True]


def test_every_shutdown_hook_runs_even_if_one_fails(caplog: pytest.LogCaptureFixture) -> None:
    """A failing shutdown hook is logged and reported; the hooks after it still run."""
    app, ran = Bare(), []

    @app.on_shutdown
    def broken() -> None:
        raise RuntimeError("flush failed")

    @app.on_shutdown
    def after() -> None:
        ran.append("after")

    sent = run_lifespan(app, "lifespan.startup", "lifespan.shutdown")
    assert sent[-1] == {
        "type": "lifespan.shutdown.failed",
        "message": "test_every_shutdown_hook_runs_even_if_one_fails.<locals>.broken: flush failed",
    }
    assert ran == ["after"]
    assert len(caplog.records) == 1


def test_example_app_announces_startup_and_shutdown(
    example: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The chapter's example app prints its startup and shutdown lines."""

    async def session() -> None:
        async with LifespanManager(example.app):
            pass

    asyncio.run(session())
    assert capsys.readouterr().out == "App started. Ready to serve.\nApp stopping. Cleaning up.\n"


FAILING_APP = """
from bare import Bare

app = Bare()


@app.on_startup
async def connect():
    raise ConnectionError("database is down")
"""


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
def test_server_refuses_to_start_when_startup_fails(server: str, tmp_path: Path) -> None:
    """Under uvicorn and hypercorn a failing startup hook makes the server exit with the message."""
    (tmp_path / "bare_failing_startup.py").write_text(FAILING_APP)
    port = free_port()
    if server == "uvicorn":
        argv = [
            venv_script("uvicorn"),
            "bare_failing_startup:app",
            "--app-dir",
            str(tmp_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    else:
        argv = server_argv("hypercorn", "bare_failing_startup:app", port)
    env = subprocess_env("05_bare")
    env["PYTHONPATH"] = f"{tmp_path}:{env['PYTHONPATH']}"
    process = subprocess.Popen(
        argv,
        cwd=stage_dir("05_bare"),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process=process)
    except RuntimeError as exited:  # it stopped before listening: what should happen
        output = str(exited)
    else:
        pytest.fail(f"{server} started listening although a startup hook failed")
    finally:
        stop_process(process)
        if process.stdout is not None:
            process.stdout.close()
    assert "database is down" in output
    # Both exit non-zero. (hypercorn's default of one spawned worker process would log the
    # failure and exit 0; server_argv runs it in one process, --workers 0, as the suites do.)
    assert process.returncode != 0

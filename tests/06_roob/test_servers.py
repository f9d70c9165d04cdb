"""The product API over real sockets: gunicorn (1 and 4 workers), the scripts, the dev server.

Every server runs in a child process on a free loopback port, in the stage
folder, with its own SQLite file, and is stopped by the test.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from workbook.stages import stage_dir, subprocess_env
from workbook.testing import (
    fetch,
    free_port,
    python_command,
    recording_client,
    stop_process,
    venv_script,
    wait_for_port,
)

STAGE = "06_roob"
READS = 50

S25 = {"id": 1, "product_name": "S25 Ultra", "brand": "Samsung", "category": "mobile"}
IPHONE = {"id": 2, "product_name": "iPhone", "brand": "Apple", "category": "mobile"}
MACBOOK = {"id": 3, "product_name": "Macbook Pro M4", "brand": "Apple", "category": "laptop"}
XPS = {"id": 4, "product_name": "Dell XPS", "brand": "Dell", "category": "laptop"}
GALAXY_TAB = {
    "id": 5,
    "product_name": "Galaxy Tab",
    "brand": "Samsung",
    "category": "uncategorized",
}

#: The chapter's "Testing the API" commands, in its order, plus its 404 and 405
#: examples, each with the status and JSON the chapter says it gives.
CHAPTER_COMMANDS = [
    (
        "curl http://localhost:8000/api/products",
        200,
        {"mobile": [S25, IPHONE], "laptop": [MACBOOK, XPS]},
    ),
    (
        "curl -X POST http://localhost:8000/api/products "
        "-H 'Content-Type: application/json' "
        """-d '{"id": 5, "product_name": "Galaxy Tab", "brand": "Samsung"}'""",
        200,
        [S25, IPHONE, MACBOOK, XPS, GALAXY_TAB],
    ),
    ("curl http://localhost:8000/api/products/1", 200, S25),
    ("curl -X DELETE http://localhost:8000/api/products/2", 200, [S25, MACBOOK, XPS, GALAXY_TAB]),
    ("curl http://localhost:8000/api/products/mobile", 200, [S25]),
    (
        "curl http://localhost:8000/api/invalid",
        404,
        {"message": "Requested path: /api/invalid does not exist"},
    ),
    (
        "curl -X PUT http://localhost:8000/api/products",
        405,
        {"message": "PUT request is not allowed for /api/products"},
    ),
]


@dataclass
class Server:
    """A server a test started: its base URL, and (once stopped) what it logged."""

    base: str
    log: str = ""


@contextlib.contextmanager
def serving(
    argv: list[str], port: int, folder: Path, database: Path | None = None, **env: str
) -> Iterator[Server]:
    """Run a server command in the stage folder until the block ends; keep its log.

    The server writes its output to ``folder/server.log``, not to a pipe: a
    server that logs a lot (a traceback per failing request) must never
    block on a pipe nobody reads while the test runs. ``database`` defaults
    to ``folder/products.db``.
    """
    database = database if database is not None else folder / "products.db"
    environment = subprocess_env(STAGE, ROOB_DB=str(database), **env)
    log_path = folder / "server.log"
    server = Server(f"http://127.0.0.1:{port}")
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            argv,
            cwd=stage_dir(STAGE),
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        try:
            wait_for_port(port, process=process)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}\n{log_path.read_text(errors='replace')}") from None
        yield server
    finally:
        stop_process(process)
        server.log = log_path.read_text(errors="replace")


def body_of(text: str) -> object:
    """Return a response body as JSON, or as the text itself when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def gunicorn(port: int, *options: str, app: str = "core.main:app") -> list[str]:
    """Return the gunicorn command line the chapter (and `make stage-6`) uses."""
    return [venv_script("gunicorn"), "--bind", f"127.0.0.1:{port}", *options, app]


def read_all(client: httpx.Client, path: str, count: int) -> list[int]:
    """GET a path ``count`` times, eight at a time, on fresh connections; return the statuses."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: client.get(path).status_code, range(count)))


def test_four_workers_share_one_database(tmp_path, sent):
    """Under 4 gunicorn workers, every read sees a create, and after a delete every read misses."""
    port = free_port()
    argv = gunicorn(
        port,
        "--workers",
        "4",
        "--access-logfile",
        "-",
        "--access-logformat",
        "served-by %(p)s %(s)s",
    )
    with serving(argv, port, tmp_path) as server:
        with recording_client(sent, base_url=server.base, timeout=10) as client:
            body = json.dumps(
                {"id": 50, "product_name": "Pixel 9", "brand": "Google", "category": "mobile"}
            )
            created = client.post(
                "/api/products", content=body, headers={"Content-Type": "application/json"}
            )
            assert created.status_code == 200
            after_create = read_all(client, "/api/products/50", READS)
            assert client.delete("/api/products/50").status_code == 200
            after_delete = read_all(client, "/api/products/50", READS)
    assert after_create == [200] * READS
    assert after_delete == [404] * READS
    log = server.log
    workers = set(re.findall(r"served-by <(\d+)>", log))
    assert len(workers) > 1, f"all requests were served by one worker: {workers}"


def test_the_chapter_curl_commands_under_make_stage_6(tmp_path):
    """`make stage-6`'s gunicorn command answers the chapter's curl commands as the chapter says."""
    port = free_port()
    curl = shutil.which("curl")
    with serving(gunicorn(port), port, tmp_path) as server:
        for command, status, expected in CHAPTER_COMMANDS:
            url_command = command.replace("http://localhost:8000", server.base)
            if curl is not None:
                argv = [
                    *shlex.split(url_command),
                    "--silent",
                    "--show-error",
                    "--write-out",
                    "\n%{http_code}",
                ]
                argv[0] = curl
                done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True)
                text, _, code = done.stdout.rpartition("\n")
                got = (int(code), body_of(text))
            else:  # no curl on this machine: send the same request with httpx
                got = send_like_curl(url_command)
            assert got == (status, expected), f"$ {url_command}"


def send_like_curl(command: str) -> tuple[int, object]:
    """Send the request a simple curl command line describes (-X, -H, -d) with httpx."""
    words = shlex.split(command)[1:]
    method, headers, data, url = "GET", {}, None, ""
    while words:
        word = words.pop(0)
        if word == "-X":
            method = words.pop(0)
        elif word == "-H":
            name, _, value = words.pop(0).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data, method = words.pop(0), "POST" if method == "GET" else method
        else:
            url = word
    response = fetch(method, url, headers=headers, content=data, timeout=10)
    return response.status_code, body_of(response.text)


def test_the_config_file_serves_exception_handler_middleware(tmp_path):
    """`gunicorn -c gunicorn_config.py core.main:exception_handler_middleware` serves the API."""
    port = free_port()
    argv = [
        venv_script("gunicorn"),
        "-c",
        "gunicorn_config.py",
        "core.main:exception_handler_middleware",
    ]
    with serving(argv, port, tmp_path, ROOB_BIND=f"127.0.0.1:{port}", ROOB_WORKERS="2") as server:
        response = fetch("GET", f"{server.base}/api/products/mobile", timeout=10)
    assert (response.status_code, body_of(response.text)) == (200, [S25, IPHONE])


def test_a_failure_is_a_generic_500_and_a_logged_traceback(tmp_path):
    """Under gunicorn (config file) a failing request gets a generic 500, the log its traceback."""
    port = free_port()
    unusable = tmp_path / "a-directory"
    unusable.mkdir()
    argv = [venv_script("gunicorn"), "-c", "gunicorn_config.py", "core.main:app"]
    with serving(
        argv, port, tmp_path, database=unusable, ROOB_BIND=f"127.0.0.1:{port}", ROOB_WORKERS="1"
    ) as server:
        response = fetch("GET", f"{server.base}/api/products", timeout=10)
    assert (response.status_code, body_of(response.text)) == (
        500,
        {"message": "Internal server error"},
    )
    log = server.log
    assert "Unhandled exception while serving GET /api/products" in log
    assert "Traceback" in log and "sqlite3.OperationalError" in log


def test_run_gunicorn_sh_production(tmp_path):
    """./run_gunicorn.sh production starts the API with the config file's settings."""
    port = free_port()
    argv = ["bash", "run_gunicorn.sh", "production"]
    with serving(argv, port, tmp_path, ROOB_BIND=f"127.0.0.1:{port}", ROOB_WORKERS="2") as server:
        response = fetch("GET", f"{server.base}/api/products/1", timeout=10)
    assert (response.status_code, body_of(response.text)) == (200, S25)


def test_run_gunicorn_sh_needs_a_mode():
    """./run_gunicorn.sh without development|production prints its usage and fails."""
    done = subprocess.run(
        ["bash", "run_gunicorn.sh"],
        cwd=stage_dir(STAGE),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 2
    assert "usage:" in done.stderr


@pytest.mark.parametrize("debug", [False, True])
def test_run_server_py_serves_the_api_on_the_standard_library(tmp_path, debug):
    """python run_server.py serves the API on the standard library's server."""
    port = free_port()
    argv = python_command("run_server.py", "--port", str(port), *(["--debug"] if debug else []))
    with serving(argv, port, tmp_path) as server:
        listed = fetch("GET", f"{server.base}/api/products", timeout=10)
        missing = fetch("GET", f"{server.base}/api/products/99", timeout=10)
    assert (listed.status_code, body_of(listed.text)) == (
        200,
        {"mobile": [S25, IPHONE], "laptop": [MACBOOK, XPS]},
    )
    assert body_of(missing.text) == {"message": "No product found with product id 99"}

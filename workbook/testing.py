"""Helpers the stage suites share: free ports, real servers in child processes, curl lines.

Tests start real servers (the stages' own, gunicorn, uvicorn, hypercorn) on
loopback ports and talk to them with real clients. These helpers keep that
to one line in a test and make sure every server is stopped afterwards:
:func:`server_argv` names the command of each server, :func:`serving` runs
one for the stage under test, :func:`served` does both on a free port.

A request a test sends is recorded as it is sent (:func:`recording_client`),
so the grader can show a failure's request as a curl command
(:func:`curl_command`) without the test writing the request twice.

A server does some of its work after the client has the response: it
writes the access line, logs what the app did wrong after the last byte,
commits, closes. A test that asserts on such a side effect the moment the
response arrives races the server, so it waits for it instead, bounded:
:func:`wait_until` (any condition) and :func:`wait_for_text` (a log, a
file, a process's output). Better still, it waits for an event that comes
in a right and in a wrong implementation alike (the server finished the
connection, the process exited, the server answered the socket:
:func:`wait_for_app`), then asserts the side effect once: a learner's
unfinished stage then fails at once instead of after the whole bound.

The tests' HTTP clients share one TLS context (:func:`loopback_client`,
:func:`fetch`): httpx loads the CA bundle for every client it makes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import select
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

from workbook.stages import stage_dir, subprocess_env

if TYPE_CHECKING:  # httpx is a test dependency; the benchmarks import this module without it
    import httpx

LOOPBACK = "127.0.0.1"
#: How long a test waits for a side effect before it fails (seconds). Generous,
#: because a loaded CI machine is slow; a test that passes returns at once.
SIDE_EFFECT_TIMEOUT = 10.0
#: How long a test waits for a server process to listen, or to exit when it must
#: refuse to start (seconds). Starting a server imports its whole stack: at a load
#: average of 20 on two cores hypercorn took over 10 s, so the bound is wide; it
#: is only reached when something is wrong.
STARTUP_TIMEOUT = 60.0

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


def wait_for_app(
    sock: socket.socket,
    reached: Callable[[], object],
    *,
    what: str = "the app to have the request",
    timeout: float = SIDE_EFFECT_TIMEOUT,
) -> None:
    """Wait until ``reached()`` is true, or fail at once when the server answers ``sock`` instead.

    For a test that sent a request the app must hold on to (it waits for
    more body, or for a signal from the test) and then checks what happens
    while the app works. While the app works, the server sends nothing on
    that connection; a server that answers or closes before the app has the
    request (a 400, a 500 from an unfinished part) makes ``sock`` readable.
    That is the event that comes in a right and a wrong server alike, so a
    wrong one fails now, with what it sent, instead of after ``timeout`` s.
    Raise AssertionError naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while not reached():
        readable, _, _ = select.select([sock], [], [], 0.01)
        if readable and not reached():
            try:
                early: object = sock.recv(65536, socket.MSG_PEEK) or "it closed the connection"
            except OSError as error:
                early = error
            raise AssertionError(f"waiting for {what}, the server answered: {early!r:.300}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(
    port: int,
    host: str = LOOPBACK,
    timeout: float = STARTUP_TIMEOUT,
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
    timeout: float = STARTUP_TIMEOUT,
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


# ── wsgiref's server in a thread ─────────────────────────────────────────────

#: How often (seconds) wsgiref's serve_forever looks for a shutdown request. Its
#: default, 0.5 s, is how long every shutdown() waits: the loop cannot be woken.
WSGIREF_POLL_INTERVAL = 0.02


@contextlib.contextmanager
def wsgiref_serving(app: Callable[..., Iterable[bytes]]) -> Iterator[tuple[str, int]]:
    """Serve ``app`` with ``wsgiref.simple_server`` in a thread on a free loopback port.

    Yield ``(host, port)``; stop the server when the block ends. The
    standard library's reference server, without its access log on stderr.
    """
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = make_server(LOOPBACK, 0, app, handler_class=Quiet)
    thread = threading.Thread(
        target=server.serve_forever, args=(WSGIREF_POLL_INTERVAL,), name="wsgiref", daemon=True
    )
    thread.start()
    try:
        yield LOOPBACK, server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


# ── Clients for the servers under test ───────────────────────────────────────


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Return the one TLS context that every test client shares (httpx's ``verify=``).

    httpx builds a context for each client it makes, loading the whole CA
    bundle: 0.1 to 0.3 s of CPU per client, for tests that speak plain HTTP
    to loopback. ``httpx.get(url)`` makes a client per call, so a suite paid
    that tens of times; the tests' clients take this one instead.
    """
    return ssl.create_default_context()


def loopback_client(**options: Any) -> httpx.Client:
    """Return ``httpx.Client(**options)`` on the shared :func:`tls_context`."""
    import httpx

    options.setdefault("verify", tls_context())
    return httpx.Client(**options)


def fetch(method: str, url: str, *, timeout: float = 5.0, **options: Any) -> httpx.Response:
    """Send one request as ``httpx.request(method, url, **options)`` does, on the shared context.

    A client of its own, closed after the response is read; ``timeout`` in
    seconds (httpx's default, 5 s); ``options`` are ``Client.request``'s
    (``headers``, ``content``, ``json``, ``follow_redirects``, ...).
    """
    with loopback_client(timeout=timeout) as client:
        return client.request(method, url, **options)


# ── Recording the requests a test sends ──────────────────────────────────────


class RequestLog(Protocol):
    """The ``sent`` fixture (workbook/pytest_plugin.py): record one request for the grader.

    Returns the request as a curl command (:func:`curl_command`).
    """

    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        body: bytes | str | None = None,
    ) -> str: ...


#: Header fields a client adds to every request by itself; curl adds its own.
ADDED_BY_CLIENT = frozenset({"host", "content-length"})
#: A body longer than this (bytes) is shown by its size: a curl line stays readable.
BODY_SHOWN_LIMIT = 4096


def record_request(sent: RequestLog, request: httpx.Request, defaults: httpx.Headers) -> str:
    """Record an httpx request with ``sent`` the moment it is sent; return the curl line.

    The header lines recorded are the ones the test chose: Host and
    Content-Length, and a client default sent unchanged (``defaults``, the
    client's own ``headers``), are left out, since curl sends its own. A
    body over :data:`BODY_SHOWN_LIMIT` bytes is shown as ``<N bytes>``, a
    streamed one as ``<streamed body>``.
    """
    import httpx

    lines = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
    ]
    chosen = [
        (name, value)
        for name, value in lines  # as the test wrote them: its case, repeats kept apart
        if name.lower() not in ADDED_BY_CLIENT and defaults.get(name) != value
    ]
    try:
        body = shown_body(request.content)
    except httpx.RequestNotRead:
        body = "<streamed body>"
    return sent(request.method, str(request.url), headers=chosen, body=body)


def shown_body(body: bytes) -> bytes | str | None:
    """Return a request body as a curl line shows it: None if empty, its size if long.

    >>> shown_body(b""), shown_body(b"hi"), shown_body(b"x" * 5000)
    (None, b'hi', '<5000 bytes>')
    """
    if len(body) > BODY_SHOWN_LIMIT:
        return f"<{len(body)} bytes>"
    return body or None


def recording_client(sent: RequestLog, **options: object) -> httpx.Client:
    """Return an ``httpx.Client(**options)`` that records each request with ``sent`` as it goes.

    This is how a test says a request once: the client it sends with
    writes the record (an httpx ``request`` event hook, run just before the
    request goes out), so the grader's curl line is the request the test
    really sent. Close it (``with``) as any client.
    """
    import httpx

    client = loopback_client(**options)
    defaults = httpx.Headers(client.headers)

    def record(request: httpx.Request) -> None:
        record_request(sent, request, defaults)

    client.event_hooks = {"request": [record], "response": []}
    return client


def recording_async_client(sent: RequestLog, **options: object) -> httpx.AsyncClient:
    """Return an ``httpx.AsyncClient(**options)`` that records each request with ``sent``.

    The async twin of :func:`recording_client`, for apps called in process
    through ``httpx.ASGITransport``.
    """
    import httpx

    client = httpx.AsyncClient(**options)  # type: ignore[arg-type]
    defaults = httpx.Headers(client.headers)

    async def record(request: httpx.Request) -> None:
        record_request(sent, request, defaults)

    client.event_hooks = {"request": [record], "response": []}
    return client


# ── Servers for a stage's apps, in child processes ───────────────────────────

#: The WSGI servers stages 02 and 03 run on: stage 01's own (``rawwsgi.server``) and gunicorn.
WSGI_SERVERS = ("own", "gunicorn")
#: The ASGI servers stage 04 runs on: its own (``rawasgi.server``), uvicorn and hypercorn.
ASGI_SERVERS = ("rawasgi", "uvicorn", "hypercorn")


def server_argv(server: str, spec: str, port: int) -> list[str]:
    """Return the command that serves ``spec`` (``"module:app"``) on loopback ``port``.

    ``server`` is one of :data:`WSGI_SERVERS` or :data:`ASGI_SERVERS`; the
    servers log warnings only (no access lines), except stage 01's own,
    which has no such switch. Raise ValueError for any other name.

    gunicorn runs one worker; hypercorn serves in its own process
    (``--workers 0``): with a worker count of 1 it spawns a second Python
    that imports hypercorn and the app again, about 0.3 s of CPU for each
    server a test starts, to serve with the same code.

    >>> server_argv("hypercorn", "example_app:app", 8000)[1:]
    ['example_app:app', '--bind', '127.0.0.1:8000', '--workers', '0']
    """
    if server == "own":
        return python_command("-m", "rawwsgi.server", spec, "--host", LOOPBACK, "--port", str(port))
    if server == "gunicorn":
        return [
            venv_script("gunicorn"),
            "--bind",
            f"{LOOPBACK}:{port}",
            "--workers",
            "1",
            "--no-control-socket",
            spec,
        ]
    if server == "rawasgi":
        return python_command(
            "-m",
            "rawasgi.server",
            spec,
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--log-level",
            "warning",
        )
    if server == "uvicorn":
        return [
            venv_script("uvicorn"),
            spec,
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    if server == "hypercorn":
        return [venv_script("hypercorn"), spec, "--bind", f"{LOOPBACK}:{port}", "--workers", "0"]
    raise ValueError(f"unknown server {server!r}: use one of {WSGI_SERVERS + ASGI_SERVERS}")


@contextlib.contextmanager
def serving(
    stage: int | str, argv: Sequence[str], port: int, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` for the stage under test until the block ends (see :func:`server_process`).

    The server starts in the stage's folder with that folder first on its
    ``PYTHONPATH`` (``workbook.stages.subprocess_env``, plus ``env``), so it
    serves the copy under test: the reference, or a learner's copy.
    """
    with server_process(
        argv, port, cwd=stage_dir(stage), env=subprocess_env(stage, **env)
    ) as process:
        yield process


@contextlib.contextmanager
def served(stage: int | str, server: str, spec: str) -> Iterator[str]:
    """Serve ``spec`` of the stage under test with ``server`` on a free port; yield its base URL.

    >>> with served("04_asgi", "uvicorn", "rawasgi.apps:app") as url:  # doctest: +SKIP
    ...     httpx.get(url)
    """
    port = free_port()
    with serving(stage, server_argv(server, spec, port), port):
        yield f"http://{LOOPBACK}:{port}"


def early_response(
    url: str,
    method: str,
    headers: Sequence[tuple[str, str]],
    body_start: bytes = b"",
    *,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """Send a request head and the start of its body; return the response's status and body.

    For a server expected to answer before the request ends: a body refused
    from its Content-Length, or once it passed a limit. ``body_start`` is
    sent as it is (raw, already framed) and holds only what the server is
    sure to read, never more. A server that closes with request bytes
    unread in its socket makes the kernel send RST, which may destroy a
    response still in flight (RFC 9112 §9.6 asks for a lingering close; not
    every server lingers). Sending nothing unread keeps a test about the
    app, not about the server's close.

    ``url`` is ``http://host:port/path``; ``headers`` need not name Host.
    The head is written and the response parsed by h11, so the response's
    framing is checked too. Raises ``TimeoutError`` after ``timeout``
    seconds without a whole response, ``h11.RemoteProtocolError`` for a
    malformed one.
    """
    import h11

    parts = urlsplit(url)
    client = h11.Connection(h11.CLIENT)
    head = client.send(
        h11.Request(
            method=method,
            target=parts.path or "/",
            headers=[("Host", parts.netloc), *headers],
        )
    )
    status, body = 0, bytearray()
    deadline = time.monotonic() + timeout
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall((head or b"") + body_start)
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                client.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return status, bytes(body)

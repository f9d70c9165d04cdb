"""Trace one request through an app: in process, or over a real socket.

:class:`Tracer` holds an app (WSGI or ASGI), the layer table that says how
to show its code, and a :class:`Recorder`. ``tracer.trace("GET", "/x")``
plays the server in process; ``with tracer.serve() as server:`` starts a
real server in a thread on a free loopback port, and ``server.trace(...)``
sends bytes from a client socket and records both sides.

In process, a WSGI request runs in a thread of its own with the recorder
installed, so nothing is left installed in the caller's thread (a notebook
kernel's, for one). ASGI requests run on one event loop in a thread of its
own, as under a server: the app's lifespan starts before the first request
and shuts down at ``tracer.close()``, and it works even where the caller
already runs an event loop (a notebook does).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TextIO, TypeVar

from workbook.tracer.asgi import ASGIProbe, call_asgi
from workbook.tracer.http import Exchange, HeaderPairs, Request, Response, exchange, parse_response
from workbook.tracer.layers import LayerTable
from workbook.tracer.model import CLIENT, SERVER, WIRE, Step, Trace
from workbook.tracer.recorder import Recorder
from workbook.tracer.resolve import missing_layers
from workbook.tracer.servers import SERVERS, ServerHandle
from workbook.tracer.wsgi import WSGIProbe, call_wsgi

T = TypeVar("T")

PROTOCOLS = ("wsgi", "asgi")


class Tracer:
    """Trace requests to one WSGI or ASGI app, shown by one layer table."""

    def __init__(
        self,
        app: Any,
        table: LayerTable,
        *,
        protocol: str,
        stage: str = "app",
        server: str | Callable[[Any, str, int], ServerHandle] | None = None,
        lifespan: bool = True,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
        self.app = app
        self.table = table
        self.protocol = protocol
        self.stage = stage
        self.server = server or ("wsgiref" if protocol == "wsgi" else "uvicorn")
        self.lifespan = lifespan
        self.recorder = Recorder(table)
        #: The table's patterns that name no function of the code as it is
        #: now (a stage copy that renamed one): every trace lists them.
        self.missing_layers = missing_layers(table.layers)
        self._event_loop: EventLoopThread | None = None

    # ── In process ───────────────────────────────────────────────────────

    def trace(
        self,
        method: str = "GET",
        target: str = "/",
        *,
        headers: HeaderPairs = (),
        body: bytes | str | None = None,
        json: Any = None,
    ) -> Trace:
        """Send one request in process and return its trace."""
        return self.trace_request(
            Request.make(method, target, headers=headers, body=body, json=json)
        )

    def trace_request(self, request: Request) -> Trace:
        """Trace a :class:`Request` in process: this tracer plays the server.

        What the app prints meanwhile (an access-log line) is kept in
        ``trace.printed`` and shown under the timeline, not mixed into the
        caller's output (a notebook's stderr box).
        """
        if self.protocol == "asgi":
            self._loop()  # the lifespan's start-up lines are not this request's
        with silenced() as output:
            trace = self._trace_in_process(request)
        trace.printed = output.getvalue()
        return trace

    def _trace_in_process(self, request: Request) -> Trace:
        if self.protocol == "wsgi":
            probe = WSGIProbe(self.app, self.recorder)

            def work() -> tuple[int, list[tuple[str, str]], bytes]:
                environ = request.environ()
                self.recorder.arm()
                status, headers, body = call_wsgi(probe, environ)
                return int(status.split()[0]), headers, body

            status, headers, body = run_in_thread(self.recorder, work)
            steps = self.recorder.disarm()
            return self._build(
                request, "in process", steps, status, headers, body, environ=probe.environ
            )
        probe_asgi = ASGIProbe(self.app, self.recorder)
        scope = request.scope()
        loop = self._loop()  # started (and the lifespan run) before recording begins
        self.recorder.arm()
        try:
            status, headers, body = loop.run(call_asgi(probe_asgi, scope, request.body))
        finally:
            steps = self.recorder.disarm()
        return self._build(
            request,
            "in process",
            steps,
            status,
            headers,
            body,
            scope=probe_asgi.scope,
            messages=probe_asgi.messages,
        )

    def send(
        self,
        method: str = "GET",
        target: str = "/",
        *,
        headers: HeaderPairs = (),
        body: bytes | str | None = None,
        json: Any = None,
        quiet: bool = True,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request in process without tracing it: (status, headers, body).

        Use it to warm up (the first request of a process imports, caches
        and, in stage 06, creates the database) or to set up state. What
        the app prints meanwhile (an access-log line, a startup message)
        is dropped unless ``quiet=False``: a warm-up is not part of the story.
        """
        request = Request.make(method, target, headers=headers, body=body, json=json)
        with silenced() if quiet else contextlib.nullcontext():
            if self.protocol == "wsgi":
                status, response_headers, data = call_wsgi(
                    WSGIProbe(self.app, self.recorder), request.environ()
                )
                return int(status.split()[0]), response_headers, data
            probe = ASGIProbe(self.app, self.recorder)
            return self._loop().run(call_asgi(probe, request.scope(), request.body))

    def _loop(self) -> EventLoopThread:
        """Return the event loop of the in-process ASGI requests, started on first use.

        Like a server, it runs the app's lifespan startup once, before the
        first request, and its shutdown when the tracer is closed.
        """
        if self._event_loop is None:
            self._event_loop = EventLoopThread(self.recorder, self.app if self.lifespan else None)
        return self._event_loop

    def close(self) -> None:
        """Run the ASGI app's lifespan shutdown and stop the in-process event loop."""
        if self._event_loop is not None:
            self._event_loop.close()
            self._event_loop = None

    def __enter__(self) -> Tracer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ── Over a socket ────────────────────────────────────────────────────

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[LiveServer]:
        """Run the app under a real server in a thread until the block ends."""
        with LiveServer(self, host, port) as live:
            yield live

    def start_server(self, host: str = "127.0.0.1", port: int = 0) -> LiveServer:
        """Start the app under a real server in a thread; call ``stop()`` when done.

        For a notebook, where the server lives across cells; elsewhere
        prefer ``with tracer.serve() as server:``.
        """
        return LiveServer(self, host, port).__enter__()

    # ── Assembling the trace ─────────────────────────────────────────────

    def _build(
        self,
        request: Request,
        transport: str,
        steps: list[Step],
        status: int | None,
        headers: list[tuple[str, str]],
        body: bytes,
        **extra: Any,
    ) -> Trace:
        ordered = renumber(steps)
        trace = Trace(
            stage=self.stage,
            method=request.method,
            target=request.target,
            transport=transport,
            steps=ordered,
            status=status,
            response_headers=list(headers),
            response_body=body,
            missing_layers=list(self.missing_layers),
            **extra,
        )
        used = trace.lane_order()
        trace.lanes = [self.recorder.lanes[name] for name in used if name in self.recorder.lanes]
        trace.total = max(
            (step.end if step.end is not None else step.start for step in ordered), default=0.0
        )
        return trace


class LiveServer:
    """A real server running a tracer's app in a thread, on a loopback port."""

    def __init__(self, tracer: Tracer, host: str, port: int) -> None:
        self.tracer = tracer
        self.recorder = tracer.recorder
        probe_class = WSGIProbe if tracer.protocol == "wsgi" else ASGIProbe
        self.probe = probe_class(tracer.app, tracer.recorder)
        factory = SERVERS[tracer.server] if isinstance(tracer.server, str) else tracer.server
        # A server may keep the stream it saw when built (stage 01's environ
        # holds sys.stderr as wsgi.errors): it gets relays, which write where
        # the moment says: a trace's capture, or the streams of the caller.
        self.stdout, self.stderr = Relay(sys.stdout), Relay(sys.stderr)
        with self.relayed(io.StringIO()):
            self.handle: ServerHandle = factory(self.probe, host, port)
        self._thread: threading.Thread | None = None
        self._previous_trace: Any = None

    @property
    def host(self) -> str:
        return self.handle.address[0]

    @property
    def port(self) -> int:
        return self.handle.address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LiveServer:
        # Threads the server starts per connection inherit the trace
        # function from threading.settrace; it records only while armed.
        self._previous_trace = threading.gettrace()
        threading.settrace(self.recorder.hook)
        self._thread = threading.Thread(
            target=self.recorder.run_in_thread(self.handle.serve),
            name=f"{self.handle.name} (traced)",
            daemon=True,
        )
        self._thread.start()
        try:
            # The server's and the app's start-up lines (a lifespan's print) are dropped.
            with self.relayed(io.StringIO()):
                self.handle.wait_ready(15.0)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @contextlib.contextmanager
    def relayed(self, sink: io.StringIO) -> Iterator[io.StringIO]:
        """Send the server's and the app's output into ``sink`` until the block ends."""
        self.stdout.sink = self.stderr.sink = sink
        try:
            with contextlib.redirect_stdout(self.stdout), contextlib.redirect_stderr(self.stderr):
                yield sink
        finally:
            self.stdout.sink = self.stderr.sink = None

    def stop(self) -> None:
        """Stop the server and wait for its thread to end."""
        self.__exit__(None, None, None)

    def __exit__(self, *exc_info: object) -> None:
        if self._thread is None:
            return  # stopped already
        try:
            self.handle.stop()
            self._thread.join(timeout=10)
            close = getattr(self.handle, "close", None)
            if close is not None:  # a server that owns a socket or file beyond serve()
                close()
        finally:
            self._thread = None
            threading.settrace(self._previous_trace)

    def trace(
        self,
        method: str = "GET",
        target: str = "/",
        *,
        headers: HeaderPairs = (),
        body: bytes | str | None = None,
        json: Any = None,
    ) -> Trace:
        """Send one request over a socket and return the trace of both sides."""
        request = Request.make(method, target, headers=headers, body=body, json=json)
        return self.trace_request(request)

    def trace_request(self, request: Request) -> Trace:
        """Trace a :class:`Request` sent as bytes to the live server."""
        return self._trace_exchange(request, request.raw(f"{self.host}:{self.port}"))

    def trace_bytes(self, data: bytes) -> Trace:
        """Send any bytes at all (a malformed request, say) and trace what the server does."""
        line = data.partition(b"\r\n")[0]
        request = Request("bytes", repr(line), [], b"")
        return self._trace_exchange(request, data)

    def _trace_exchange(self, request: Request, data: bytes) -> Trace:
        recorder = self.recorder
        with self.relayed(io.StringIO()) as output:
            recorder.arm()
            try:
                result = exchange(self.host, self.port, data, clock=recorder.clock)
                # The server may still be closing the connection: let its calls end.
                idle = recorder.wait_idle(timeout=10.0)
            finally:
                steps = recorder.disarm()
        steps = steps + wire_steps(recorder, result, len(steps))
        try:
            response = parse_response(result.received)
        except ValueError:  # the server closed without a (whole) response
            response = Response(0, "", [], b"")
        extra: dict[str, Any]
        if isinstance(self.probe, WSGIProbe):  # the tracer's protocol is "wsgi"
            extra = {"environ": self.probe.environ}
        else:
            extra = {"scope": self.probe.scope, "messages": self.probe.messages}
        # A call still open after the wait is shown unfinished; the transport says so,
        # so a trace under heavy load never loses its last steps silently.
        transport = f"socket, {self.handle.name}" + (
            "" if idle else ", calls still open after 10 s"
        )
        trace = self.tracer._build(
            request,
            transport,
            steps,
            response.status or None,
            response.headers,
            response.body,
            request_bytes=result.sent,
            response_bytes=result.received,
            **extra,
        )
        trace.printed = output.getvalue()
        return trace

    def send(
        self,
        method: str = "GET",
        target: str = "/",
        *,
        headers: HeaderPairs = (),
        body: bytes | str | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request without tracing it; return the parsed response."""
        request = Request.make(method, target, headers=headers, body=body, json=json)
        result = exchange(self.host, self.port, request.raw(f"{self.host}:{self.port}"))
        return parse_response(result.received)


def wire_steps(recorder: Recorder, result: Exchange, first: int) -> list[Step]:
    """Return the two wire steps of an exchange: the request out, the response back."""
    head = result.sent.partition(b"\r\n")[0].decode("latin-1")
    status_line = result.received.partition(b"\r\n")[0].decode("latin-1")
    return [
        Step(
            index=first,
            kind=WIRE,
            lane=SERVER,
            source=CLIENT,
            title="request bytes",
            detail=f"{len(result.sent)} B  {head}",
            start=recorder.elapsed(result.connect_at),
            end=recorder.elapsed(result.sent_at),
            thread="client",
            data={"bytes": result.sent},
        ),
        Step(
            index=first + 1,
            kind=WIRE,
            lane=CLIENT,
            source=SERVER,
            title="response bytes",
            detail=f"{len(result.received)} B  {status_line}",
            start=recorder.elapsed(result.first_byte_at),
            end=recorder.elapsed(result.done_at),
            thread="client",
            data={"bytes": result.received},
        ),
    ]


def renumber(steps: list[Step]) -> list[Step]:
    """Sort steps by start time and renumber them, keeping parents right."""
    ordered = sorted(steps, key=lambda step: (step.start, step.index))
    new_index = {step.index: position for position, step in enumerate(ordered)}
    for position, step in enumerate(ordered):
        step.index = position
        if step.parent is not None:
            step.parent = new_index.get(step.parent)
    return ordered


def run_in_thread(recorder: Recorder, work: Callable[[], Any]) -> Any:
    """Run ``work`` in a new thread with the recorder installed; return its result."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            outcome["error"] = error

    thread = threading.Thread(target=recorder.run_in_thread(target), name="traced request")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class EventLoopThread:
    """One event loop, in a thread of its own, for the in-process ASGI requests.

    The recorder is installed in the thread; it records only while armed.
    ``app``, if given, gets its lifespan startup now and its shutdown at
    ``close()``, as under a server.
    """

    def __init__(self, recorder: Recorder, app: Any = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=recorder.run_in_thread(self._run), name="traced event loop", daemon=True
        )
        self._thread.start()
        self._lifespan = lifespan(app, enabled=app is not None)
        self.run(self._lifespan.__aenter__())

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the loop and return its result (or raise its error)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        """Shut the app's lifespan down, then stop the loop and its thread."""
        try:
            self.run(self._lifespan.__aexit__(None, None, None))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()


@contextlib.asynccontextmanager
async def lifespan(app: Any, *, enabled: bool = True) -> Any:
    """Run the app's lifespan startup before the block and its shutdown after.

    An app that does not speak lifespan (it raises, or returns) is run
    without it, as the ASGI spec lets a server do.
    """
    if not enabled:
        yield
        return
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await to_app.get()

    async def send(message: dict[str, Any]) -> None:
        await from_app.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, receive, send))
    supported = await _lifespan_step(task, to_app, from_app, "startup")
    try:
        yield
    finally:
        if supported:
            await _lifespan_step(task, to_app, from_app, "shutdown")
        if not task.done():
            task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def _lifespan_step(
    task: asyncio.Future[Any],
    to_app: asyncio.Queue[dict[str, Any]],
    from_app: asyncio.Queue[dict[str, Any]],
    phase: str,
) -> bool:
    """Send ``lifespan.<phase>`` and wait for the answer; False if unsupported."""
    await to_app.put({"type": f"lifespan.{phase}"})
    answer = asyncio.ensure_future(from_app.get())
    done, _ = await asyncio.wait({task, answer}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if answer in done:
        message = answer.result()
        if message["type"] == f"lifespan.{phase}.failed":
            raise RuntimeError(f"lifespan {phase} failed: {message.get('message', '')}")
        return True
    answer.cancel()
    return False


class Relay(io.TextIOBase):
    """A text stream that writes to its ``sink`` while one is set, else to ``default``.

    Code that keeps a stream object (a server's ``wsgi.errors``, a logging
    handler made at start-up) is given a relay, so its lines can still be
    captured later, one traced request at a time.
    """

    def __init__(self, default: TextIO) -> None:
        super().__init__()
        self.default = default
        self.sink: TextIO | None = None

    def write(self, text: str) -> int:
        return (self.sink or self.default).write(text)

    def flush(self) -> None:
        (self.sink or self.default).flush()


class Captured(io.StringIO):
    """Text written to stdout or stderr while :func:`silenced` was active."""


@contextlib.contextmanager
def silenced() -> Iterator[Captured]:
    """Send what anything prints to ``sys.stdout`` or ``sys.stderr`` into a buffer.

    An app's own output (bare's startup message, stage 03's access-log
    line on ``wsgi.errors``) would otherwise land before or inside a
    trace. Both streams are looked up at print time, so this catches every
    thread that prints meanwhile; a ``logging`` handler that holds the
    original stream keeps writing to it.
    """
    captured = Captured()
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        yield captured

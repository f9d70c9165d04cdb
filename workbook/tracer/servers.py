"""Run a real server in a thread of this process, so the tracer can follow it.

A request traced "over a socket" travels as bytes from a client socket to
a server listening on loopback, which builds the environ or scope itself.
Running that server in a thread of the tracing process (rather than a
child process) lets the recorder follow the server's own code too.

Each server here has the same small shape: ``address`` (host, port) once
bound, ``serve()`` which blocks in the server thread, and ``stop()``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class ServerHandle(Protocol):
    """What the tracer needs from a server it runs in a thread."""

    name: str
    address: tuple[str, int]

    def serve(self) -> None: ...

    def stop(self) -> None: ...

    def wait_ready(self, timeout: float) -> None: ...


class RawWSGIServer:
    """Stage 01's hand-written WSGI server (``rawwsgi.server.WSGIServer``)."""

    name = "rawwsgi.server.WSGIServer"

    def __init__(self, app: Any, host: str, port: int) -> None:
        from rawwsgi.server import WSGIServer  # stage 01, on the path of every WSGI stage

        self._server = WSGIServer(app, host, port)
        self.address: tuple[str, int] = self._server.server_address

    def serve(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()

    def wait_ready(self, timeout: float) -> None:
        return None  # the socket listens from construction on


class WSGIRefServer:
    """The standard library's ``wsgiref`` server, quiet (for apps of your own)."""

    name = "wsgiref.simple_server"

    def __init__(self, app: Any, host: str, port: int) -> None:
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = make_server(host, port, app, handler_class=QuietHandler)
        # socketserver types an address loosely (a tuple of any length, or a str);
        # an AF_INET server's is (host, port).
        self.address: tuple[str, int] = self._server.server_address[:2]  # type: ignore[assignment]

    def serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_ready(self, timeout: float) -> None:
        return None


class GunicornServer:
    """gunicorn's sync worker (what ``gunicorn module:app`` runs), serving in a thread.

    ``gunicorn`` starts an arbiter process that forks workers; each sync
    worker accepts one connection at a time and calls
    ``SyncWorker.accept`` -> ``handle`` -> its request parser ->
    ``wsgi.create`` (the environ) -> the app -> ``Response.write``. Here one
    real ``SyncWorker`` runs that same code in a thread of this process,
    without the arbiter and the fork, so the tracer can follow it.
    """

    name = "gunicorn SyncWorker"

    def __init__(self, app: Any, host: str, port: int) -> None:
        from gunicorn.config import Config
        from gunicorn.glogging import Logger
        from gunicorn.workers.sync import SyncWorker

        self._listener = socket.create_server((host, port))
        self.address: tuple[str, int] = tuple(self._listener.getsockname())[:2]
        config = Config()
        # No gunicorn application object (None): the worker gets its WSGI app below.
        self.worker = SyncWorker(
            1,
            os.getpid(),
            [self._listener],
            None,  # type: ignore[arg-type]
            30,
            config,
            Logger(config),
        )
        self.worker.wsgi = app  # what Worker.load_wsgi() sets after the fork
        self._stopping = threading.Event()

    def serve(self) -> None:
        # What SyncWorker.run_for_one does, less the arbiter's heartbeat:
        # wait until a connection is pending (so stop() is seen within
        # 50 ms), then let the worker accept and handle it.
        while not self._stopping.is_set():
            readable, _, _ = select.select([self._listener], [], [], 0.05)
            if readable:
                self.worker.accept(self._listener)

    def stop(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        self._listener.close()
        self.worker.tmp.close()

    def wait_ready(self, timeout: float) -> None:
        return None  # the socket listens from construction on


class UvicornServer:
    """uvicorn on its own event loop in the server thread.

    ``http`` and ``ws`` choose uvicorn's protocol implementations: "auto"
    (httptools and websockets when installed, as ``uvicorn app:app`` runs),
    or "h11" and "wsproto", its pure-Python ones.
    """

    name = "uvicorn"

    def __init__(
        self, app: Any, host: str, port: int, *, http: str = "auto", ws: str = "auto"
    ) -> None:
        import uvicorn

        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            access_log=False,
            http=http,
            ws=ws,
        )
        self._server = uvicorn.Server(config)
        self.address = (host, port)
        if http != "auto":
            self.name = f"uvicorn ({http})"

    def serve(self) -> None:
        self._server.run()

    def stop(self) -> None:
        self._server.should_exit = True

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not start within {timeout}s")
            time.sleep(0.01)
        # Port 0 asks the system for a free port: read back the one it gave.
        for server in self._server.servers:
            for sock in server.sockets:
                self.address = tuple(sock.getsockname())[:2]
                return


class RawASGIServer:
    """Stage 04's hand-written asyncio server (``rawasgi.server.ASGIServer``).

    It runs its own event loop in the server thread; ``stop()`` asks it to
    stop from that loop, as its ``request_stop`` requires.
    """

    name = "rawasgi.server.ASGIServer"

    def __init__(self, app: Any, host: str, port: int) -> None:
        from rawasgi.server import ASGIServer  # stage 04

        self._server = ASGIServer(app, host, port)
        self.address = (host, port)
        self._loop: asyncio.AbstractEventLoop | None = None

    def serve(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            await self._server.serve()

        asyncio.run(main())

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._server.request_stop)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._server.server_address is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the asyncio server did not start within {timeout}s")
            time.sleep(0.01)
        self.address = self._server.server_address


SERVERS: dict[str, Callable[[Any, str, int], ServerHandle]] = {
    "rawwsgi": RawWSGIServer,
    "wsgiref": WSGIRefServer,
    "gunicorn": GunicornServer,
    "uvicorn": UvicornServer,
    "uvicorn-h11": functools.partial(UvicornServer, http="h11", ws="wsproto"),
    "rawasgi": RawASGIServer,
}

"""An ASGI server on asyncio streams: listen, run the lifespan, serve, shut down gently.

Run any ASGI app with it::

    python -m rawasgi.server rawasgi.apps:app --host 127.0.0.1 --port 8000

or from Python (tests do this in a background loop)::

    server = ASGIServer(app, port=0)
    await server.start()          # lifespan startup, then listen
    print(server.server_address)  # ("127.0.0.1", 54321)
    await server.stop()           # stop listening, finish requests, lifespan shutdown

The pieces, in the order a connection meets them:

- ``server.py`` (this file): the listening socket, one ``HTTPConnection``
  per client, the lifespan, signals and a graceful shutdown.
- ``connection.py``: bytes -> stage 01's parser -> ASGI events, and back.
- ``scopes.py``: the ``http`` and ``websocket`` scopes.
- ``websocket_session.py`` and ``websocket.py``: WebSockets, events and frames.
- ``lifespan.py``: the startup / shutdown conversation with the app.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from rawwsgi.server import import_app  # stage 01's loader: an app is an app

from rawasgi.connection import HTTPConnection, HTTPDate, Settings
from rawasgi.lifespan import MODES, Lifespan, LifespanFailure
from rawasgi.protocol import ASGIApp
from rawasgi.websocket import DEFAULT_MAX_SIZE

__all__ = ["ASGIServer", "LifespanFailure", "main", "run"]

#: The exit status when the app refuses to start (uvicorn uses the same).
STARTUP_FAILURE_EXIT = 3


class ASGIServer:
    """Serve an ASGI app over HTTP/1.1 and WebSocket on one TCP port.

    ``timeout`` bounds how long a client may stay silent (between requests,
    or in the middle of one) and how long a WebSocket close may take;
    ``shutdown_timeout`` how long requests in flight get to finish when the
    server stops. ``lifespan`` is "auto" (use it if the app supports it),
    "on" (the app must) or "off". ``max_body`` refuses larger request bodies
    with 413; ``ws_max_size`` closes WebSockets whose messages are larger
    with 1009.
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        timeout: float = 10.0,
        lifespan: str = "auto",
        max_body: int | None = None,
        root_path: str = "",
        ws_max_size: int = DEFAULT_MAX_SIZE,
        shutdown_timeout: float = 10.0,
        logger: logging.Logger | None = None,
    ) -> None:
        if not callable(app):
            raise TypeError(f"app must be an ASGI callable, got {app!r}")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int from 0 to 65535, got {port!r}")
        if timeout <= 0 or shutdown_timeout < 0:
            raise ValueError("timeout must be > 0 and shutdown_timeout >= 0")
        if lifespan not in MODES:
            raise ValueError(f"lifespan must be one of {MODES}, got {lifespan!r}")
        if max_body is not None and max_body < 0:
            raise ValueError(f"max_body must be None or >= 0, got {max_body}")
        self.app = app
        self.host = host
        self.port = port
        self.shutdown_timeout = shutdown_timeout
        self.logger = logger or logging.getLogger("rawasgi.server")
        self.state: dict[str, Any] = {}
        self.lifespan = Lifespan(
            app, mode=lifespan, state=self.state, timeout=shutdown_timeout, logger=self.logger
        )
        self.settings = Settings(
            app=app,
            timeout=timeout,
            max_body=max_body,
            root_path=root_path,
            ws_max_size=ws_max_size,
            state=self.state,
            date=HTTPDate(),
            logger=self.logger,
            access_logger=logging.getLogger("rawasgi.server.access"),
        )
        self.connections: set[HTTPConnection] = set()
        #: The ``(host, port)`` the server listens on, once started (port 0 picks one).
        self.server_address: tuple[str, int] | None = None
        self._listener: asyncio.Server | None = None
        self._stop_requested: asyncio.Event | None = None

    @property
    def url(self) -> str:
        """Return ``http://host:port/`` for the address the server listens on."""
        if self.server_address is None:
            raise RuntimeError("the server is not started")
        host, port = self.server_address
        return f"http://{host}:{port}/"

    async def start(self) -> None:
        """Run the lifespan startup, then start listening; LifespanFailure if refused."""
        await self.lifespan.startup()
        if self.lifespan.supported:
            self.logger.info("Application startup complete.")
        self._listener = await asyncio.start_server(
            self._handle_connection, self.host, self.port, reuse_address=True, backlog=2048
        )
        host, port = self._listener.sockets[0].getsockname()[:2]
        self.server_address = (host, port)
        self.logger.info("Serving on %s (Ctrl-C stops)", self.url)

    async def stop(self) -> None:
        """Stop listening, let requests in flight finish, then run the lifespan shutdown."""
        if self._listener is None:
            return
        self.logger.info("Shutting down")
        self._listener.close()
        for connection in list(self.connections):
            await connection.shut_down()
        tasks = [connection.task for connection in self.connections if connection.task]
        if tasks:
            self.logger.info("Waiting for %d connection(s) to finish", len(tasks))
            _, pending = await asyncio.wait(tasks, timeout=self.shutdown_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._listener.wait_closed()
        self._listener = None
        await self.lifespan.shutdown()
        self.logger.info("Server stopped")

    async def serve(self) -> None:
        """Start, serve until SIGINT / SIGTERM (or ``request_stop()``), then stop cleanly."""
        self._stop_requested = asyncio.Event()
        await self.start()
        installed = self._install_signal_handlers()
        try:
            await self._stop_requested.wait()
        finally:
            for signal_number in installed:
                asyncio.get_running_loop().remove_signal_handler(signal_number)
            await self.stop()

    def request_stop(self) -> None:
        """Ask ``serve()`` to stop; call it from the server's own event loop."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    def _install_signal_handlers(self) -> list[int]:
        """Turn SIGINT and SIGTERM into a graceful stop (only the main thread gets signals)."""
        if threading.current_thread() is not threading.main_thread():
            return []
        loop = asyncio.get_running_loop()
        installed: list[int] = []
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signal_number, self._on_signal)
            except (NotImplementedError, RuntimeError):  # e.g. Windows
                continue
            installed.append(signal_number)
        return installed

    def _on_signal(self) -> None:
        """First signal: stop gracefully. A second one: stop waiting for requests."""
        if self._stop_requested is not None and self._stop_requested.is_set():
            self.logger.warning("Second signal: cancelling requests in flight")
            for connection in list(self.connections):
                if connection.task is not None:
                    connection.task.cancel()
            return
        self.request_stop()

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve one accepted client until it is done (asyncio calls this per connection)."""
        connection = HTTPConnection(self.settings, reader, writer)
        connection.task = asyncio.current_task()
        self.connections.add(connection)
        try:
            await connection.serve()
        except asyncio.CancelledError:
            pass  # closed by a shutdown; connection.serve() closed the socket
        except Exception:
            self.logger.exception("Unexpected error on a connection")
        finally:
            self.connections.discard(connection)


def run(app: ASGIApp, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Serve ``app`` until Ctrl-C or SIGTERM, like ``uvicorn.run``."""
    asyncio.run(ASGIServer(app, host, port, **options).serve())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line: ``python -m rawasgi.server MODULE:APP [--host H] [--port P]``."""
    parser = argparse.ArgumentParser(
        prog="python -m rawasgi.server",
        description="Serve an ASGI app with the hand-written server.",
    )
    parser.add_argument("app", help="the app to serve, as MODULE:APP (e.g. rawasgi.apps:app)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0: any)")
    parser.add_argument("--timeout", type=float, default=10.0, help="idle timeout in seconds")
    parser.add_argument("--lifespan", choices=MODES, default="auto", help="lifespan protocol")
    parser.add_argument("--root-path", default="", help="the path the app is mounted at")
    parser.add_argument("--max-body", type=int, default=None, help="largest request body")
    parser.add_argument(
        "--ws-max-size", type=int, default=DEFAULT_MAX_SIZE, help="largest WebSocket message"
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(levelname)-8s %(message)s", stream=sys.stderr
    )
    try:
        app = import_app(args.app)
    except (ImportError, AttributeError, ValueError, TypeError) as error:
        print(f"error: cannot load {args.app}: {error}", file=sys.stderr)
        return 1
    try:
        run(
            app,
            args.host,
            args.port,
            timeout=args.timeout,
            lifespan=args.lifespan,
            root_path=args.root_path,
            max_body=args.max_body,
            ws_max_size=args.ws_max_size,
        )
    except LifespanFailure as failure:
        print(f"error: application startup failed: {failure}", file=sys.stderr)
        return STARTUP_FAILURE_EXIT
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

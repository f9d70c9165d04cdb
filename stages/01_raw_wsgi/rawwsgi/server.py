"""A WSGI server written on ``socket``: one thread per connection, keep-alive, graceful stop.

The life of a connection, as :class:`Connection` lives it::

    accept -> [ read a head -> build the environ -> run the app -> frame the response
                -> drop what is left of the body ] -> ... -> close

Parsing is :mod:`rawwsgi.http11`, the environ :mod:`rawwsgi.environ`, the
response :mod:`rawwsgi.response`; this module adds what needs a socket:
accepting, timeouts, threads, signals, and the command line::

    python -m rawwsgi.server rawwsgi.apps:app --host 127.0.0.1 --port 8000

Why threads and not ``selectors``: a WSGI app is a blocking call (it may
sleep, query a database, read its body slowly), so even an event loop
would have to run apps in threads. A thread per connection keeps the code
a straight line that reads like the protocol. The costs (one thread per
idle keep-alive client, the GIL) are the lesson of stage 04.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import selectors
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from rawwsgi.environ import (
    ClientDisconnected,
    RequestBody,
    base_environ,
    build_environ,
)
from rawwsgi.http11 import (
    CONTINUE,
    DRAIN_LIMIT,
    NEED_DATA,
    READ_SIZE,
    HTTPDate,
    HTTPError,
    RequestHead,
    RequestParser,
    error_response,
)
from rawwsgi.protocol import Environ, WSGIApp
from rawwsgi.response import Response

logger = logging.getLogger("rawwsgi.server")
access_logger = logging.getLogger("rawwsgi.access")

#: Connections the kernel queues while the accept loop is busy.
BACKLOG = 1024
#: How long a refused client's remaining input is read and dropped before closing.
LINGER_SECONDS = 1.0


class Connection:
    """One client connection: read requests, run the app, send responses, until close."""

    def __init__(self, server: WSGIServer, sock: socket.socket, address: tuple[str, int]) -> None:
        self._server = server
        self._sock = sock
        self.address = address
        self._parser = RequestParser(max_body=server.max_body)
        self.idle = False  # waiting for a request head: safe to close on shutdown
        self.response: Response | None = None  # the response in progress

    def run(self) -> None:
        """Serve requests until the client or the server ends the connection."""
        try:
            while (head := self._read_head()) is not None:
                if not self._respond(head):
                    break
                self._parser.start_next_request()
        except Exception:
            # A bug in the server, not the app (the app's errors are handled in
            # _respond): log it, answer 500 if the client waits for an answer,
            # and let this connection alone pay for it.
            logger.exception("unexpected error on the connection from %s:%s", *self.address)
            if self.response is None or not self.response.headers_sent:
                self._send_quietly(error_response(500, "Internal Server Error"))
        finally:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._server.forget(self)

    def interrupt(self) -> None:
        """Wake a blocked read: the connection then sees the end of the input and closes."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RD)

    def abort(self) -> None:
        """Cut the connection off in both directions (shutdown's last resort)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    # ── Reading ──

    def _read_head(self) -> RequestHead | None:
        """Return the next request's head, or None when the connection should close.

        The whole head must arrive within the server's timeout, however it
        is spread over packets: a client that trickles a byte every few
        seconds (slowloris) cannot hold a thread forever.
        """
        self.response = None
        if not self._server.mark_idle(self):
            return None  # shutting down: no new requests on this connection
        deadline = time.monotonic() + self._server.timeout
        received = False
        try:
            while (event := self._parser.next_event()) is NEED_DATA:
                if self._parser.closed:
                    return None  # the client closed between requests
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self._sock.settimeout(remaining)
                data = self._sock.recv(READ_SIZE)
                received = received or bool(data)
                self._parser.feed(data)
        except HTTPError as error:
            if not self._parser.closed:
                self._refuse(error)
            return None
        except TimeoutError:
            if received:
                self._send_quietly(error_response(408, "timed out reading the request head"))
            return None
        except OSError:
            return None  # reset by the client
        finally:
            self.idle = False
        self._sock.settimeout(self._server.timeout)
        if not isinstance(event, RequestHead):
            raise RuntimeError(f"expected a request head, got {event!r}")
        return event

    def _receive(self) -> bytes:
        """Return the next bytes of the request body, for ``wsgi.input``."""
        try:
            return self._sock.recv(READ_SIZE)
        except TimeoutError as error:
            raise HTTPError(408, "timed out reading the request body") from error
        except OSError as error:
            raise ClientDisconnected(str(error)) from error

    # ── Writing ──

    def _send(self, data: bytes) -> None:
        """Send response bytes; a client that is gone is ClientDisconnected."""
        try:
            self._sock.sendall(data)
        except OSError as error:  # reset, broken pipe, or a client that stopped reading
            raise ClientDisconnected(str(error)) from error

    def _send_quietly(self, data: bytes) -> None:
        """Send a last response on a connection about to close; the client may be gone."""
        with contextlib.suppress(OSError):
            self._sock.sendall(data)

    def _refuse(self, error: HTTPError) -> None:
        """Answer a bad request with its error status, then close without losing the answer.

        Closing a socket that still holds unread input makes the kernel send a
        reset, which can destroy our response before the client reads it. So
        stop sending, then read and drop what the client still sends, briefly.
        """
        self._send_quietly(error_response(error.status, error.message))
        if error.status == 408:
            return  # a client too slow to send its request: no reason to wait for it
        deadline = time.monotonic() + LINGER_SECONDS
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)
            while (remaining := deadline - time.monotonic()) > 0:
                self._sock.settimeout(remaining)
                if not self._sock.recv(READ_SIZE):
                    break

    def _send_continue(self) -> None:
        """Tell a client waiting with ``Expect: 100-continue`` to send its body."""
        if self.response is not None and not self.response.headers_sent:
            self._send(CONTINUE)

    # ── One request ──

    def _respond(self, head: RequestHead) -> bool:
        """Run the app for one request; return whether the connection stays open."""
        server = self._server
        body = RequestBody(self._parser, self._receive, head, send_continue=self._send_continue)
        response = self.response = Response(self._send, head, date=server.date(), body=body)
        if server.stopping:
            response.keep_alive = False
        environ = build_environ(head, body, server.base_environ, self.address)
        try:
            run_app(server.app, environ, response)
        except ClientDisconnected:
            logger.debug("%s:%s disconnected", *self.address)
            return False
        except HTTPError as error:  # the body was malformed, too large, or too slow
            if not response.headers_sent:
                self._refuse(error)
            return False
        except Exception:
            logger.exception('error in the app for "%s %s"', head.method, head.target)
            if response.headers_sent:
                return False  # the client sees a cut-off response: the best we can do now
            with contextlib.suppress(OSError):
                response.error()
            return False
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    '%s:%s "%s %s %s" %s %d',
                    *self.address,
                    head.method,
                    head.target,
                    head.version,
                    (response.status or "-")[:3],
                    response.sent,
                )
        if not response.keep_alive:
            return False
        try:
            return body.discard(DRAIN_LIMIT)
        except (HTTPError, OSError):
            return False


def run_app(app: WSGIApp, environ: Environ, response: Response) -> None:
    """Call the app, send what it returns, and always close its iterable (PEP 3333)."""
    result = app(environ, response.start_response)
    try:
        # PERF: a one-item list has a known length: Content-Length, no chunking.
        if (
            (type(result) is list or type(result) is tuple)
            and len(result) == 1
            and type(result[0]) is bytes
        ):
            response.length_hint = len(result[0])
        for data in result:
            response.write(data)
            if response.headers_sent and not response.wants_body:
                break  # HEAD, 204, 304: no need to produce the rest
        response.finish()
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


class WSGIServer:
    """Serve a WSGI app over HTTP/1.1 on a listening socket, a thread per connection.

    The socket is bound in ``__init__`` so that ``port=0`` picks a free port,
    readable from ``server_address`` before ``serve_forever()`` starts.
    """

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        timeout: float = 10.0,
        max_body: int | None = None,
    ) -> None:
        if not callable(app):
            raise TypeError(f"app must be a WSGI callable, not {app!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        if max_body is not None and max_body < 0:
            raise ValueError(f"max_body must be None or >= 0, not {max_body}")
        self.app = app
        self.timeout = timeout
        self.max_body = max_body
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, port), family=family, backlog=BACKLOG)
        self.server_address: tuple[str, int] = self._listener.getsockname()[:2]
        self.base_environ = base_environ(host, self.server_address[1])
        self.stopping = False
        self._lock = threading.Lock()
        self._connections: dict[Connection, threading.Thread] = {}
        self._wakeup_read, self._wakeup_write = socket.socketpair()
        self._wakeup_write.setblocking(False)
        self._serving = threading.Event()
        self._stopped = threading.Event()
        self._date = HTTPDate()

    def __repr__(self) -> str:
        host, port = self.server_address
        return f"<WSGIServer {self.app!r} on http://{host}:{port}/>"

    def serve_forever(self) -> None:
        """Accept connections and serve each in its own thread until shutdown()."""
        self._serving.set()
        try:
            if self.stopping:
                return
            with selectors.DefaultSelector() as selector:
                self._listener.setblocking(False)
                selector.register(self._listener, selectors.EVENT_READ)
                # shutdown() writes a byte here to wake the select() below.
                selector.register(self._wakeup_read, selectors.EVENT_READ)
                while not self.stopping:
                    for key, _ in selector.select():
                        if key.fileobj is self._listener and not self.stopping:
                            self._accept()
        except (OSError, ValueError):
            if not self.stopping:
                raise
            # shutdown() closed the listener before this loop began: nothing to serve.
        finally:
            self._listener.close()  # new clients are refused from now on
            self._stopped.set()

    def request_stop(self) -> None:
        """Stop accepting connections, without waiting (safe in a signal handler)."""
        self.stopping = True
        with contextlib.suppress(OSError):
            self._wakeup_write.send(b"\0")

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop gracefully: refuse new clients, close idle ones, let requests in flight finish.

        Waits up to ``timeout`` seconds for responses in progress, then cuts
        off whatever is left. Callable from any thread, any number of times.
        """
        self.request_stop()
        with self._lock:
            connections = dict(self._connections)
        for connection in connections:
            # An idle connection waits for a head that may never come: wake it up.
            # A busy one finishes its response, with "Connection: close".
            if connection.idle:
                connection.interrupt()
            elif connection.response is not None:
                connection.response.keep_alive = False
        deadline = time.monotonic() + timeout
        if self._serving.is_set():
            self._stopped.wait(timeout)
        else:
            self._listener.close()
        for connection, thread in connections.items():
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("shutdown: cutting off %s:%s", *connection.address)
                connection.abort()
        for wakeup in (self._wakeup_read, self._wakeup_write):
            wakeup.close()

    def _accept(self) -> None:
        """Accept every waiting connection and start a thread for each."""
        for _ in range(64):
            try:
                sock, address = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as error:  # e.g. out of file descriptors: back off a little
                logger.error("accept failed: %s", error)
                time.sleep(0.05)
                return
            # PERF: send small responses at once instead of waiting for an ACK (Nagle).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self.timeout)
            connection = Connection(self, sock, address[:2])
            thread = threading.Thread(
                target=connection.run, name=f"rawwsgi {address[0]}:{address[1]}", daemon=True
            )
            with self._lock:
                self._connections[connection] = thread
            thread.start()

    def mark_idle(self, connection: Connection) -> bool:
        """Mark a connection as waiting for a request; False if the server is stopping.

        Under the lock, so that shutdown() either sees the connection idle (and
        wakes it) or the connection sees ``stopping`` (and closes itself).
        """
        with self._lock:
            if self.stopping:
                return False
            connection.idle = True
            return True

    def forget(self, connection: Connection) -> None:
        """Drop a closed connection from the server's books."""
        with self._lock:
            self._connections.pop(connection, None)

    def date(self) -> str:
        """Return the Date header's value, formatted once per second."""
        return self._date.now()


# ── Running it ───────────────────────────────────────────────────────────────


@contextlib.contextmanager
def stop_on_signals(server: WSGIServer) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a graceful stop while the block runs.

    A second Ctrl-C during the stop falls back to Python's KeyboardInterrupt.
    Signals can only be handled in the main thread: elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        server.request_stop()

    previous = {
        number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run(server: WSGIServer) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully."""
    with stop_on_signals(server):
        try:
            server.serve_forever()
        finally:
            server.shutdown()


def serve(app: WSGIApp, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``app`` on http://host:port/ until Ctrl-C or SIGTERM."""
    server = WSGIServer(app, host, port)
    bound_host, bound_port = server.server_address
    print(f"Serving on http://{bound_host}:{bound_port}/", flush=True)
    run(server)


def import_app(spec: str) -> Callable[..., Any]:
    """Import "package.module:name" and return the app it names.

    Any callable will do: stage 04's ASGI server loads its apps with this too.
    Its type says no more than that (``Callable[..., Any]``): whether it is a
    WSGI or an ASGI app is the caller's claim, which only a request can test.
    """
    module_name, separator, attribute = spec.partition(":")
    if not separator or not module_name or not attribute:
        raise ValueError(f"expected MODULE:APP, e.g. rawwsgi.apps:app, not {spec!r}")
    app: object = importlib.import_module(module_name)
    for name in attribute.split("."):
        try:
            app = getattr(app, name)
        except AttributeError:
            raise AttributeError(f"module {module_name!r} has no attribute {attribute!r}") from None
    if not callable(app):
        raise TypeError(f"{spec} is not callable: {app!r}")
    return app


def main(argv: list[str] | None = None) -> int:
    """Run the command line: python -m rawwsgi.server MODULE:APP [--host H] [--port P]."""
    parser = argparse.ArgumentParser(
        prog="python -m rawwsgi.server", description="Serve a WSGI app on rawwsgi's socket server."
    )
    parser.add_argument("app", metavar="MODULE:APP", help="the app to serve, e.g. rawwsgi.apps:app")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on (8000; 0 picks one)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds a client may take to send a request head (10)",
    )
    parser.add_argument("--max-body", type=int, default=None, help="largest request body in bytes")
    parser.add_argument("--quiet", action="store_true", help="do not log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    try:
        app = import_app(args.app)
    except (ImportError, AttributeError, ValueError, TypeError) as error:
        print(f"error: cannot load {args.app}: {error}", file=sys.stderr)
        return 2
    try:
        server = WSGIServer(app, args.host, args.port, timeout=args.timeout, max_body=args.max_body)
    except (OSError, ValueError) as error:
        print(f"error: cannot serve on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    host, port = server.server_address
    print(f"Serving {args.app} on http://{host}:{port}/", flush=True)
    try:
        run(server)
    except KeyboardInterrupt:  # a second Ctrl-C while stopping: do not wait any longer
        print("Stopped without waiting for requests in flight.", flush=True)
        return 130
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

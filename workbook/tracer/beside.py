"""Trace one request through a stage and through the production system it mirrors.

``python -m workbook trace N --beside`` (``make trace-N BESIDE=1``) sends the
same request to the stage's app and to its production counterpart, prints
both timelines, and a *map table*: each of our layers beside theirs, what
is the same, what they do that we do not, and the time each side spent
in that layer.

Everything here is data, as in :mod:`workbook.tracer.profiles`: a
:class:`Comparison` holds two :class:`Side` s (an app, the layer table that
shows it, the server it runs under) and the :class:`MapRow` s of the map.
The recorder treats gunicorn's functions exactly as it treats ours; a
production layer is an ordinary :class:`~workbook.tracer.layers.Layer` with
``external=True``. The production versions these tables name are pinned in
``pyproject.toml`` (the ``beside`` extra), and ``tests/tracer/test_beside.py``
resolves every pattern against the installed code, so an upgrade that
renames a function fails by name instead of drawing a thinner trace.

Times in the map are *self* times (a call's duration less that of the shown
calls inside it), the least of a few traced requests: on a busy machine a
request is often paused by other work, and the least time is the one that
was paused least (as ``timeit`` advises). They include the
tracer's own cost (its hook runs on every Python call, shown or not), which
:func:`tracer_cost` measures: the same request in process, untraced and
traced.
"""

from __future__ import annotations

import fnmatch
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbook.stages import activate
from workbook.tracer.core import Tracer, silenced
from workbook.tracer.http import Request
from workbook.tracer.layers import Call, Layer, LayerTable, short
from workbook.tracer.model import CLIENT, SERVER, SPAN, Trace
from workbook.tracer.profiles import (
    STAGE_1,
    STAGE_2,
    STAGE_3,
    STAGE_4,
    STAGE_5,
    STAGE_6,
    Described,
    StageProfile,
    describe_environ,
    describe_status,
    package_root,
    prepared,
    profile,
)


@dataclass(frozen=True)
class Side:
    """One side of a comparison: which app, shown by which layers, under which server."""

    name: str  # the system, as the map table's column names it: "stage 01", "gunicorn"
    app: str  # "module:attribute"
    stage: StageProfile  # the stage whose folder (and database) the app needs
    layers: tuple[Layer, ...]
    packages: tuple[str, ...]  # folders followed besides the external layers
    server: str
    lane_titles: dict[str, str] = field(default_factory=dict)

    @property
    def protocol(self) -> str:
        return self.stage.protocol


@dataclass(frozen=True)
class MapRow:
    """One line of the map: our layer, theirs, what is the same, what they add.

    ``ours`` and ``theirs`` are patterns over ``"lane:title"`` of the
    spans each layer shows (``"parser:*"``, ``"server:build_environ"``):
    the row's time is the self time of the spans they match.
    """

    our_layer: str
    their_layer: str
    same: str
    they_also: str
    ours: tuple[str, ...] = ()
    theirs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """A stage beside one production system, for one request."""

    stage: int
    system: str  # "gunicorn", "Werkzeug", ...
    ours: Side
    theirs: Side
    rows: tuple[MapRow, ...]
    request: Request
    warmup: Request
    wire: bool = True  # over a socket by default (the servers are part of the story)
    status: int = 200  # what both sides answer (101 for a WebSocket handshake)
    cost: Request | None = (
        None  # the in-process request that measures the tracer (default: request)
    )


def our_side(
    stage: StageProfile, *, server: str | None = None, layers: tuple[Layer, ...] = ()
) -> Side:
    """Return the stage's own app and layer table as a side (``layers`` added first)."""
    return Side(
        f"stage {stage.stage[:2]}",
        stage.app,
        stage,
        (*layers, *stage.layers),
        stage.packages,
        server or stage.server,
        dict(stage.lane_titles),
    )


def library(kind: str, patterns: str | tuple[str, ...], lane: str, **options: Any) -> Layer:
    """Return a layer naming a production library's functions (``external=True``)."""
    return Layer(kind, patterns, lane=lane, external=True, **options)


def describe_gunicorn_create(call: Call) -> Described:
    """Describe ``gunicorn.http.wsgi.create``'s ``(Response, environ)``."""
    value = call.value
    if isinstance(value, tuple) and len(value) == 2:
        return f"(Response, environ ({len(value[1])} keys))"
    return short(value)


def describe_gunicorn_request(call: Call) -> Described:
    """Describe a parsed ``gunicorn.http.message.Request`` (what ``Parser.__next__`` returns)."""
    request = call.value
    if request is None or not hasattr(request, "method"):
        return short(request)
    version = (
        "HTTP/{}.{}".format(*request.version)
        if isinstance(request.version, tuple)
        else request.version
    )
    return f"Request: {request.method} {request.uri} {version}, {len(request.headers)} headers"


def describe_match(call: Call) -> Described:
    """Describe Werkzeug's ``MapAdapter.match``: ``(endpoint, params)``."""
    value = call.value
    if isinstance(value, tuple) and len(value) == 2:
        return f"{value[0]!r}, params {dict(value[1])}", {"match": "full", "handler": str(value[0])}
    return short(value)


def describe_starlette_match(call: Call) -> Described:
    """Describe Starlette's ``Route.matches``: ``(Match, child scope)``."""
    value = call.value
    if isinstance(value, tuple) and len(value) == 2:
        match = getattr(value[0], "name", str(value[0]))
        params = (value[1] or {}).get("path_params", {})
        return f"{match}" + (f", path_params {params}" if match == "FULL" else "")
    return short(value)


# ── 01: our server beside gunicorn's sync worker and wsgiref ─────────────────

STAGE_1_APP = STAGE_1.layers[-2:]  # the app's dispatch and its handlers

GUNICORN_WORKER = (
    library(
        "server",
        "gunicorn.workers.sync:SyncWorker.accept",
        SERVER,
        title="SyncWorker.accept",
        source=CLIENT,
    ),
    library(
        "server",
        (
            "gunicorn.workers.sync:SyncWorker.handle",
            "gunicorn.workers.sync:SyncWorker.handle_request",
        ),
        SERVER,
    ),
    library(
        "server",
        "gunicorn.http.parser:Parser.__next__",
        "parser",
        title="RequestParser.__next__",
        result=describe_gunicorn_request,
    ),
    library(
        "server",
        (
            "gunicorn.http.message:Request.parse",
            "gunicorn.http.message:Request.parse_request_line",
            "gunicorn.http.message:Message.parse_headers",
            "gunicorn.http.message:Message.set_body_reader",
        ),
        "parser",
    ),
    library(
        "server",
        "gunicorn.http.wsgi:create",
        SERVER,
        title="wsgi.create",
        result=describe_gunicorn_create,
    ),
    library("server", "gunicorn.http.body:Body.read", SERVER, title="wsgi.input.read"),
    library(
        "server",
        (
            "gunicorn.http.wsgi:Response.start_response",
            "gunicorn.http.wsgi:Response.write",
            "gunicorn.http.wsgi:Response.send_headers",
            "gunicorn.http.wsgi:Response.close",
        ),
        SERVER,
    ),
    library("server", "gunicorn.util:write", SERVER, title="sock.sendall"),
)

WSGIREF_SERVER = (
    library("server", "wsgiref.simple_server:WSGIRequestHandler.handle", SERVER, source=CLIENT),
    library(
        "server",
        ("http.server:BaseHTTPRequestHandler.parse_request", "http.client:parse_headers"),
        "parser",
    ),
    library(
        "server",
        "wsgiref.simple_server:WSGIRequestHandler.get_environ",
        SERVER,
        result=describe_environ,
    ),
    library(
        "server",
        (
            "wsgiref.handlers:BaseHandler.run",
            "wsgiref.handlers:BaseHandler.setup_environ",
            "wsgiref.handlers:BaseHandler.start_response",
            "wsgiref.handlers:BaseHandler.finish_response",
            "wsgiref.handlers:BaseHandler.write",
            "wsgiref.handlers:BaseHandler.send_headers",
        ),
        SERVER,
    ),
    library("server", "wsgiref.handlers:SimpleHandler._write", SERVER, title="sock.sendall"),
)

SERVER_ROWS_01 = {
    "gunicorn": (
        MapRow(
            "WSGIServer._accept, Connection.run (a thread per connection)",
            "SyncWorker.accept, handle (one connection at a time per worker process)",
            "accept a connection, read a request, call the app, close or keep going",
            "an arbiter process forks N workers and restarts any that hangs (--timeout); "
            "the sync worker closes after every response (no keep-alive)",
            ours=("server:accept", "server:Connection.run*", "server:Connection._read_head"),
            theirs=("server:SyncWorker.accept", "server:SyncWorker.handle*"),
        ),
        MapRow(
            "RequestParser (feed / next_event)",
            "gunicorn.http parser and message.Request",
            "request line, field lines, Content-Length or chunked framing, 400 on bad input",
            "limits set by configuration (limit_request_line, _fields, _field_size), "
            "PROXY protocol, a C parser when gunicorn_h1c is installed",
            ours=("parser:*",),
            theirs=("parser:*",),
        ),
        MapRow(
            "build_environ",
            "wsgi.create",
            "the PEP 3333 environ: CGI keys, HTTP_* keys, wsgi.input",
            "SCRIPT_NAME from the header or config, wsgi.file_wrapper, "
            "forwarded headers only from trusted proxies (forwarded_allow_ips)",
            ours=("server:build_environ",),
            theirs=("server:wsgi.create",),
        ),
        MapRow(
            "RequestBody.read (wsgi.input)",
            "http.body.Body.read",
            "the body is read when the app asks",
            "",
            ours=("server:wsgi.input.read",),
            theirs=("server:wsgi.input.read",),
        ),
        MapRow(
            "Response.write / finish, Connection._send",
            "Response.start_response / write / close, util.write",
            "status line and headers sent before the first body bytes, "
            "chunked when no length is known",
            "sendfile() for wsgi.file_wrapper, an access log line per request (accesslog)",
            ours=("server:Response.*", "server:sock.sendall"),
            theirs=("server:Response.*", "server:sock.sendall"),
        ),
    ),
    "wsgiref": (
        MapRow(
            "WSGIServer._accept, Connection.run",
            "WSGIRequestHandler.handle (socketserver)",
            "one handler per connection",
            "a single thread unless mixed with ThreadingMixIn; "
            "HTTP/1.0 semantics: one request per connection",
            ours=("server:accept", "server:Connection.run*", "server:Connection._read_head"),
            theirs=("server:*.handle",),
        ),
        MapRow(
            "RequestParser",
            "BaseHTTPRequestHandler.parse_request, http.client.parse_headers",
            "request line and field lines",
            "email-style header parsing; no chunked request bodies",
            ours=("parser:*",),
            theirs=("parser:*",),
        ),
        MapRow(
            "build_environ",
            "WSGIRequestHandler.get_environ, BaseHandler.setup_environ",
            "the PEP 3333 environ",
            "os.environ copied into every environ",
            ours=("server:build_environ",),
            theirs=("server:*get_environ", "server:*setup_environ"),
        ),
        MapRow(
            "Response.write / finish",
            "BaseHandler.start_response, finish_response, write, _write",
            "headers before the body",
            "no chunked responses: without Content-Length it closes the connection",
            ours=("server:Response.*", "server:sock.sendall"),
            theirs=(
                "server:*start_response",
                "server:*finish_response",
                "server:*.write",
                "server:*send_headers",
                "server:sock.sendall",
            ),
        ),
    ),
}

ECHO = Request.make(
    "POST", "/echo?name=wsgi", body="hello", headers=[("Content-Type", "text/plain")]
)


def _stage_1(system: str, server: str, layers: tuple[Layer, ...]) -> Comparison:
    theirs = Side(system, STAGE_1.app, STAGE_1, (*layers, *STAGE_1_APP), STAGE_1.packages, server)
    return Comparison(1, system, our_side(STAGE_1), theirs, SERVER_ROWS_01[system], ECHO, ECHO)


# ── 02: our router, Request and Response beside Werkzeug's ───────────────────

WERKZEUG = (
    library("framework", "workbook.tracer.peers.werkzeug_books:app", "app", title="app"),
    library("router", "werkzeug.routing.map:Map.bind_to_environ", "Map"),
    library("router", "werkzeug.routing.map:MapAdapter.match", "Map", result=describe_match),
    library(
        "framework",
        ("werkzeug.sansio.request:Request.__init__", "werkzeug.wrappers.request:Request.__init__"),
        "Request",
        title="Request",
    ),
    library("framework", "werkzeug.sansio.request:Request.args", "Request", title="request.args"),
    library(
        "framework",
        (
            "werkzeug.wrappers.response:Response.__init__",
            "werkzeug.wrappers.response:Response.__call__",
        ),
        "Response",
        result=describe_status,
    ),
    library(
        "handler",
        (
            "workbook.tracer.peers.werkzeug_books:get_book",
            "workbook.tracer.peers.werkzeug_books:list_books",
        ),
        "handler",
        title="{function}",
        result=describe_status,
    ),
    Layer("data", "wsgirouter.example:BookStore.*", lane="BookStore"),
)

ROWS_02 = (
    MapRow(
        "Router.lookup (a trie of path segments)",
        "Map.bind_to_environ + MapAdapter.match (a state machine)",
        "path parameters converted ({id:int} / <int:id>), 404 and 405 with Allow",
        "host and subdomain matching, redirects to the canonical URL (strict slashes), "
        "converters for uuid, path, any",
        ours=("Router:*lookup",),
        theirs=("Map:*",),
    ),
    MapRow(
        "Router.__call__ / dispatch",
        "the app function (Flask does this in wsgi_app)",
        "call the handler with the parameters; an HTTP error becomes a response",
        "HTTPException is itself a WSGI app (error(environ, start_response))",
        ours=("Router:*__call__", "Router:*dispatch"),
        theirs=("app:*",),
    ),
    MapRow(
        "Request",
        "werkzeug Request",
        "a view of the environ; the body is read on demand",
        "MultiDict args and form, files, cookies, accept headers parsed lazily",
        ours=("Request:*",),
        theirs=("Request:*",),
    ),
    MapRow(
        "Response.json / __call__",
        "werkzeug Response",
        "status, headers, body iterable; start_response then the body",
        "conditional responses (ETag, Range), cookies, automatic Content-Length",
        ours=("Response:*",),
        theirs=("Response:*",),
    ),
    MapRow(
        "handler + BookStore",
        "handler + the same BookStore",
        "the same data and the same work",
        "",
        ours=("handler:*", "BookStore:*"),
        theirs=("handler:*", "BookStore:*"),
    ),
)

# ── 03: our onion beside Paste's middlewares ─────────────────────────────────

PASTE = (
    library("middleware", "paste.translogger:TransLogger.*", "TransLogger"),
    library(
        "middleware", "paste.exceptions.errormiddleware:ErrorMiddleware.__call__", "ErrorMiddleware"
    ),
    library(
        "middleware", "paste.exceptions.errormiddleware:ResponseStartChecker.*", "ErrorMiddleware"
    ),
    library(
        "middleware", ("paste.gzipper:middleware.*", "paste.gzipper:GzipResponse.*"), "gzipper"
    ),
    library(
        "middleware",
        ("paste.auth.basic:AuthBasicHandler.*", "paste.auth.basic:AuthBasicAuthenticator.*"),
        "AuthBasicHandler",
    ),
    Layer(
        "middleware", "workbook.tracer.peers.paste_onion:check_password", lane="AuthBasicHandler"
    ),
)

BASIC_ADMIN = ("Authorization", "Basic YWRtaW46c2VjcmV0")  # admin:secret

ROWS_03 = (
    MapRow(
        "AccessLog",
        "paste.translogger.TransLogger",
        "one line per request, written when the response is done",
        "Apache combined log format through the logging module",
        ours=("AccessLog:*",),
        theirs=("TransLogger:*",),
    ),
    MapRow(
        "RequestID",
        "(no maintained WSGI middleware)",
        "",
        "in production the proxy or the framework sets X-Request-ID "
        "(flask-log-request-id is a Flask extension)",
        ours=("RequestID:*",),
    ),
    MapRow(
        "CORS",
        "(no maintained WSGI middleware)",
        "",
        "Flask-Cors is a Flask extension; wsgicors was last released in 2017",
        ours=("CORS:*",),
    ),
    MapRow(
        "ErrorHandler",
        "paste.exceptions.errormiddleware.ErrorMiddleware",
        "an exception before the first byte becomes a 500 page; after it, the connection is cut",
        "emails the traceback to an admin (error_email), an HTML debug page",
        ours=("ErrorHandler:*",),
        theirs=("ErrorMiddleware:*",),
    ),
    MapRow(
        "Gzip",
        "paste.gzipper",
        "compress when the client accepts gzip; drop Content-Length",
        "no minimum size: it compresses a 20-byte body too; it buffers the whole body",
        ours=("Gzip:*",),
        theirs=("gzipper:*",),
    ),
    MapRow(
        "BasicAuth",
        "paste.auth.basic.AuthBasicHandler",
        "401 with WWW-Authenticate, or pass REMOTE_USER on",
        "no exempt methods: every request needs the password "
        "(ours lets GET, HEAD, OPTIONS through)",
        ours=("BasicAuth:*",),
        theirs=("AuthBasicHandler:*",),
    ),
    MapRow(
        "the books API",
        "the same books API",
        "the same router and handlers",
        "",
        ours=("Router:*", "handler:*", "BookStore:*", "Request:*", "Response:*"),
        theirs=("Router:*", "handler:*", "BookStore:*", "Request:*", "Response:*"),
    ),
)

# ── 04: our asyncio server beside uvicorn (h11) ──────────────────────────────

UVICORN_H11 = (
    library(
        "server", "uvicorn.protocols.http.h11_impl:H11Protocol.data_received", SERVER, source=CLIENT
    ),
    library("server", "uvicorn.protocols.http.h11_impl:H11Protocol.handle_events", SERVER),
    library(
        "server",
        ("h11._connection:Connection.next_event", "h11._connection:Connection.send"),
        "h11",
        title="h11.{qualname}",
    ),
    library(
        "server",
        (
            "uvicorn.protocols.http.h11_impl:RequestResponseCycle.run_asgi",
            "uvicorn.protocols.http.h11_impl:RequestResponseCycle.send",
            "uvicorn.protocols.http.h11_impl:RequestResponseCycle.receive",
        ),
        SERVER,
    ),
    library("server", "uvicorn.protocols.http.h11_impl:H11Protocol.on_response_complete", SERVER),
    library(
        "server",
        "uvicorn.middleware.proxy_headers:ProxyHeadersMiddleware.__call__",
        "uvicorn middleware",
    ),
)

ROWS_04 = (
    MapRow(
        "ASGIServer._handle_connection, HTTPConnection.read_head (stage 01's parser)",
        "H11Protocol.data_received, handle_events (h11)",
        "bytes in, a request head out, 400 on bad input, the scope built from it",
        "an asyncio.Protocol with flow control (pause_reading / pause_writing), "
        "keep-alive timeout, h11 as a separate state machine, httptools when installed",
        ours=("server:ASGIServer._handle_connection", "server:HTTPConnection.read_head"),
        theirs=("server:H11Protocol.*", "h11:h11.Connection.next_event"),
    ),
    MapRow(
        "RequestCycle.run, receive / send",
        "RequestResponseCycle.run_asgi, receive / send",
        "one task per request; receive() gives the body, send() checks the message order",
        "ProxyHeadersMiddleware around every app; 500 if the app ends without a response",
        ours=("server:RequestCycle.*",),
        theirs=("server:RequestResponseCycle.*", "uvicorn middleware:*"),
    ),
    MapRow(
        "HTTPConnection.write",
        "h11 Connection.send + transport.write",
        "head then body, Content-Length or chunked",
        "h11 checks every outgoing event against HTTP/1.1's rules",
        ours=("server:writer.write",),
        theirs=("h11:h11.Connection.send",),
    ),
    MapRow(
        "the app: middleware, Router, handler",
        "the same app",
        "the same ASGI app",
        "",
        ours=(
            "AccessLog:*",
            "ServerErrors:*",
            "BodyLimit:*",
            "Router:*",
            "handler:*",
            "responses:*",
        ),
        theirs=(
            "AccessLog:*",
            "ServerErrors:*",
            "BodyLimit:*",
            "Router:*",
            "handler:*",
            "responses:*",
        ),
    ),
)

#: Stage 04's WebSocket side of the server, shown for the handshake comparison.
RAWASGI_WEBSOCKET = (
    Layer("server", "rawasgi.connection:HTTPConnection.serve_websocket", lane=SERVER),
    Layer(
        "server",
        "rawasgi.connection:websocket_handshake_problem",
        lane=SERVER,
        title="check the handshake",
    ),
    Layer(
        "server",
        "rawasgi.websocket:accept_key",
        lane="websocket",
        title="accept_key (RFC 6455, 4.2.2)",
    ),
    Layer(
        "server",
        (
            "rawasgi.websocket_session:WebSocketSession.run",
            "rawasgi.websocket_session:WebSocketSession.receive",
            "rawasgi.websocket_session:WebSocketSession.send",
            "rawasgi.websocket_session:WebSocketSession._accept",
        ),
        lane="websocket",
    ),
)

UVICORN_WEBSOCKET = (
    library(
        "server", "uvicorn.protocols.http.h11_impl:H11Protocol.handle_websocket_upgrade", SERVER
    ),
    library(
        "server",
        (
            "uvicorn.protocols.websockets.wsproto_impl:WSProtocol.data_received",
            "uvicorn.protocols.websockets.wsproto_impl:WSProtocol.handle_events",
            "uvicorn.protocols.websockets.wsproto_impl:WSProtocol.handle_connect",
            "uvicorn.protocols.websockets.wsproto_impl:WSProtocol.run_asgi",
            "uvicorn.protocols.websockets.wsproto_impl:WSProtocol.receive",
            "uvicorn.protocols.websockets.wsproto_impl:WSProtocol.send",
        ),
        "websocket",
    ),
    library(
        "server",
        ("wsproto:WSConnection.receive_data", "wsproto:WSConnection.send"),
        "wsproto",
        title="wsproto.{qualname}",
    ),
)

#: A WebSocket opening handshake (RFC 6455, 4.1), the key from the RFC's own example.
HANDSHAKE = Request.make(
    "GET",
    "/rooms/lobby",
    headers=[
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ],
)

ROWS_04_WEBSOCKET = (
    MapRow(
        "HTTPConnection.serve_websocket: check the handshake",
        "H11Protocol.handle_websocket_upgrade, then wsproto",
        "an upgrade request is checked (RFC 6455, 4.2.1) and handed to a WebSocket "
        "protocol on the same connection",
        "swaps the asyncio Protocol on the transport (h11 to wsproto) and replays the head to it",
        ours=("server:HTTPConnection.serve_websocket", "server:check the handshake"),
        theirs=("server:*handle_websocket_upgrade", "wsproto:*receive_data"),
    ),
    MapRow(
        "WebSocketSession (timed: send, _accept)",
        "WSProtocol (timed: data_received, handle_events, handle_connect, send)",
        "websocket.connect in, websocket.accept out, then messages both ways (run and receive "
        "are left out of the times: they wait for the client)",
        "wsproto keeps the protocol state; keep-alive pings on a timer",
        ours=("websocket:WebSocketSession.send", "websocket:WebSocketSession._accept"),
        theirs=(
            "websocket:WSProtocol.send",
            "websocket:WSProtocol.handle_connect",
            "websocket:WSProtocol.data_received",
            "websocket:WSProtocol.handle_events",
        ),
    ),
    MapRow(
        "accept_key + _accept: the 101 response",
        "wsproto WSConnection.send(AcceptConnection)",
        "Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) in a 101 Switching Protocols",
        "permessage-deflate negotiation (RFC 7692), subprotocol choice",
        ours=("websocket:accept_key*",),
        theirs=("wsproto:*send",),
    ),
    MapRow(
        "the app: Router, the room handler",
        "the same app",
        "the same ASGI app",
        "",
        ours=("Router:*", "handler:*"),
        theirs=("Router:*", "handler:*"),
    ),
)

# ── 05: bare beside Starlette ────────────────────────────────────────────────

STARLETTE = (
    library("framework", "starlette.applications:Starlette.__call__", "Starlette"),
    library(
        "middleware",
        "starlette.middleware.errors:ServerErrorMiddleware.__call__",
        "ServerErrorMiddleware",
    ),
    library(
        "middleware",
        "starlette.middleware.exceptions:ExceptionMiddleware.__call__",
        "ExceptionMiddleware",
    ),
    Layer(
        "middleware",
        "bare_logging:LoggingMiddleware.*",
        lane="LoggingMiddleware",
        title="{qualname}",
    ),
    library(
        "router", ("starlette.routing:Router.__call__", "starlette.routing:Router.app"), "Router"
    ),
    library("router", "starlette.routing:Route.matches", "Router", result=describe_starlette_match),
    library("router", "starlette.routing:Route.handle", "Route"),
    library(
        "framework",
        (
            "starlette.requests:Request.__init__",
            "starlette.requests:Request.json",
            "starlette.requests:Request.body",
        ),
        "Request",
        title="{qualname}",
    ),
    library(
        "framework",
        ("starlette.responses:JSONResponse.__init__", "starlette.responses:Response.__call__"),
        "Response",
        title="{qualname}",
    ),
    library(
        "handler",
        (
            "workbook.tracer.peers.starlette_tasks:create_task",
            "workbook.tracer.peers.starlette_tasks:list_tasks",
        ),
        "handler",
        title="{function}",
    ),
)

UVICORN_AUTO = STAGE_5.layers[:2]  # uvicorn's data_received and run_asgi, whichever parser it uses

ROWS_05 = (
    MapRow(
        "Bare.__call__ / _handle",
        "Starlette.__call__ + its middleware stack",
        "the app is a stack built once: user middleware inside the framework's own",
        "ServerErrorMiddleware (500 page, debug traceback) outermost, "
        "ExceptionMiddleware for HTTPException handlers",
        ours=("Bare:*",),
        theirs=("Starlette:*", "ServerErrorMiddleware:*", "ExceptionMiddleware:*"),
    ),
    MapRow(
        "LoggingMiddleware",
        "the same LoggingMiddleware",
        "a plain ASGI middleware wraps the app",
        "",
        ours=("LoggingMiddleware:*",),
        theirs=("LoggingMiddleware:*",),
    ),
    MapRow(
        "Router.match (a dict for static paths, a trie for the rest)",
        "Router.app trying each Route.matches (a regex each)",
        "FULL / PARTIAL / NONE: PARTIAL is what makes a 405",
        "mounts, host routing, redirect_slashes",
        ours=("Router:*",),
        theirs=("Router:*", "Route:*"),
    ),
    MapRow(
        "Request.json / body",
        "Request.json / body",
        "the body is received when the handler awaits it",
        "streaming (request.stream()), form parsing, cookies",
        ours=("Request:*",),
        theirs=("Request:*",),
    ),
    MapRow(
        "JSONResponse, Response.send",
        "JSONResponse, Response.__call__",
        "two messages: start, then the body",
        "background tasks after the response, Content-Length and charset set for you",
        ours=("Response:*",),
        theirs=("Response:*",),
    ),
    MapRow("handler", "handler", "the same code", "", ours=("handler:*",), theirs=("handler:*",)),
)

# ── 06: roob under gunicorn beside Flask under gunicorn ──────────────────────

FLASK = (
    library("framework", ("flask.app:Flask.__call__", "flask.app:Flask.wsgi_app"), "Flask"),
    library(
        "framework",
        (
            "flask.app:Flask.full_dispatch_request",
            "flask.app:Flask.dispatch_request",
            "flask.app:Flask.finalize_request",
            "flask.app:Flask.make_response",
        ),
        "Flask",
    ),
    library(
        "framework",
        ("flask.ctx:RequestContext.push", "flask.ctx:RequestContext.pop"),
        "context",
        title="{qualname}",
    ),
    library(
        "router",
        "flask.ctx:RequestContext.match_request",
        "Map",
        title="match_request (Werkzeug Map)",
    ),
    library(
        "handler",
        ("flask.views:View.as_view.<locals>.view", "flask.views:MethodView.dispatch_request"),
        "MethodView",
        title="{qualname}",
    ),
    library("handler", "workbook.tracer.peers.flask_products:ProductsView.*", "controller"),
    library(
        "framework", "flask.json.provider:DefaultJSONProvider.response", "Flask", title="jsonify"
    ),
    library(
        "library",
        "werkzeug.wrappers.response:Response.__call__",
        "Response",
        title="Response.__call__",
    ),
)

PRODUCTS = Request.make("GET", "/api/products")

ROWS_06 = (
    MapRow(
        "the server",
        "the same server: gunicorn's sync worker",
        "parse, environ, app, write",
        "",
        ours=("server:*",),
        theirs=("server:*",),
    ),
    MapRow(
        "ErrorHandlerMiddleware",
        "(inside Flask.wsgi_app: handle_exception)",
        "an exception becomes a 500 response",
        "errorhandler() per exception class or status code",
        ours=("ErrorHandlerMiddleware:*",),
    ),
    MapRow(
        "Roob.__call__, RouteManager.dispatch",
        "Flask.wsgi_app, full_dispatch_request, dispatch_request",
        "wrap the environ in a request, find the view, turn its return value into a response",
        "request and app contexts (flask.request, g), before/after_request hooks, "
        "signals, sessions",
        ours=("Roob:*", "RouteManager:*"),
        theirs=("Flask:*", "context:*"),
    ),
    MapRow(
        "RoutingHelper._find_handler (a dict for static paths, a tree of parse segments)",
        "RequestContext.match_request (Werkzeug Map)",
        "path parameters, 404 and 405",
        "converters, rules compiled into a state machine, url_for",
        ours=("RoutingHelper:*",),
        theirs=("Map:*",),
    ),
    MapRow(
        "class-based controller: getattr(controller, method)",
        "MethodView.dispatch_request",
        "the method's name picks the handler (get, post...)",
        "as_view() makes a new view instance per request too",
        ours=("controller:*",),
        theirs=("MethodView:*", "controller:*"),
    ),
    MapRow(
        "ProductService + Database",
        "the same ProductService + Database",
        "the same SQL",
        "",
        ours=("ProductService:*", "Database:*"),
        theirs=("ProductService:*", "Database:*"),
    ),
    MapRow(
        "webob Request / Response",
        "werkzeug Request / Response",
        "a view of the environ; a WSGI response",
        "",
        ours=("webob:*",),
        theirs=("Response:*",),
    ),
)

GUNICORN_06 = tuple(layer for layer in GUNICORN_WORKER if "parser" not in layer.lane)
SERVICE_06 = tuple(
    layer for layer in STAGE_6.layers if layer.lane in {"ProductService", "Database"}
)

COMPARISONS: dict[int, tuple[Comparison, ...]] = {
    1: (
        _stage_1("gunicorn", "gunicorn", GUNICORN_WORKER),
        _stage_1("wsgiref", "wsgiref", WSGIREF_SERVER),
    ),
    2: (
        Comparison(
            2,
            "Werkzeug",
            our_side(STAGE_2),
            Side(
                "Werkzeug",
                "workbook.tracer.peers.werkzeug_books:app",
                STAGE_2,
                WERKZEUG,
                ("workbook.tracer.peers", "wsgirouter"),
                "rawwsgi",
            ),
            ROWS_02,
            STAGE_2.request,
            STAGE_2.warmup,
            wire=False,
        ),
    ),
    3: (
        Comparison(
            3,
            "Paste",
            our_side(STAGE_3),
            Side(
                "Paste",
                "workbook.tracer.peers.paste_onion:app",
                STAGE_3,
                (*PASTE, *STAGE_3.layers),
                ("workbook.tracer.peers", *STAGE_3.packages),
                "rawwsgi",
            ),
            ROWS_03,
            Request.make("GET", "/books", headers=[("Accept-Encoding", "gzip"), BASIC_ADMIN]),
            STAGE_3.warmup,
            wire=False,
        ),
    ),
    4: (
        Comparison(
            4,
            "uvicorn",
            our_side(STAGE_4),
            Side(
                "uvicorn",
                STAGE_4.app,
                STAGE_4,
                (*UVICORN_H11, *STAGE_4.layers[4:]),
                STAGE_4.packages,
                "uvicorn-h11",
            ),
            ROWS_04,
            STAGE_4.request,
            STAGE_4.request,
        ),
        Comparison(
            4,
            "uvicorn WebSocket",
            our_side(STAGE_4, layers=RAWASGI_WEBSOCKET),
            Side(
                "uvicorn WebSocket",
                STAGE_4.app,
                STAGE_4,
                (*UVICORN_WEBSOCKET, *UVICORN_H11, *STAGE_4.layers[4:]),
                STAGE_4.packages,
                "uvicorn-h11",
            ),
            ROWS_04_WEBSOCKET,
            HANDSHAKE,
            STAGE_4.request,
            status=101,
            cost=STAGE_4.request,
        ),
    ),
    5: (
        Comparison(
            5,
            "Starlette",
            our_side(STAGE_5),
            Side(
                "Starlette",
                "workbook.tracer.peers.starlette_tasks:app",
                STAGE_5,
                (*UVICORN_AUTO, *STARLETTE),
                ("workbook.tracer.peers", "bare_logging"),
                "uvicorn",
            ),
            ROWS_05,
            STAGE_5.request,
            STAGE_5.warmup,
            wire=False,
        ),
    ),
    6: (
        Comparison(
            6,
            "Flask",
            our_side(STAGE_6, server="gunicorn", layers=GUNICORN_06),
            Side(
                "Flask",
                "workbook.tracer.peers.flask_products:app",
                STAGE_6,
                (*GUNICORN_06, *FLASK, *SERVICE_06),
                ("workbook.tracer.peers", *STAGE_6.packages),
                "gunicorn",
            ),
            ROWS_06,
            PRODUCTS,
            PRODUCTS,
        ),
    ),
}


def comparisons(stage: int | str) -> tuple[Comparison, ...]:
    """Return the comparisons of a stage given by number or folder name."""
    number = int(profile(stage).stage[:2])
    return COMPARISONS[number]


@dataclass(frozen=True)
class NamedTable:
    """One layer table the workbook traces with, and the stage whose code it shows."""

    name: str  # "stage 04 profile", "stage 04 beside uvicorn: stage 04"
    stage: StageProfile
    layers: tuple[Layer, ...]


def every_layer_table() -> list[NamedTable]:
    """Return every layer table: each stage's profile and both sides of each comparison.

    ``tests/tracer/test_beside.py`` checks that every pattern of each one
    names a function (:func:`workbook.tracer.resolve.missing_layers`).
    """
    tables = [
        NamedTable(f"stage {stage.stage[:2]} profile", stage, stage.layers)
        for stage in (STAGE_1, STAGE_2, STAGE_3, STAGE_4, STAGE_5, STAGE_6)
    ]
    for found in COMPARISONS.values():
        for comparison in found:
            for side in (comparison.ours, comparison.theirs):
                name = f"stage {comparison.stage:02d} beside {comparison.system}: {side.name}"
                tables.append(NamedTable(name, side.stage, side.layers))
    return tables


# ── Running both sides ───────────────────────────────────────────────────────


def side_tracer(side: Side) -> Tracer:
    """Return a tracer for one side: its stage activated, its app imported."""
    activate(side.stage.stage)
    with prepared(side.stage):
        module_name, _, attribute = side.app.partition(":")
        app = getattr(importlib.import_module(module_name), attribute)
        roots = [package_root(name) for name in side.packages]
        table = LayerTable(side.layers, roots=roots, lane_titles=side.lane_titles)
        # Built here: the tracer looks up its layers' modules (stage 06's core too).
        return Tracer(app, table, protocol=side.protocol, stage=side.name, server=side.server)


@dataclass
class Measured:
    """One side's traces of the request, and what tracing it cost."""

    side: Side
    traces: list[Trace]
    untraced_ms: float  # median time of the request in process, not traced
    traced_ms: float  # median time of the same request in process, traced

    @property
    def trace(self) -> Trace:
        """Return the trace to show: the one with the median total time."""
        ordered = sorted(self.traces, key=lambda trace: trace.total)
        return ordered[len(ordered) // 2]

    def row_ms(self, patterns: tuple[str, ...]) -> float | None:
        """Return the least self time of the spans the patterns match (None: no pattern)."""
        if not patterns:
            return None
        return min(
            sum(
                time
                for key, time in self_times(trace)
                if any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)
            )
            for trace in self.traces
        )


@dataclass
class SideBySide:
    """A comparison run: both sides measured, ready to render."""

    comparison: Comparison
    ours: Measured
    theirs: Measured
    transport: str

    def text(self, *, width: int = 120) -> str:
        """Return both timelines and the map table, for a terminal."""
        from workbook.tracer.text import render_beside

        return render_beside(self, width=width)

    def map_markdown(self) -> str:
        """Return the map table as Markdown (a notebook shows it with ``Markdown(...)``)."""
        from workbook.tracer.text import render_map_markdown

        return render_map_markdown(self)


def self_times(trace: Trace) -> list[tuple[str, float]]:
    """Return ``("lane:title", self ms)`` for each span: its time less its shown children's."""
    inside: dict[int, float] = {}
    for step in trace.steps:
        if step.kind == SPAN and step.parent is not None and step.duration is not None:
            inside[step.parent] = inside.get(step.parent, 0.0) + step.duration
    return [
        (f"{step.lane}:{step.title}", max(step.duration - inside.get(step.index, 0.0), 0.0))
        for step in trace.steps
        if step.kind == SPAN and step.duration is not None
    ]


def tracer_cost(tracer: Tracer, request: Request, repeat: int = 15) -> tuple[float, float]:
    """Return the median ms of ``request`` in process, untraced and traced."""

    def timed(work: Callable[[], object]) -> float:
        started = time.perf_counter()
        work()
        return (time.perf_counter() - started) * 1000

    untraced = [
        timed(
            lambda: tracer.send(
                request.method, request.target, headers=request.headers, body=request.body
            )
        )
        for _ in range(repeat)
    ]
    with silenced():
        traced = [timed(lambda: tracer.trace_request(request)) for _ in range(repeat)]
    return statistics.median(untraced), statistics.median(traced)


def measure(
    side: Side, comparison: Comparison, *, wire: bool, repeat: int, cost_repeat: int
) -> Measured:
    """Trace the comparison's request ``repeat`` times on one side."""
    request = comparison.request
    with side_tracer(side) as tracer:
        warmup = comparison.warmup
        tracer.send(warmup.method, warmup.target, headers=warmup.headers, body=warmup.body)
        untraced, traced = tracer_cost(tracer, comparison.cost or request, cost_repeat)
        with silenced():  # the apps' own log lines: not part of the comparison
            if wire:
                with tracer.serve() as server:
                    server.trace_request(warmup)  # the server's first request pays for its imports
                    traces = [server.trace_request(request) for _ in range(repeat)]
            else:
                traces = [tracer.trace_request(request) for _ in range(repeat)]
    return Measured(side, traces, untraced, traced)


def run(
    comparison: Comparison, *, wire: bool | None = None, repeat: int = 5, cost_repeat: int = 15
) -> SideBySide:
    """Trace the comparison's request on both sides and return them side by side.

    ``repeat`` traced requests per side give the (least) times of the map;
    ``cost_repeat`` untraced and traced ones in process, the tracer's cost.
    """
    over_socket = comparison.wire if wire is None else wire
    ours = measure(
        comparison.ours, comparison, wire=over_socket, repeat=repeat, cost_repeat=cost_repeat
    )
    theirs = measure(
        comparison.theirs, comparison, wire=over_socket, repeat=repeat, cost_repeat=cost_repeat
    )
    return SideBySide(comparison, ours, theirs, "socket" if over_socket else "in process")


def beside(stage: int | str, system: str | None = None, **options: Any) -> SideBySide:
    """Run the stage's comparison with ``system`` (default: its first) and return it."""
    chosen = comparisons(stage)
    for comparison in chosen:
        if system is None or comparison.system.lower() == system.lower():
            return run(comparison, **options)
    names = ", ".join(comparison.system for comparison in chosen)
    raise LookupError(f"stage {stage} is traced beside {names}, not {system!r}")

"""One layer table per stage: which of its functions are steps, in which lane.

A profile names the stage's example app, the packages whose code the
tracer follows, its layers (the small declarative table of
:mod:`workbook.tracer.layers`), the server it runs under in a thread, and
the representative request ``make trace-N`` sends. :func:`stage_tracer`
turns a profile into a ready :class:`~workbook.tracer.core.Tracer` for the
stage copy under test (the reference, or a learner's copy chosen by
``WORKBOOK_STAGE_DIR``).

Describers turn what a layer returned into the sentence a reader wants:
``Router.lookup`` returns a ``Lookup``; the trace says "FULL: GET
/books/{id:int} -> get_book, params {'id': 1}".
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbook.stages import activate, stage_name, stage_number
from workbook.tracer.core import Tracer
from workbook.tracer.http import Request
from workbook.tracer.layers import Call, Layer, LayerTable, short
from workbook.tracer.model import CLIENT, SERVER

Described = str | tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class StageProfile:
    """How to trace one stage: its app, its layers, its server, its sample request."""

    stage: str
    protocol: str
    app: str
    packages: tuple[str, ...]
    layers: tuple[Layer, ...]
    request: Request
    server: str
    question: str
    warmup: Request = field(default_factory=Request)
    lane_titles: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], contextlib.AbstractContextManager[None]] | None = None
    #: True where the stage teaches the server: ``make trace-N`` then sends
    #: the request over a socket, so the parser, the environ or scope
    #: building and the writes are in the trace (stages 01 and 04).
    wire: bool = False


# ── Describers shared by the stages ──────────────────────────────────────────


def name_of(handler: Any) -> str:
    """Return a handler's readable name: ``ProductCreatController.post``."""
    function = getattr(handler, "__func__", handler)
    return getattr(function, "__qualname__", None) or repr(handler)


def enum_name(value: Any) -> str:
    return getattr(value, "name", str(value))


def request_head(head: Any) -> str:
    """Describe a parsed request head: ``POST /echo?name=wsgi HTTP/1.1, 4 headers``."""
    if head is None:
        return "None (the connection ends)"
    if not hasattr(head, "method"):
        return short(head)
    return f"{head.method} {head.target} {head.version}, {len(head.headers)} headers"


def describe_head(call: Call) -> Described:
    return request_head(call.value)


def describe_environ(call: Call) -> Described:
    value = call.value
    return f"environ ({len(value)} keys)" if isinstance(value, dict) else short(value)


def describe_parser_event(call: Call) -> Described:
    """Describe what ``RequestParser.next_event`` produced."""
    value = call.value
    kind = type(value).__name__
    if kind == "RequestHead":
        return "RequestHead: " + request_head(value)
    if kind == "Body":
        return f"Body({short(value.data)})"
    return short(value)


def describe_status(call: Call) -> Described:
    """Describe a response object by its status (webob, wsgirouter, bare)."""
    value = call.value
    if value is None:
        return ""
    status = getattr(value, "status_line", None) or getattr(value, "status", None)
    if status is None:
        return short(value)
    return f"{type(value).__name__} {status}"


# ── Stage 01: a raw WSGI app on a socket server ──────────────────────────────

#: The server side of stage 01, for the stages that run on its server.
RAWWSGI_SERVER_BRIEF = (
    Layer(
        "server",
        "rawwsgi.server:Connection._read_head",
        lane=SERVER,
        title="read the request head",
        result=describe_head,
    ),
    Layer("server", "rawwsgi.environ:build_environ", lane=SERVER, result=describe_environ),
    Layer("server", "rawwsgi.server:run_app", lane=SERVER),
    Layer("server", "rawwsgi.server:Connection._send", lane=SERVER, title="sock.sendall"),
)

RAWWSGI_SERVER_DETAILED = (
    Layer(
        "server", "rawwsgi.server:WSGIServer._accept", lane=SERVER, title="accept", source=CLIENT
    ),
    Layer(
        "server", "rawwsgi.server:Connection.run", lane=SERVER, title="Connection.run (new thread)"
    ),
    Layer("server", "rawwsgi.server:Connection._read_head", lane=SERVER, result=describe_head),
    Layer("server", "rawwsgi.http11:RequestParser.feed", lane="parser"),
    Layer(
        "server",
        "rawwsgi.http11:RequestParser.next_event",
        lane="parser",
        result=describe_parser_event,
    ),
    Layer("server", "rawwsgi.environ:build_environ", lane=SERVER, result=describe_environ),
    Layer("server", "rawwsgi.server:run_app", lane=SERVER),
    Layer("server", "rawwsgi.environ:RequestBody.read", lane=SERVER, title="wsgi.input.read"),
    Layer(
        "server",
        ("rawwsgi.response:Response.write", "rawwsgi.response:Response.finish"),
        lane=SERVER,
    ),
    Layer("server", "rawwsgi.server:Connection._send", lane=SERVER, title="sock.sendall"),
)

STAGE_1 = StageProfile(
    stage="01_raw_wsgi",
    protocol="wsgi",
    app="rawwsgi.apps:app",
    packages=("rawwsgi",),
    layers=(
        *RAWWSGI_SERVER_DETAILED,
        Layer("router", "rawwsgi.apps:app", lane="app", title="app (dispatch on PATH_INFO)"),
        Layer(
            "handler",
            (
                "rawwsgi.apps:hello",
                "rawwsgi.apps:echo",
                "rawwsgi.apps:not_found",
                "rawwsgi.apps:method_not_allowed",
            ),
            lane="handler",
        ),
    ),
    request=Request.make(
        "POST", "/echo?name=wsgi", body="hello", headers=[("Content-Type", "text/plain")]
    ),
    server="rawwsgi",
    question=(
        "What happens between the bytes a client sends and the call app(environ, start_response)?"
    ),
    wire=True,
)


# ── Stage 02: a router ───────────────────────────────────────────────────────


def describe_lookup(call: Call) -> Described:
    """Describe ``Router.lookup``'s ``Lookup``: the router's decision."""
    lookup = call.value
    match = enum_name(lookup.match)
    method, path = call.args.get("method"), call.args.get("path")
    if match == "FULL":
        route = lookup.route
        data = {
            "match": "full",
            "route": route.pattern,
            "handler": route.name,
            "params": dict(lookup.params),
        }
        return f"FULL: {route.pattern} -> {route.name}, params {dict(lookup.params)}", data
    if match == "PARTIAL":
        allowed = list(lookup.allowed)
        # The routers answer OPTIONS themselves (200 with Allow); any other method is a 405.
        answer = "200" if method == "OPTIONS" else "405"
        return (
            f"PARTIAL: {path} matches, {method} does not -> {answer}, Allow: {', '.join(allowed)}",
            {"match": "partial", "allowed": allowed},
        )
    return f"NONE: no route matches {path} -> 404", {"match": "none"}


ROUTER_LAYERS = (
    Layer(
        "router",
        (
            "wsgirouter.router:Router.__call__",
            "wsgirouter.router:Router.dispatch",
            "wsgirouter.router:Router.error_response",
        ),
        lane="Router",
        result=describe_status,
    ),
    Layer("router", "wsgirouter.trie:PathIndex.lookup", lane="Router", result=describe_lookup),
    Layer(
        "framework",
        (
            "wsgirouter.request:Request.__init__",
            "wsgirouter.request:Request.json",
            "wsgirouter.request:Request.body",
        ),
        lane="Request",
    ),
    Layer(
        "framework",
        ("wsgirouter.response:Response.json", "wsgirouter.response:Response.__call__"),
        lane="Response",
        result=describe_status,
    ),
    Layer(
        "handler",
        ("wsgirouter.example:create_app.<locals>.*", "wsgirouter.example:validate_book"),
        lane="handler",
        title="{function}",
        result=describe_status,
    ),
    Layer("data", "wsgirouter.example:BookStore.*", lane="BookStore"),
)

STAGE_2 = StageProfile(
    stage="02_router",
    protocol="wsgi",
    app="wsgirouter.example:app",
    packages=("wsgirouter", "rawwsgi"),
    layers=(*RAWWSGI_SERVER_BRIEF, *ROUTER_LAYERS),
    request=Request.make("GET", "/books/2"),
    server="rawwsgi",
    warmup=Request.make("GET", "/books"),
    question=(
        "How does a router turn GET /books/2 into get_book(request, id=2), "
        "and when is it a 404 or a 405?"
    ),
)


# ── Stage 03: the middleware onion ───────────────────────────────────────────

ONION = ("AccessLog", "RequestID", "ErrorHandler", "CORS", "Gzip", "BasicAuth")

STAGE_3 = StageProfile(
    stage="03_middleware",
    protocol="wsgi",
    app="onion.example:app",
    packages=("onion", "wsgirouter", "rawwsgi"),
    layers=(
        *RAWWSGI_SERVER_BRIEF,
        # Each middleware's methods, and the functions it defines inside them
        # (a start_response or a body generator of its own), in its own lane.
        Layer("middleware", tuple(f"onion.*:{name}.*" for name in ONION), lane="{cls}"),
        Layer(
            "middleware",
            ("onion.gzip:PendingResponse.*", "onion.gzip:compress_*", "onion.gzip:accepts_gzip"),
            lane="Gzip",
        ),
        Layer("middleware", "onion.request_id:new_id", lane="RequestID"),
        Layer(
            "handler",
            (
                "onion.example:boom",
                "onion.example:boom_stream",
                "onion.example:boom_stream.<locals>.lines",
            ),
            lane="handler",
            title="{function}",
        ),
        *ROUTER_LAYERS,
    ),
    request=Request.make("GET", "/books", headers=[("Accept-Encoding", "gzip")]),
    warmup=Request.make("GET", "/books/1"),
    server="rawwsgi",
    question=(
        "Six middlewares wrap the books API: in which order does a request pass them, "
        "and the response pass back?"
    ),
)


# ── Stage 04: raw ASGI, its router and middleware ────────────────────────────


def describe_scope_lookup(call: Call) -> Described:
    """Describe stage 04's ``Router.lookup(scope)``: stage 02's ``Lookup``, for a scope."""
    scope = call.args.get("scope") or {}
    method = scope.get("method", "WebSocket")
    return describe_lookup(
        Call({"method": method, "path": scope.get("path")}, call.value, call.error)
    )


RAWASGI_SERVER = (
    Layer("server", "rawasgi.server:ASGIServer._handle_connection", lane=SERVER, source=CLIENT),
    Layer(
        "server", "rawasgi.connection:HTTPConnection.read_head", lane=SERVER, result=describe_head
    ),
    Layer("server", "rawasgi.connection:RequestCycle.run", lane=SERVER),
    Layer("server", "rawasgi.connection:HTTPConnection.write", lane=SERVER, title="writer.write"),
)

STAGE_4 = StageProfile(
    stage="04_asgi",
    protocol="asgi",
    app="rawasgi.example:app",
    packages=("rawasgi",),
    layers=(
        *RAWASGI_SERVER,
        Layer("middleware", "rawasgi.middleware.*:*", lane="{cls}", title="{qualname}"),
        Layer("router", "rawasgi.routing:Router.__call__", lane="Router"),
        Layer(
            "router", "rawasgi.routing:Router.lookup", lane="Router", result=describe_scope_lookup
        ),
        Layer(
            "handler",
            (
                "rawasgi.example:*",
                "rawasgi.apps:echo",
                "rawasgi.apps:hello",
                "rawasgi.apps:read_body",
                "rawasgi.apps:not_found",
            ),
            lane="handler",
            title="{function}",
        ),
        Layer("framework", "rawasgi.responses:send_*", lane="responses", title="{function}"),
    ),
    request=Request.make("POST", "/echo", body="hello", headers=[("Content-Type", "text/plain")]),
    server="rawasgi",
    question=(
        "Where a WSGI app returned a finished body, an ASGI app talks: "
        "which events cross between server and app, and through which layers?"
    ),
    wire=True,
)


# ── Stage 05: bare ───────────────────────────────────────────────────────────


def describe_bare_match(call: Call) -> Described:
    """Describe ``Router.match``'s ``(Match, endpoint, params, allowed)``."""
    match, endpoint, params, allowed = call.value
    kind = enum_name(match)
    if kind == "FULL":
        handler = name_of(endpoint.handler)
        return (
            f"FULL: {endpoint.method} {endpoint.path} -> {handler}, params {dict(params)}",
            {"match": "full", "route": endpoint.path, "handler": handler, "params": dict(params)},
        )
    if kind == "PARTIAL":
        return (
            f"PARTIAL: the path matches, {call.args.get('method')} does not -> 405, "
            f"Allow: {', '.join(allowed)}",
            {"match": "partial", "allowed": list(allowed)},
        )
    return f"NONE: no route matches {call.args.get('path')} -> 404", {"match": "none"}


def describe_bare_response(call: Call) -> Described:
    value = call.value
    if value is None:
        return ""
    return f"{type(value).__name__} {getattr(value, 'status', '')}".strip()


STAGE_5 = StageProfile(
    stage="05_bare",
    protocol="asgi",
    app="example_app:app",
    packages=("bare", "bare_logging", "example_app"),
    layers=(
        Layer(
            "server",
            "uvicorn.protocols.http.*:*Protocol.data_received",
            lane=SERVER,
            title="uvicorn data_received",
            external=True,
            source=CLIENT,
        ),
        Layer(
            "server",
            "uvicorn.protocols.http.*:RequestResponseCycle.run_asgi",
            lane=SERVER,
            title="uvicorn run_asgi",
            external=True,
        ),
        Layer(
            "middleware",
            "bare_logging:LoggingMiddleware.*",
            lane="LoggingMiddleware",
            title="{qualname}",
        ),
        Layer(
            "framework",
            (
                "bare:Bare.__call__",
                "bare:Bare._handle",
                "bare:Bare._serve_http",
                "bare:Bare._respond",
            ),
            lane="Bare",
            result=describe_bare_response,
        ),
        Layer("router", "bare:Router.match", lane="Router", result=describe_bare_match),
        Layer("framework", ("bare:Request.json", "bare:Request.body"), lane="Request"),
        Layer(
            "framework",
            (
                "bare:Response.send",
                "bare:JSONResponse.__init__",
                "bare:HTMLResponse.__init__",
                "bare:RedirectResponse.__init__",
            ),
            lane="Response",
            title="{qualname}",
        ),
        Layer(
            "handler",
            "example_app:*",
            lane="handler",
            title="{function}",
            result=describe_bare_response,
        ),
    ),
    request=Request.make("POST", "/tasks", json={"title": "Built with bare"}),
    server="uvicorn",
    warmup=Request.make("GET", "/tasks"),
    question=(
        "What does a whole framework add between uvicorn's scope and your handler, "
        "and what does each piece cost?"
    ),
    lane_titles={"Bare": "Bare (the app)"},
)


# ── Stage 06: roob ───────────────────────────────────────────────────────────


def describe_roob_find(call: Call) -> Described:
    """Describe ``RoutingHelper._find_handler``'s ``(route, params)``."""
    route, params = call.value
    request = call.args.get("request")
    path = getattr(request, "path_info", "?")
    if route is None:
        return f"no route matches {path} -> 404", {"match": "none"}
    handler = name_of(route.handler)
    return (
        f"matched {route.path} -> {handler}, params {dict(params)}",
        {"match": "full", "route": route.path, "handler": handler, "params": dict(params)},
    )


def describe_roob_handler(call: Call) -> Described:
    """Describe ``(handler, kwargs)``: which callable answers, with what."""
    handler, kwargs = call.value
    name = name_of(handler)
    data: dict[str, Any] = {"handler": name, "kwargs": {k: v for k, v in kwargs.items()}}
    if name.endswith("method_not_allowed_handler"):
        data["match"] = "partial"
        return f"{name} (405, Allow: {kwargs.get('allow')})", data
    if name.endswith("url_not_found_handler"):
        data["match"] = "none"
        return f"{name} (404)", data
    return f"{name}, kwargs {dict(kwargs)}", data


def describe_webob_response(call: Call) -> Described:
    kwargs = call.args.get("kw") or {}
    body = kwargs.get("json_body", kwargs.get("json"))
    status = call.args.get("status")
    parts = [f"status={status}"] if status is not None else []
    if body is not None:
        parts.append(f"json_body={short(body)}")
    return "(" + ", ".join(parts) + ")"


@contextlib.contextmanager
def roob_database() -> Iterator[None]:
    """Point roob's sample app at a throwaway SQLite file while it is imported.

    ``core`` reads ``ROOB_DB`` once, at import; the variable is put back
    right after, and the folder is removed when the process ends, so a
    traced POST never changes the stage's own ``products.db``.
    """
    if "core" in sys.modules:
        yield
        return
    folder = tempfile.mkdtemp(prefix="roob-trace-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    previous = os.environ.get("ROOB_DB")
    os.environ["ROOB_DB"] = str(Path(folder) / "products.db")
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("ROOB_DB", None)
        else:
            os.environ["ROOB_DB"] = previous


STAGE_6 = StageProfile(
    stage="06_roob",
    protocol="wsgi",
    app="core.main:app",
    packages=("roob", "core", "rawwsgi"),
    layers=(
        *RAWWSGI_SERVER_BRIEF,
        Layer(
            "middleware", "roob.middlewares:ErrorHandlerMiddleware.*", lane="ErrorHandlerMiddleware"
        ),
        Layer("framework", "roob.framework:Roob.__call__", lane="Roob"),
        Layer(
            "router",
            "roob.routing_manager:RouteManager.dispatch",
            lane="RouteManager",
            result=describe_status,
        ),
        Layer(
            "router",
            ("roob.helpers:RoutingHelper._find_handler",),
            lane="RoutingHelper",
            result=describe_roob_find,
        ),
        Layer(
            "router",
            (
                "roob.helpers:RoutingHelper.get_handler",
                "roob.helpers:RoutingHelper._find_class_based_handler",
            ),
            lane="RoutingHelper",
            result=describe_roob_handler,
        ),
        Layer(
            "handler",
            "roob.common_handlers:CommonHandlers.*",
            lane="controller",
            result=describe_status,
        ),
        Layer("handler", "core.product_controller:*", lane="controller", result=describe_status),
        Layer(
            "service",
            (
                "core.service.product_service:ProductService.*",
                "core.service.product_service:validate_product",
            ),
            lane="ProductService",
        ),
        Layer(
            "data",
            ("core.database:Database.transaction", "core.database:Database.initialize"),
            lane="Database",
        ),
        Layer(
            "library",
            "webob.request:BaseRequest.__init__",
            lane="webob",
            title="webob.Request",
            call=lambda call: "(environ)",
            external=True,
        ),
        Layer("framework", "roob.bodies:read_json", lane="roob.bodies", title="read_json"),
        Layer(
            "library",
            "webob.response:Response.__init__",
            lane="webob",
            title="webob.Response",
            call=describe_webob_response,
            external=True,
        ),
        Layer(
            "library",
            "webob.response:Response.__call__",
            lane="webob",
            title="Response.__call__",
            external=True,
        ),
    ),
    request=Request.make(
        "POST", "/api/products", json={"id": 5, "product_name": "Test", "brand": "TestCo"}
    ),
    server="rawwsgi",
    warmup=Request.make("GET", "/api/products"),
    question=(
        "The chapter traces POST /api/products with invented timings (T=1ms, T=2ms, ...): "
        "what really happens, and when?"
    ),
    prepare=roob_database,
)

PROFILES: dict[int, StageProfile] = {
    1: STAGE_1,
    2: STAGE_2,
    3: STAGE_3,
    4: STAGE_4,
    5: STAGE_5,
    6: STAGE_6,
}


# ── From a profile to a tracer ───────────────────────────────────────────────


def profile(stage: int | str) -> StageProfile:
    """Return the profile of a stage given by number or folder name."""
    number = stage_number(stage)
    if number not in PROFILES:
        raise LookupError(f"the tracer has no profile for stage {stage_name(stage)} yet")
    return PROFILES[number]


def prepared(chosen: StageProfile) -> contextlib.AbstractContextManager[None]:
    """Return the context the stage's modules must be imported in (stage 06: its database)."""
    return chosen.prepare() if chosen.prepare is not None else contextlib.nullcontext()


def package_root(name: str) -> Path:
    """Return the folder of an imported package, or the file of a module."""
    module = importlib.import_module(name)
    file = Path(getattr(module, "__file__", "") or "")
    return file.parent if file.name == "__init__.py" else file


def stage_tracer(stage: int | str) -> Tracer:
    """Return a tracer for the stage's example app, with its layer table.

    The stage folder under test goes first on ``sys.path`` (the reference
    in ``stages/``, or the copy named by ``WORKBOOK_STAGE_DIR``).
    """
    chosen = profile(stage)
    activate(chosen.stage)
    with prepared(chosen):
        module_name, _, attribute = chosen.app.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            raise LookupError(f"stage {chosen.stage} cannot be traced: {error}") from error
        app = getattr(module, attribute)
        roots = [package_root(name) for name in chosen.packages]
        table = LayerTable(chosen.layers, roots=roots, lane_titles=chosen.lane_titles)
        # Built here: the tracer looks up its layers' modules (stage 06's core too).
        return Tracer(
            app, table, protocol=chosen.protocol, stage=chosen.stage, server=chosen.server
        )


def tracer_for(
    stage: int | str,
    app: object,
    *,
    layers: tuple[Layer, ...] = (),
    roots: tuple[str | Path, ...] = (),
    server: str | None = None,
) -> Tracer:
    """Return a tracer for an app of your own built on a stage's framework.

    The stage's layer table still applies, with ``layers`` tried first and
    ``roots`` (your app's files) followed too: a tiny app with a failing
    handler shows where the stage's own layers catch the failure.
    """
    chosen = profile(stage)
    activate(chosen.stage)
    with prepared(chosen):
        package_roots = [package_root(name) for name in chosen.packages]
        table = LayerTable(
            (*layers, *chosen.layers),
            roots=[*package_roots, *roots],
            lane_titles=chosen.lane_titles,
        )
        return Tracer(
            app, table, protocol=chosen.protocol, stage=chosen.stage, server=server or chosen.server
        )

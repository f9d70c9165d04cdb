"""The tracer's engine, on small WSGI and ASGI apps declared here.

Each app is a few functions in this file; the layer table puts them in
lanes. The tests check what the recorder saw: spans in call order with
the right parents, results and errors, protocol events with their data,
generator and coroutine bodies, threads of a real server, and the bytes on
the wire.
"""

from __future__ import annotations

import json
import sys
import threading
from wsgiref.validate import validator

import pytest

from workbook.tracer import PROTOCOL, SPAN, WIRE, Lane, Layer, LayerTable, Trace, Tracer
from workbook.tracer.resolve import MissingLayer

HERE = __file__


# ── A tiny WSGI app: two middlewares, a router function, handlers ────────────


class Outer:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class Guard:
    """Answer 500 when the app raises (the error middleware of this file)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception:
            start_response(
                "500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info()
            )
            return [b"error"]


def lookup(path):
    return {"/hello": hello, "/stream": stream, "/boom": boom}.get(path)


def dispatch(environ, start_response):
    handler = lookup(environ["PATH_INFO"])
    if handler is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    return handler(environ, start_response)


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def stream(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"one "
    yield b"two"


def boom(environ, start_response):
    raise ValueError("kaput")


WSGI_TABLE_LAYERS = (
    Layer("middleware", ("*:Outer.__call__", "*:Guard.__call__"), lane="{cls}"),
    Layer("router", ("*:dispatch", "*:lookup"), lane="router"),
    Layer("handler", ("*:hello", "*:stream", "*:boom"), lane="handler"),
)


def wsgi_tracer(app=None) -> Tracer:
    table = LayerTable(WSGI_TABLE_LAYERS, roots=[HERE])
    return Tracer(app or Outer(Guard(dispatch)), table, protocol="wsgi", stage="engine")


def spans(trace: Trace) -> list[tuple[str, str]]:
    """Return (lane, title) of each span, in the order the calls began."""
    return [(step.lane, step.title) for step in trace.steps if step.kind == SPAN]


# ── Spans ─────────────────────────────────────────────────────────────────────


def test_spans_follow_the_call_order_through_every_layer():
    """A request is seen entering each middleware, the router and the handler, in order."""
    trace = wsgi_tracer().trace("GET", "/hello")
    assert spans(trace) == [
        ("Outer", "Outer.__call__"),
        ("Guard", "Guard.__call__"),
        ("router", "dispatch"),
        ("router", "lookup"),
        ("handler", "hello"),
    ]


def test_each_span_knows_its_parent_and_the_lane_it_was_called_from():
    """A span's parent is the call it happened in; its source is that call's lane."""
    trace = wsgi_tracer().trace("GET", "/hello")
    guard, dispatch_span = trace.span("Guard.__call__"), trace.span("dispatch")
    assert (dispatch_span.parent, dispatch_span.source, dispatch_span.depth) == (
        guard.index,
        "Guard",
        2,
    )


def test_a_span_records_what_it_returned():
    """The router's return value is the span's result, in words."""
    trace = wsgi_tracer().trace("GET", "/hello")
    assert trace.span("lookup").result == "hello"


def test_a_span_lasts_from_its_call_to_its_return():
    """A caller's span encloses its callee's: it starts before and ends after."""
    trace = wsgi_tracer().trace("GET", "/hello")
    outer, handler = trace.span("Outer.__call__"), trace.span("hello")
    assert outer.start <= handler.start and handler.end <= outer.end


def test_lanes_appear_in_the_order_the_request_reached_them():
    """The diagram's lanes are ordered by first arrival: server, outer middleware inward."""
    trace = wsgi_tracer().trace("GET", "/hello")
    assert [lane.name for lane in trace.lanes] == ["server", "Outer", "Guard", "router", "handler"]


def test_an_exception_is_recorded_on_every_span_it_leaves():
    """A handler's exception marks it and each layer it passes, up to the one that catches it."""
    trace = wsgi_tracer().trace("GET", "/boom")
    errors = {step.title: step.error for step in trace.spans()}
    assert (errors["boom"], errors["dispatch"], errors["Guard.__call__"]) == (
        "raised ValueError: kaput",
        "raised ValueError: kaput",
        "",
    )


def test_the_layer_that_catches_an_exception_answers():
    """The error middleware's start_response (with exc_info) is the one the server gets."""
    trace = wsgi_tracer().trace("GET", "/boom")
    calls = [step for step in trace.steps if step.title == "start_response"]
    assert [(step.source, step.data["status"]) for step in calls] == [
        ("Guard", "500 Internal Server Error")
    ]
    assert calls[0].data["exc_info"] == "ValueError('kaput')"


def test_an_app_that_raises_to_the_in_process_server_gets_a_500():
    """With no error middleware, the in-process server answers 500 and notes why."""
    trace = wsgi_tracer(app=Outer(dispatch)).trace("GET", "/boom")
    notes = [step.detail for step in trace.steps if step.title == "500"]
    assert (trace.status, notes) == (
        500,
        ["the app raised ValueError: kaput; the server answers 500"],
    )


# ── The WSGI protocol ─────────────────────────────────────────────────────────


def test_start_response_is_an_arrow_from_the_calling_layer_to_the_server():
    """start_response is recorded with its status and headers, from the handler's lane."""
    trace = wsgi_tracer().trace("GET", "/hello")
    (call,) = [step for step in trace.steps if step.title == "start_response"]
    assert (call.kind, call.source, call.lane, call.data["status"]) == (
        PROTOCOL,
        "handler",
        "server",
        "200 OK",
    )
    assert call.data["headers"] == [["Content-Type", "text/plain"], ["Content-Length", "5"]]


def test_the_environ_the_app_saw_is_kept_in_full():
    """The trace holds the environ the app was called with, file objects named."""
    trace = wsgi_tracer().trace("GET", "/hello?x=1")
    assert (trace.environ["PATH_INFO"], trace.environ["QUERY_STRING"]) == ("/hello", "x=1")
    assert trace.environ["wsgi.input"] == "<_io.BytesIO>"


def test_a_generator_body_runs_when_the_server_iterates_it():
    """A generator handler's span starts after the app returned, called by the server."""
    trace = wsgi_tracer().trace("GET", "/stream")
    handler, outer = trace.span("stream"), trace.span("Outer.__call__")
    assert (handler.source, handler.start > outer.end, trace.response_body) == (
        "server",
        True,
        b"one two",
    )


def test_each_body_chunk_is_an_event_from_the_layer_that_made_it():
    """Body chunks are events from the generator's lane, in order."""
    trace = wsgi_tracer().trace("GET", "/stream")
    chunks = [(step.source, step.data["bytes"]) for step in trace.steps if step.title == "body"]
    assert chunks == [("handler", b"one "), ("handler", b"two")]


def test_the_in_process_environ_passes_the_wsgi_validator():
    """The environ the tracer builds satisfies wsgiref.validate (PEP 3333)."""
    trace = wsgi_tracer(app=validator(Outer(dispatch))).trace(
        "POST", "/hello", body=b"x=1", headers={"Content-Type": "text/plain"}
    )
    assert trace.status == 200


# ── The layer table ───────────────────────────────────────────────────────────


def test_calls_no_layer_names_are_followed_but_not_shown():
    """With others="hide", an unnamed function is not a step; its callees still are."""
    table = LayerTable([Layer("handler", "*:hello")], roots=[HERE])
    trace = Tracer(Outer(dispatch), table, protocol="wsgi").trace("GET", "/hello")
    assert spans(trace) == [("handler", "hello")]


def test_others_show_puts_unnamed_calls_in_a_lane_named_by_module():
    """With others="show", every call under the roots is a step."""
    table = LayerTable([Layer("handler", "*:hello")], roots=[HERE], others="show")
    trace = Tracer(dispatch, table, protocol="wsgi").trace("GET", "/hello")
    assert [title for _, title in spans(trace)] == ["dispatch", "lookup", "hello"]


def test_code_outside_the_roots_is_never_shown_unless_external():
    """A pattern that matches library code shows it only when the layer says external=True."""
    import json as library

    def app(environ, start_response):
        start_response("200 OK", [])
        return [library.dumps({"a": 1}).encode()]

    plain = LayerTable([Layer("library", "json:dumps")], roots=[HERE])
    external = LayerTable([Layer("library", "json:dumps", external=True)], roots=[HERE])
    shown = [spans(Tracer(app, table, protocol="wsgi").trace()) for table in (plain, external)]
    assert shown == [[], [("library", "dumps")]]


def test_a_pattern_that_names_no_function_is_listed_in_the_trace():
    """A layer whose function was renamed is not silently dropped: the trace lists it,
    the timeline says so above the steps, and the JSON carries it."""
    table = LayerTable(
        [
            Layer("handler", "*:hello"),
            Layer("library", ("json:dumps", "json:dumps_renamed"), lane="json", external=True),
        ],
        roots=[HERE],
    )
    trace = Tracer(dispatch, table, protocol="wsgi").trace("GET", "/hello")
    assert trace.missing_layers == [MissingLayer("library", "json", "json:dumps_renamed")]
    assert (
        "! layer not found: library lane 'json': no function matches 'json:dumps_renamed'"
        in trace.timeline(width=60)  # never cut at the width
    )
    assert trace.to_dict()["missing_layers"][0]["pattern"] == "json:dumps_renamed"


def test_a_table_whose_patterns_all_resolve_reports_nothing_missing():
    """A whole table adds no line; a pattern over any module (*:hello) cannot be checked
    and is not reported."""
    trace = wsgi_tracer().trace("GET", "/hello")
    assert trace.missing_layers == [] and "layer not found" not in trace.timeline()


def test_a_layer_pattern_must_name_module_and_function():
    """A pattern without a colon is a configuration error."""
    with pytest.raises(ValueError, match="module:qualname"):
        Layer("handler", "hello")


def test_the_recorder_is_removed_after_a_trace():
    """Tracing leaves no trace function installed in the calling thread or for new threads."""
    wsgi_tracer().trace("GET", "/hello")
    assert (sys.gettrace(), threading.gettrace()) == (None, None)


# ── ASGI: messages and coroutines ─────────────────────────────────────────────


class Timing:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def timed_send(message):
            await send(message)

        await self.app(scope, receive, timed_send)


async def read_all(receive):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def echo_json(scope, receive, send):
    if scope["type"] == "lifespan":
        message = await receive()
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        if message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
        return
    data = json.loads(await read_all(receive))
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(data).encode()})


@pytest.fixture
def asgi_tracer():
    """A tracer for the ASGI app above; closed (lifespan shutdown, loop stopped) after the test."""
    table = LayerTable(
        [
            Layer("middleware", "*:Timing.*", lane="Timing"),
            Layer("handler", ("*:echo_json", "*:read_all"), lane="handler"),
        ],
        roots=[HERE],
    )
    with Tracer(Timing(echo_json), table, protocol="asgi", stage="engine") as tracer:
        yield tracer


def test_asgi_receive_and_send_are_events_with_their_messages(asgi_tracer):
    """Each receive and send is recorded with its message, in order."""
    trace = asgi_tracer.trace("POST", "/echo", json={"a": 1})
    events = [(step.title, step.source, step.lane) for step in trace.steps if step.kind == PROTOCOL]
    assert events == [
        ("receive http.request", "server", "handler"),
        ("send http.response.start", "Timing", "server"),
        ("send http.response.body", "Timing", "server"),
    ]


def test_asgi_messages_are_kept_in_full(asgi_tracer):
    """The trace keeps every message that crossed, with its direction."""
    trace = asgi_tracer.trace("POST", "/echo", json={"a": 1})
    assert [(m["direction"], m["type"]) for m in trace.messages] == [
        ("receive", "http.request"),
        ("send", "http.response.start"),
        ("send", "http.response.body"),
    ]
    assert trace.messages[0]["body"] == b'{"a": 1}'


def test_a_coroutine_span_stays_open_across_its_awaits(asgi_tracer):
    """A coroutine that awaits is one span, from its first call to its return."""
    trace = asgi_tracer.trace("POST", "/echo", json={"a": 1})
    handler = trace.span("echo_json")
    sends = [step for step in trace.steps if step.title.startswith("send ")]
    assert [handler.start < send.start < handler.end for send in sends] == [True, True]
    assert len(trace.spans("echo_json")) == 1


def test_the_asgi_scope_is_kept_in_full(asgi_tracer):
    """The trace holds the scope the app was called with."""
    trace = asgi_tracer.trace("POST", "/echo?x=1", json={"a": 1})
    assert (trace.scope["path"], trace.scope["query_string"], trace.scope["method"]) == (
        "/echo",
        b"x=1",
        "POST",
    )


def test_an_asgi_app_that_raises_gets_a_500_from_the_in_process_server(asgi_tracer):
    """Bad JSON makes the handler raise; the error is on its span and the answer is 500."""
    trace = asgi_tracer.trace("POST", "/echo", body=b"{bad")
    assert (trace.status, trace.span("echo_json").error.startswith("raised JSONDecodeError")) == (
        500,
        True,
    )


def test_the_in_process_asgi_server_runs_the_lifespan_once_around_all_requests():
    """Startup before the first request, shutdown at close(), never recorded in a trace."""
    events = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    table = LayerTable([Layer("handler", "*:*.<locals>.app", title="{function}")], roots=[HERE])
    with Tracer(app, table, protocol="asgi") as tracer:
        first, second = tracer.trace(), tracer.trace()
        assert events == ["lifespan.startup"]
    assert events == ["lifespan.startup", "lifespan.shutdown"]
    assert [len(trace.spans("app")) for trace in (first, second)] == [1, 1]


# ── Over a real socket ────────────────────────────────────────────────────────


def test_a_socket_trace_records_the_bytes_both_ways():
    """Over a socket, the request and response bytes are wire steps at both ends of the trace."""
    with wsgi_tracer().serve() as server:
        trace = server.trace("GET", "/hello")
    wires = [step for step in trace.steps if step.kind == WIRE]
    assert [(step.source, step.lane) for step in wires] == [
        ("client", "server"),
        ("server", "client"),
    ]
    assert trace.request_bytes.startswith(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:")
    assert (
        trace.response_bytes.startswith(b"HTTP/1.0 200 OK\r\n") and trace.response_body == b"hello"
    )


def test_a_socket_trace_follows_the_server_thread():
    """The layers ran in the server's thread and are recorded there, in order."""
    with wsgi_tracer().serve() as server:
        trace = server.trace("GET", "/hello")
    assert spans(trace)[0] == ("Outer", "Outer.__call__")
    assert trace.span("hello").thread != "client"


def test_a_live_server_traces_one_request_at_a_time():
    """Two traces on one server each hold only their own request."""
    with wsgi_tracer().serve() as server:
        first, second = server.trace("GET", "/hello"), server.trace("GET", "/nope")
    assert (first.status, second.status) == (200, 404)
    assert [title for _, title in spans(second)] == [
        "Outer.__call__",
        "Guard.__call__",
        "dispatch",
        "lookup",
    ]


def test_an_asgi_app_over_a_socket_is_traced_under_uvicorn(asgi_tracer):
    """uvicorn in a thread: the same events as in process, plus the bytes."""
    with asgi_tracer.serve() as server:
        trace = server.trace("POST", "/echo", json={"a": 1})
    assert (trace.status, trace.response_body) == (200, b'{"a": 1}')
    assert [step.title for step in trace.steps if step.kind == PROTOCOL] == [
        "receive http.request",
        "send http.response.start",
        "send http.response.body",
    ]


def test_any_bytes_can_be_sent_and_traced():
    """trace_bytes sends bytes as they are; wsgiref answers a one-word request line as HTTP/0.9."""
    with wsgi_tracer().serve() as server:
        trace = server.trace_bytes(b"NONSENSE\r\n\r\n")
    assert (trace.spans(), trace.request_bytes) == ([], b"NONSENSE\r\n\r\n")
    # No status line comes back (HTTP/0.9 had none), so there is no status to read.
    assert (trace.status, trace.summary().splitlines()[-1]) == (
        None,
        "  no HTTP response came back",
    )


# ── Renderings ────────────────────────────────────────────────────────────────


def test_the_timeline_has_a_line_per_step_and_the_outcomes():
    """The text timeline names each layer, nests calls and shows errors."""
    text = wsgi_tracer().trace("GET", "/boom").timeline(width=200)
    assert "GET /boom -> 500 Internal Server Error" in text.splitlines()[0]
    assert "    Guard → router: dispatch(environ, start_response)" in text
    assert "✗ raised ValueError: kaput" in text


SVG = "{http://www.w3.org/2000/svg}"


def test_the_svg_is_well_formed_and_has_a_column_per_lane():
    """The diagram parses as XML and titles every lane (its text alternative lists them all)."""
    from xml.etree import ElementTree

    trace = wsgi_tracer().trace("GET", "/hello")
    root = ElementTree.fromstring(trace.svg())
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert root.tag == f"{SVG}svg"
    assert all(lane.title in texts for lane in trace.lanes)  # short titles: whole, on one line
    assert all(lane.title in root.find(f"{SVG}desc").text for lane in trace.lanes)


def test_the_svg_fits_a_notebook_column_and_says_what_it_shows():
    """However many lanes, the diagram is at most 900 px wide and has a text alternative."""
    from xml.etree import ElementTree

    from workbook.tracer.svg import MAX_WIDTH

    trace = wsgi_tracer().trace("GET", "/hello")
    for index in range(14):  # a stack as wide as stage 03's, and wider
        trace.lanes.append(Lane(f"LongMiddlewareNumber{index}", "middleware"))
    root = ElementTree.fromstring(trace.svg())
    assert float(root.get("width")) <= MAX_WIDTH
    assert root.get("role") == "img" and root.get("aria-label", "").startswith(
        "Sequence diagram: GET /hello"
    )
    assert (
        root.find(f"{SVG}title") is not None
        and "Lanes from left to right" in root.find(f"{SVG}desc").text
    )


def test_a_long_label_wraps_and_keeps_its_full_text_in_a_tooltip():
    """A label too long for the column is wrapped onto lines, cut with …, and whole in <title>."""
    from workbook.tracer.svg import MAX_LINES, wrap

    label = (
        "Router.dispatch(" + ", ".join(f"argument{index}=value{index}" for index in range(40)) + ")"
    )
    lines = wrap(label, 300)
    assert len(lines) == MAX_LINES and lines[-1].endswith("…")
    assert all(len(line) <= 300 / 6.6 for line in lines)
    assert wrap("short", 300) == ["short"]


def test_the_json_rendering_round_trips_and_keeps_the_steps():
    """The JSON holds every step with its timing, and bytes as text."""
    trace = wsgi_tracer().trace("GET", "/hello")
    data = json.loads(trace.to_json())
    assert [step["title"] for step in data["steps"]] == [step.title for step in trace.steps]
    assert (data["response_body"], data["status"]) == ("hello", 200)
    assert all(step["duration"] is None or step["duration"] >= 0 for step in data["steps"])


def test_no_rendering_shows_a_memory_address():
    """Addresses change on every run: the renderings leave them out."""
    trace = wsgi_tracer().trace("GET", "/stream")
    assert " at 0x" not in trace.timeline(width=300) + trace.to_json() + trace.svg()


def test_the_summary_says_where_an_exception_was_raised_and_caught():
    """summary(): the handler, where it raised, the layer that caught it, the answer, in order."""
    lines = wsgi_tracer().trace("GET", "/boom").summary().splitlines()
    assert lines[1:] == [
        "  handled   handler: boom",
        "  raised    handler: boom: ValueError: kaput",
        "  caught    Guard: Guard.__call__",
        "  answered  Guard: start_response  '500 Internal Server Error', 1 header, "
        "exc_info=ValueError",
    ]


def test_the_summary_shows_the_routers_decision():
    """summary(): a step that recorded a match is the router's decision."""

    def decide(call):
        return f"matched {call.value.__name__}", {"match": "full"}

    table = LayerTable(
        [Layer("router", "*:lookup", result=decide), Layer("handler", "*:hello")], roots=[HERE]
    )
    lines = Tracer(dispatch, table, protocol="wsgi").trace("GET", "/hello").summary().splitlines()
    assert lines[1:] == [
        "  decided   router: lookup -> matched hello",
        "  handled   handler: hello",
        "  answered  handler: start_response  '200 OK', 2 headers",
    ]


def test_the_summary_names_each_layer_that_raised_a_new_exception():
    """A layer that turns one exception into another is where the new one was raised."""

    def low():
        raise ValueError("low")

    def high(environ, start_response):
        try:
            low()
        except ValueError as error:
            raise LookupError("high") from error

    table = LayerTable(
        [Layer("handler", ("*:*.<locals>.low", "*:*.<locals>.high"), title="{function}")],
        roots=[HERE],
    )
    lines = Tracer(high, table, protocol="wsgi").trace().summary().splitlines()
    assert [line for line in lines if line.startswith("  raised")] == [
        "  raised    handler: low: ValueError: low",
        "  raised    handler: high: LookupError: high",
    ]
    assert "  caught    nowhere: the exception reached the server" in lines


def test_the_wire_rendering_shows_the_head_lines_and_a_text_body():
    """render_wire: one line per header with its CRLF, then the body as text."""
    from workbook.tracer.text import render_wire

    with wsgi_tracer().serve() as server:
        text = render_wire(server.trace("GET", "/hello"))
    assert "    GET /hello HTTP/1.1\\r\\n\n" in text
    assert text.endswith("    \\r\\n\n    hello")


def test_the_wire_rendering_names_a_binary_body():
    """render_wire: a gzip body is named by kind and size (and its unzipped text), not dumped."""
    import gzip

    from workbook.tracer.text import render_wire

    def zipped(environ, start_response):
        start_response("200 OK", [("Content-Encoding", "gzip")])
        return [gzip.compress(b"hello", mtime=0)]

    table = LayerTable([], roots=[HERE])
    with Tracer(zipped, table, protocol="wsgi").serve() as server:
        text = render_wire(server.trace())
    assert "(25 bytes of gzip (5 B once unzipped): hello)" in text and "\\x8b" not in text


def test_a_body_that_is_not_text_is_named_by_its_size():
    """body_preview: bytes that are neither text nor gzip read as 'N bytes of binary data'."""
    from workbook.tracer.text import body_preview

    assert body_preview(bytes(range(256))) == "256 bytes of binary data"
    assert body_preview(b"\x1f\x8b broken", "gzip") == "9 bytes of gzip (truncated or invalid)"

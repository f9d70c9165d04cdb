"""Tracing stage 04: the ASGI onion, the router's one lookup, and the events both ways."""

from __future__ import annotations

import pytest

from workbook.tracer.profiles import stage_tracer

MIDDLEWARE = ["AccessLog", "ServerErrors", "BodyLimit"]


@pytest.fixture(scope="module")
def tracer():
    with stage_tracer(4) as tracer:
        yield tracer


def lookups(trace):
    """Return the data of each decision the router took (one per request)."""
    return [step.data for step in trace.spans("Router.lookup")]


def test_a_request_passes_each_middleware_then_the_router_then_the_handler(tracer, read):
    """POST /echo: AccessLog, ServerErrors, BodyLimit, Router, then echo, in that order."""
    trace = tracer.trace("POST", "/echo", body="hello", headers={"Content-Type": "text/plain"})
    assert read.lanes_reached(trace) == ["server", *MIDDLEWARE, "Router", "handler", "responses"]
    assert (trace.status, trace.response_body) == (200, b"hello")


def test_the_router_decides_in_one_lookup_with_route_and_params(tracer):
    """GET /hello/ada: one index lookup, FULL on /hello/{name} -> hello_name with name=ada."""
    trace = tracer.trace("GET", "/hello/ada")
    assert lookups(trace) == [
        {
            "match": "full",
            "route": "/hello/{name}",
            "handler": "hello_name",
            "params": {"name": "ada"},
        }
    ]
    assert (
        trace.span("Router.lookup").result
        == "FULL: /hello/{name} -> hello_name, params {'name': 'ada'}"
    )


def test_the_body_arrives_through_the_body_limit_middleware(tracer):
    """The handler's receive goes through BodyLimit's wrapper, which gets the server's event."""
    trace = tracer.trace("POST", "/echo", body="hello", headers={"Content-Type": "text/plain"})
    (receive,) = [step for step in trace.steps if step.title == "receive http.request"]
    assert (receive.source, receive.lane, receive.data["message"]["body"]) == (
        "server",
        "BodyLimit",
        b"hello",
    )


def test_the_response_passes_back_out_through_every_middleware(tracer):
    """Each send: response helper, then BodyLimit, ServerErrors, AccessLog, then the server."""
    trace = tracer.trace("POST", "/echo", body="hello", headers={"Content-Type": "text/plain"})
    start = next(step for step in trace.steps if step.title == "send http.response.start")
    chain, step = [], start
    while step.parent is not None:
        step = trace.steps[step.parent]
        chain.append(step.lane)
    assert chain[:5] == ["AccessLog", "ServerErrors", "BodyLimit", "responses", "handler"]


def test_an_unknown_path_is_answered_404_by_the_router(tracer, read):
    """GET /nope: the lookup is NONE; the router itself sends 404."""
    trace = tracer.trace("GET", "/nope")
    assert lookups(trace) == [{"match": "none"}]
    start = next(step for step in trace.steps if step.title == "send http.response.start")
    assert (read.statuses_sent(trace), start.parent is not None) == ([404], True)
    assert trace.steps[start.parent].lane == "AccessLog"


def test_a_wrong_method_is_partial_and_answered_405_with_allow(tracer, read):
    """DELETE /hello/ada: the lookup is PARTIAL; the router sends 405 with Allow."""
    trace = tracer.trace("DELETE", "/hello/ada")
    assert lookups(trace) == [{"match": "partial", "allowed": ["GET", "HEAD", "OPTIONS"]}]
    start = next(step for step in trace.steps if step.title == "send http.response.start")
    allow = [value for name, value in start.data["message"]["headers"] if name == b"allow"]
    assert (read.statuses_sent(trace), allow) == ([405], [b"GET, HEAD, OPTIONS"])


def test_a_handler_exception_is_caught_by_the_server_errors_middleware(tracer, read):
    """GET /boom: boom raises through BodyLimit; ServerErrors sends the 500."""
    trace = tracer.trace("GET", "/boom")
    assert trace.span("boom").error == "raised RuntimeError: boom: this handler fails on purpose"
    assert trace.span("BodyLimit.__call__").error.startswith("raised RuntimeError")
    assert trace.span("ServerErrors.__call__").error == ""
    assert (read.statuses_sent(trace), trace.status) == ([500], 500)


def test_over_a_socket_the_asyncio_server_reads_runs_and_writes(tracer, read):
    """On stage 04's own server: the head is read, the app runs, the bytes are written."""
    with tracer.serve() as server:
        trace = server.trace("GET", "/add/2/40")
    titles = read.span_titles(trace)
    assert titles[:3] == [
        "ASGIServer._handle_connection",
        "HTTPConnection.read_head",
        "RequestCycle.run",
    ]
    assert [lookup["params"] for lookup in lookups(trace)] == [{"a": 2, "b": 40}]
    assert (trace.status, trace.response_body) == (200, b'{"a": 2, "b": 40, "sum": 42}')

"""Tracing stage 01: raw WSGI apps, and the socket server that calls them."""

from __future__ import annotations

import pytest

from workbook.tracer import Layer
from workbook.tracer.profiles import stage_tracer, tracer_for

HERE = __file__


@pytest.fixture(scope="module")
def tracer():
    return stage_tracer(1)


def failing_app(environ, start_response):
    raise RuntimeError("the handler fails on purpose")


def test_success_goes_from_the_dispatching_app_to_the_echo_handler(tracer, read):
    """POST /echo: the app dispatches on PATH_INFO to echo, which answers 200."""
    trace = tracer.trace("POST", "/echo?name=wsgi", body="hello")
    assert read.span_titles(trace) == ["app (dispatch on PATH_INFO)", "echo"]
    assert read.lanes_reached(trace) == ["server", "app", "handler"]
    assert (read.statuses_sent(trace), trace.response_body) == (
        ["200 OK"],
        b"method: POST\npath: /echo\nquery: name=wsgi\nbody: hello\n",
    )


def test_an_unknown_path_reaches_the_not_found_handler(tracer, read):
    """GET /nope: the if-chain falls through to not_found: 404."""
    trace = tracer.trace("GET", "/nope")
    assert (read.span_titles(trace), read.statuses_sent(trace)) == (
        ["app (dispatch on PATH_INFO)", "not_found"],
        ["404 Not Found"],
    )


def test_a_wrong_method_is_refused_by_the_handler_with_allow(tracer, read):
    """POST /: hello refuses it through method_not_allowed, with an Allow header."""
    trace = tracer.trace("POST", "/")
    assert read.span_titles(trace) == ["app (dispatch on PATH_INFO)", "hello", "method_not_allowed"]
    (start,) = [step for step in read.protocol_events(trace) if step.title == "start_response"]
    assert (start.source, start.data["status"]) == ("handler", "405 Method Not Allowed")
    assert ["Allow", "GET, HEAD"] in start.data["headers"]


def test_the_socket_server_reads_parses_builds_the_environ_then_calls_the_app(tracer, read):
    """Over a socket: accept, read and parse the head, build the environ, run the app, send."""
    with tracer.serve() as server:
        trace = server.trace("POST", "/echo?name=wsgi", body="hello")
    titles = read.span_titles(trace)
    order = [
        "accept",
        "Connection.run (new thread)",
        "Connection._read_head",
        "RequestParser.feed",
        "build_environ",
        "run_app",
        "app (dispatch on PATH_INFO)",
        "echo",
        "wsgi.input.read",
        "Response.write",
        "sock.sendall",
    ]
    assert [title for title in titles if title in order] == order
    assert trace.span("Connection._read_head").result == "POST /echo?name=wsgi HTTP/1.1, 3 headers"


def test_the_body_is_read_from_the_socket_only_when_the_app_asks(tracer):
    """wsgi.input.read is called by the handler and returns the body the client sent."""
    with tracer.serve() as server:
        trace = server.trace("POST", "/echo", body="hello")
    read_span = trace.span("wsgi.input.read")
    assert (read_span.source, read_span.result) == ("handler", "b'hello'")


def test_the_bytes_the_server_sends_are_the_bytes_the_client_receives(tracer):
    """The data of the server's sendall calls is the response on the wire."""
    with tracer.serve() as server:
        trace = server.trace("GET", "/")
    sent = b"".join(step.data["bytes"] for step in trace.steps if step.title == "response bytes")
    assert (sent, trace.response_body) == (trace.response_bytes, b"Hello, WSGI!")
    assert trace.span("sock.sendall").detail.startswith("(data=b'HTTP/1.1 200 OK")


def test_an_app_that_raises_is_answered_500_by_the_server(read):
    """A raw app's exception leaves the app and run_app; the server sends 500."""
    tracer = tracer_for(1, failing_app, layers=(Layer("handler", "*:failing_app"),), roots=(HERE,))
    with tracer.serve() as server:
        trace = server.trace("GET", "/")
    assert trace.status == 500
    assert trace.span("failing_app").error == "raised RuntimeError: the handler fails on purpose"
    assert trace.span("run_app").error == "raised RuntimeError: the handler fails on purpose"
    assert trace.span("Connection.run (new thread)").error == ""

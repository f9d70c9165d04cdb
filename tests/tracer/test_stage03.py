"""Tracing stage 03: the middleware onion around the books API."""

from __future__ import annotations

import pytest

from workbook.tracer.profiles import stage_tracer


@pytest.fixture(scope="module")
def tracer():
    return stage_tracer(3)


@pytest.fixture(scope="module")
def onion(tracer) -> list[str]:
    """The middleware of the example stack, outermost first, as the stage composes it."""
    from onion.compose import layers

    names = layers(tracer.app)
    assert names[-1] == "Router"
    return names[:-1]


def entered(trace, names):
    """Return the lanes of ``names`` in the order their __call__ spans began."""
    calls = [step.lane for step in trace.spans() if step.title.endswith(".__call__")]
    return [lane for lane in calls if lane in names]


def test_a_request_passes_the_layers_from_the_outside_in(tracer, onion):
    """GET /books: each middleware in the order the stack composes them, then the router."""
    trace = tracer.trace("GET", "/books", headers={"Accept-Encoding": "gzip"})
    assert entered(trace, [*onion, "Router"]) == [*onion, "Router"]
    assert onion[0] == "AccessLog" and onion[-1] == "BasicAuth"
    assert trace.span("Router.lookup").data["route"] == "/books"


def test_the_status_passes_back_from_the_inside_out(tracer):
    """The router's start_response passes Gzip, CORS, RequestID and AccessLog to the server."""
    trace = tracer.trace("GET", "/books", headers={"Accept-Encoding": "gzip"})
    wrappers = [step.lane for step in trace.spans() if "start_response" in step.title]
    assert wrappers == ["Gzip", "CORS", "RequestID", "AccessLog"]
    (start,) = [step for step in trace.steps if step.title == "start_response"]
    assert (start.source, ["Content-Encoding", "gzip"] in start.data["headers"]) == (
        "AccessLog",
        True,
    )


def test_gzip_compresses_the_body_on_its_way_out(tracer):
    """The body the server gets is the gzip of the router's JSON."""
    import gzip
    import json

    trace = tracer.trace("GET", "/books", headers={"Accept-Encoding": "gzip"})
    assert trace.spans("compress_whole")
    assert len(json.loads(gzip.decompress(trace.response_body))["books"]) >= 3


def test_an_unknown_path_goes_through_every_layer_and_back_as_404(tracer, onion, read):
    """GET /authors: the router says NONE; every layer still sees the 404 on its way out."""
    trace = tracer.trace("GET", "/authors")
    assert trace.span("Router.lookup").data["match"] == "none"
    assert entered(trace, onion) == onion
    assert read.statuses_sent(trace) == ["404 Not Found"]


def test_a_wrong_method_is_a_405_from_the_router(tracer, read):
    """DELETE /books with credentials: BasicAuth lets it in, the router answers 405."""
    trace = tracer.trace("DELETE", "/books", headers={"Authorization": "Basic YWRtaW46c2VjcmV0"})
    assert trace.span("Router.lookup").data["match"] == "partial"
    assert read.statuses_sent(trace) == ["405 Method Not Allowed"]


def test_a_write_without_credentials_stops_at_basic_auth(tracer, read):
    """POST /books with no password: BasicAuth answers 401 and the router is never called."""
    trace = tracer.trace("POST", "/books", json={"title": "x", "author": "y"})
    assert (trace.spans("Router.__call__"), read.statuses_sent(trace)) == ([], ["401 Unauthorized"])
    assert trace.span("BasicAuth.authenticate").result == ""


def test_a_handler_exception_is_caught_by_the_error_handler(tracer, read):
    """GET /boom: boom raises through the router, BasicAuth and Gzip; ErrorHandler answers 500."""
    trace = tracer.trace("GET", "/boom")
    assert trace.span("boom").error == "raised RuntimeError: a bug in a handler"
    assert trace.span("Gzip.__call__").error == "raised RuntimeError: a bug in a handler"
    assert trace.span("ErrorHandler.__call__").error == ""
    assert trace.span("ErrorHandler.error_response").result.startswith(
        "('500 Internal Server Error'"
    )
    assert read.statuses_sent(trace) == ["500 Internal Server Error"]


def test_over_a_socket_the_onion_runs_on_the_stage_01_server(tracer, read):
    """Under stage 01's server, the same layers, and the gzip bytes on the wire."""
    with tracer.serve() as server:
        trace = server.trace("GET", "/books", headers={"Accept-Encoding": "gzip"})
    assert read.span_titles(trace)[:4] == [
        "read the request head",
        "build_environ",
        "run_app",
        "AccessLog.__call__",
    ]
    assert b"\r\nContent-Encoding: gzip\r\n" in trace.response_bytes


def test_the_access_log_line_is_kept_in_the_trace_not_printed(tracer, capsys):
    """What the app prints during a traced request (AccessLog's line on wsgi.errors) lands
    in trace.printed and under the timeline, not in the caller's output (a notebook's
    stderr box)."""
    trace = tracer.trace("GET", "/books/1")
    assert trace.printed.startswith("GET /books/1 200 ")
    assert "the app printed (stdout and stderr) during the request:" in trace.timeline()
    assert capsys.readouterr() == ("", "")


def test_over_the_wire_the_access_log_line_is_kept_in_the_trace_too(tracer, capsys):
    """Stage 01's server keeps the stderr it saw at start-up as wsgi.errors: the tracer's
    server gets a relay, so each traced request's line is still its own."""
    with tracer.serve() as server:
        first = server.trace("GET", "/books/1")
        second = server.trace("GET", "/books/2")
    assert first.printed.startswith("GET /books/1 200 ")
    assert second.printed.startswith("GET /books/2 200 ") and "/books/1" not in second.printed
    assert capsys.readouterr() == ("", "")

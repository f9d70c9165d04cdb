"""Tracing stage 02: the router's decision, and the books API behind it."""

from __future__ import annotations

import pytest

from workbook.tracer import Layer
from workbook.tracer.profiles import stage_tracer, tracer_for

HERE = __file__


@pytest.fixture(scope="module")
def tracer():
    return stage_tracer(2)


def test_a_matched_route_passes_its_parameters_to_the_handler(tracer, read):
    """GET /books/2: the lookup is FULL on /books/{id:int} with id=2, and get_book answers."""
    trace = tracer.trace("GET", "/books/2")
    lookup = trace.span("Router.lookup")
    assert (lookup.data["match"], lookup.data["route"], lookup.data["params"]) == (
        "full",
        "/books/{id:int}",
        {"id": 2},
    )
    assert trace.span("get_book").detail.endswith("id=2)")
    assert (trace.status, read.statuses_sent(trace)) == (200, ["200 OK"])


def test_the_layers_are_reached_router_first_then_handler_then_response(tracer, read):
    """The request goes server -> Router -> Request -> handler -> BookStore -> Response."""
    trace = tracer.trace("GET", "/books/2")
    assert read.lanes_reached(trace) == [
        "server",
        "Router",
        "Request",
        "handler",
        "BookStore",
        "Response",
    ]
    titles = read.span_titles(trace)
    assert (
        titles.index("Router.lookup") < titles.index("get_book") < titles.index("Response.__call__")
    )


def test_an_unknown_path_stops_at_the_router_with_404(tracer, read):
    """GET /authors: the lookup is NONE; no handler runs; the router's error response is 404."""
    trace = tracer.trace("GET", "/authors")
    assert trace.span("Router.lookup").data["match"] == "none"
    assert "get_book" not in read.span_titles(trace) and "list_books" not in read.span_titles(trace)
    assert trace.span("Router.dispatch").error == "raised HTTPError: 404 no route matches /authors"
    assert (trace.span("Router.error_response").result, trace.status) == (
        "Response 404 Not Found",
        404,
    )


def test_a_wrong_method_stops_at_the_router_with_405_and_allow(tracer, read):
    """DELETE /books: the lookup is PARTIAL; the 405 carries the allowed methods."""
    trace = tracer.trace("DELETE", "/books")
    lookup = trace.span("Router.lookup")
    assert (lookup.data["match"], lookup.data["allowed"]) == (
        "partial",
        ["GET", "HEAD", "OPTIONS", "POST"],
    )
    (start,) = [step for step in read.protocol_events(trace) if step.title == "start_response"]
    assert (
        start.data["status"],
        ["Allow", "GET, HEAD, OPTIONS, POST"] in start.data["headers"],
    ) == ("405 Method Not Allowed", True)


def test_bad_json_stops_in_the_request_object_with_400(tracer):
    """POST /books, broken JSON: Request.json raises HTTPError(400) before the store is touched."""
    trace = tracer.trace(
        "POST", "/books", body="{bad", headers={"Content-Type": "application/json"}
    )
    assert trace.span("Request.json").error.startswith("raised HTTPError: 400 invalid JSON")
    assert trace.status == 400 and not trace.spans("BookStore.create")


def test_a_handler_exception_rises_through_the_router_to_the_server(read):
    """A handler that raises: the router does not catch it, the server answers 500."""
    from wsgirouter import Router

    router = Router()

    @router.get("/fail")
    def fail(request):
        raise RuntimeError("the handler fails on purpose")

    tracer = tracer_for(
        2, router, layers=(Layer("handler", "*:*fail", title="{function}"),), roots=(HERE,)
    )
    trace = tracer.trace("GET", "/fail")
    assert trace.span("Router.lookup").data["handler"] == "fail"
    assert trace.span("fail").error == "raised RuntimeError: the handler fails on purpose"
    assert (
        trace.span("Router.__call__").error == "raised RuntimeError: the handler fails on purpose"
    )
    assert (trace.status, read.statuses_sent(trace)) == (500, [])


def test_over_a_socket_the_stage_01_server_carries_the_router(tracer, read):
    """Under stage 01's server: head read, environ built, then the same router steps."""
    with tracer.serve() as server:
        trace = server.trace("GET", "/books/1")
    titles = read.span_titles(trace)
    assert titles[:4] == ["read the request head", "build_environ", "run_app", "Router.__call__"]
    assert trace.span("Router.lookup").data["params"] == {"id": 1}
    assert trace.response_bytes.startswith(b"HTTP/1.1 200 OK\r\n")

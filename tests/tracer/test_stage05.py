"""Tracing stage 05: bare, from uvicorn's bytes to the handler and back."""

from __future__ import annotations

import json

import pytest

from workbook.tracer import Layer
from workbook.tracer.profiles import stage_tracer, tracer_for

HERE = __file__


@pytest.fixture(scope="module")
def tracer():
    with stage_tracer(5) as tracer:
        yield tracer


def test_a_new_task_goes_middleware_framework_router_handler_response(tracer, read):
    """POST /tasks: LoggingMiddleware, Bare, Router.match FULL, create_task, JSONResponse 201."""
    trace = tracer.trace("POST", "/tasks", json={"title": "traced"})
    match = trace.span("Router.match")
    assert (match.data["match"], match.data["route"], match.data["handler"]) == (
        "full",
        "/tasks",
        "create_task",
    )
    assert read.lanes_reached(trace) == [
        "server",
        "Bare",
        "LoggingMiddleware",
        "Router",
        "handler",
        "Request",
        "Response",
    ]
    assert (trace.span("create_task").result, read.statuses_sent(trace)) == (
        "JSONResponse 201",
        [201],
    )


def test_the_body_is_received_when_the_handler_asks_for_json(tracer):
    """request.json() awaits the body: the receive lands in Request.body, inside create_task."""
    trace = tracer.trace("POST", "/tasks", json={"title": "traced"})
    receive = next(step for step in trace.steps if step.title == "receive http.request")
    body, handler = trace.span("Request.body"), trace.span("create_task")
    assert (receive.lane, receive.parent, body.start > handler.start) == (
        "Request",
        body.index,
        True,
    )


def test_path_parameters_are_found_by_the_router(tracer):
    """GET /tasks/{task_id}: the router's match carries the parameter to get_task."""
    trace = tracer.trace("GET", "/tasks/abc")
    match = trace.span("Router.match")
    assert (match.data["route"], match.data["params"], match.data["handler"]) == (
        "/tasks/{task_id}",
        {"task_id": "abc"},
        "get_task",
    )
    assert trace.status == 404  # no task "abc": the handler's own 404


def test_an_unknown_path_stops_at_the_router(tracer, read):
    """GET /nope: Router.match is NONE, no handler runs, the framework answers 404."""
    trace = tracer.trace("GET", "/nope")
    assert trace.span("Router.match").data["match"] == "none"
    assert not [step for step in trace.spans() if step.lane == "handler"]
    assert read.statuses_sent(trace) == [404]


def test_a_wrong_method_is_partial_and_answered_405_with_allow(tracer, read):
    """DELETE /tasks: Router.match is PARTIAL; the 405 carries Allow."""
    trace = tracer.trace("DELETE", "/tasks")
    match = trace.span("Router.match")
    assert (match.data["match"], match.data["allowed"]) == (
        "partial",
        ["GET", "HEAD", "OPTIONS", "POST"],
    )
    start = next(step for step in trace.steps if step.title == "send http.response.start")
    assert (
        read.statuses_sent(trace),
        (b"allow", b"GET, HEAD, OPTIONS, POST") in start.data["message"]["headers"],
    ) == ([405], True)


def test_bad_json_stops_in_the_request_object_with_400(tracer, read):
    """POST /tasks with broken JSON: Request.json raises HTTPError(400), _respond answers it."""
    trace = tracer.trace(
        "POST", "/tasks", body="{bad", headers={"Content-Type": "application/json"}
    )
    assert trace.span("Request.json").error.startswith("raised HTTPError: 400")
    assert trace.span("create_task").error.startswith("raised HTTPError: 400")
    assert (trace.span("Bare._respond").result, read.statuses_sent(trace)) == (
        "JSONResponse 400",
        [400],
    )


def test_a_handler_exception_becomes_a_500_in_respond(read):
    """A handler that raises: _respond catches it and sends a generic 500."""
    from bare import Bare

    app = Bare()

    @app.get("/fail")
    async def fail(request):
        raise RuntimeError("the handler fails on purpose")

    with tracer_for(
        5, app, layers=(Layer("handler", "*:*fail", title="{function}"),), roots=(HERE,)
    ) as tracer:
        trace = tracer.trace("GET", "/fail")
    assert trace.span("fail").error == "raised RuntimeError: the handler fails on purpose"
    assert (trace.span("Bare._respond").result, read.statuses_sent(trace)) == (
        "JSONResponse 500",
        [500],
    )
    assert json.loads(trace.response_body) == {"error": "internal server error"}


def test_under_uvicorn_the_bytes_arrive_before_the_app_is_called(tracer, read):
    """Over a socket: uvicorn receives the bytes, starts the ASGI task, then bare runs."""
    with tracer.serve() as server:
        trace = server.trace("POST", "/tasks", json={"title": "over the wire"})
    titles = read.span_titles(trace)
    assert titles[:3] == ["uvicorn data_received", "uvicorn run_asgi", "Bare.__call__"]
    assert trace.span("uvicorn data_received").detail.startswith("(data=b'POST /tasks HTTP/1.1")
    assert (trace.status, trace.response_bytes.startswith(b"HTTP/1.1 201 Created\r\n")) == (
        201,
        True,
    )

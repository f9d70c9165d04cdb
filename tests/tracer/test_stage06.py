"""Tracing stage 06: roob's layers, the chapter's flow, measured."""

from __future__ import annotations

import pytest

from workbook.tracer import Layer
from workbook.tracer.profiles import stage_tracer, tracer_for

HERE = __file__

#: The chapter's flow: Client -> Gunicorn -> Middleware -> Framework -> Router -> Controller
#: -> Service -> Data.
CHAPTER_FLOW = [
    "ErrorHandlerMiddleware",
    "Roob",
    "RouteManager",
    "RoutingHelper",
    "controller",
    "ProductService",
    "Database",
]


@pytest.fixture
def tracer(tmp_path, monkeypatch):
    """The sample app, on a fresh SQLite file of this test's own."""
    tracer = stage_tracer(6)
    import core.product_controller as controllers
    from core.data import inventory
    from core.database import Database

    monkeypatch.setattr(controllers, "database", Database(tmp_path / "products.db", seed=inventory))
    return tracer


def test_creating_a_product_follows_the_chapters_flow(tracer, read):
    """POST /api/products: middleware, framework, router, controller, service, data, in order."""
    trace = tracer.trace(
        "POST", "/api/products", json={"id": 5, "product_name": "Test", "brand": "TestCo"}
    )
    reached = [lane for lane in read.lanes_reached(trace) if lane in CHAPTER_FLOW]
    assert reached == CHAPTER_FLOW
    assert trace.status == 200 and b'"product_name":"Test"' in trace.response_body


def test_the_router_picks_the_post_method_of_the_class_based_view(tracer):
    """The route /api/products matches; the view's post method answers."""
    trace = tracer.trace(
        "POST", "/api/products", json={"id": 6, "product_name": "Tab", "brand": "Co"}
    )
    found = trace.span("RoutingHelper._find_handler")
    assert (found.data["route"], found.data["handler"], found.data["params"]) == (
        "/api/products",
        "ProductCreatController",
        {},
    )
    assert trace.span("RoutingHelper.get_handler").data["handler"] == "ProductCreatController.post"
    assert trace.spans("ProductCreatController.post")


def test_a_typed_parameter_is_parsed_before_the_view_gets_it(tracer):
    """GET /api/products/1: {id:d} matches with id=1 (an int), and get is called with it."""
    trace = tracer.trace("GET", "/api/products/1")
    found = trace.span("RoutingHelper._find_handler")
    assert (found.data["route"], found.data["params"]) == ("/api/products/{id:d}", {"id": 1})
    assert trace.span("ProductModifyController.get").detail.endswith("id=1)")


def test_an_unknown_path_gets_the_not_found_handler(tracer, read):
    """GET /api/nothing/here: no route matches; the 404 handler answers."""
    trace = tracer.trace("GET", "/api/nothing/here")
    assert trace.span("RoutingHelper._find_handler").data["match"] == "none"
    assert (
        trace.span("RoutingHelper.get_handler").data["handler"]
        == "CommonHandlers.url_not_found_handler"
    )
    assert (read.statuses_sent(trace), "controller" in read.lanes_reached(trace)) == (
        ["404 Not Found"],
        True,
    )
    assert not trace.spans("ProductService.get_all_products")


def test_a_method_the_view_lacks_gets_405_with_allow(tracer, read):
    """PUT /api/products: the view has no put; the 405 handler answers with Allow."""
    trace = tracer.trace("PUT", "/api/products", json={})
    chosen = trace.span("RoutingHelper._find_class_based_handler")
    assert (chosen.data["match"], chosen.data["kwargs"]) == (
        "partial",
        {"allow": "GET, HEAD, POST"},
    )
    start = next(step for step in read.protocol_events(trace) if step.title == "start_response")
    assert (start.data["status"], ["Allow", "GET, HEAD, POST"] in start.data["headers"]) == (
        "405 Method Not Allowed",
        True,
    )


def test_bad_json_stops_in_the_controller_with_400(tracer, read):
    """A body that is not JSON: read_json raises in the controller, which answers 400."""
    trace = tracer.trace(
        "POST", "/api/products", body="{bad", headers={"Content-Type": "application/json"}
    )
    assert trace.span("read_json").error.startswith("raised JSONDecodeError")
    assert (read.statuses_sent(trace), trace.spans("ProductService.create_new_product")) == (
        ["400 Bad Request"],
        [],
    )


def test_a_handler_exception_is_turned_into_a_500_by_the_middleware(read):
    """A route that raises: the error leaves Roob and is answered by ErrorHandlerMiddleware."""
    from roob.framework import Roob
    from roob.middlewares import ErrorHandlerMiddleware

    app = Roob()

    @app.route("/fail")
    def fail(request):
        raise RuntimeError("the handler fails on purpose")

    tracer = tracer_for(
        6,
        ErrorHandlerMiddleware(app),
        layers=(Layer("handler", "*:*fail", lane="controller", title="{function}"),),
        roots=(HERE,),
    )
    trace = tracer.trace("GET", "/fail")
    assert trace.span("fail").error == "raised RuntimeError: the handler fails on purpose"
    assert trace.span("Roob.__call__").error == "raised RuntimeError: the handler fails on purpose"
    assert trace.span("ErrorHandlerMiddleware.__call__").error == ""
    (start,) = [step for step in read.protocol_events(trace) if step.title == "start_response"]
    assert (start.data["status"], start.data["exc_info"]) == (
        "500 Internal Server Error",
        "RuntimeError('the handler fails on purpose')",
    )


def test_over_a_socket_the_server_steps_come_before_the_middleware(tracer, read):
    """Under stage 01's server: the head and environ first, then the chapter's layers."""
    with tracer.serve() as server:
        trace = server.trace("GET", "/api/products/mobile")
    titles = read.span_titles(trace)
    assert titles[:4] == [
        "read the request head",
        "build_environ",
        "run_app",
        "ErrorHandlerMiddleware.__call__",
    ]
    assert trace.span("RoutingHelper._find_handler").data["params"] == {"category": "mobile"}
    assert (trace.status, trace.request_bytes.startswith(b"GET /api/products/mobile HTTP/1.1")) == (
        200,
        True,
    )

"""Routing: registration compiles paths once; a request walks the route tree.

Tests tagged 6.1 grade ``RouteNode.match`` through tiny apps with function
routes only, so they run no class-based view, middleware or service code.
"""

from __future__ import annotations

import pytest
from roob.framework import Roob
from roob.route_tree import (
    Route,
    RouteNode,
    RouteTable,
    compile_segment,
    normalize_request_url,
    split_path,
)
from roob.routing_manager import RouteManager
from webob import Request, Response

#: The chapter's three product paths plus a few shapes the chapter does not use.
ROUTES = [
    ("/api/products", "all_products"),
    ("/api/products/{id:d}", "product_by_id"),
    ("/api/products/{category}", "products_by_category"),
    ("/files/{name}.{extension}", "file"),
    ("/users/{user_id:d}/posts/{post_id:d}", "post"),
    ("/", "home"),
]

#: (requested path, expected handler, expected parameters); None means 404.
MATCHES = [
    ("/", "home", {}),
    ("/api/products", "all_products", {}),
    ("/api/products/7", "product_by_id", {"id": 7}),
    ("/api/products/mobile", "products_by_category", {"category": "mobile"}),
    ("/api/products/7up", "products_by_category", {"category": "7up"}),
    ("/files/report.pdf", "file", {"name": "report", "extension": "pdf"}),
    ("/users/3/posts/41", "post", {"user_id": 3, "post_id": 41}),
    ("/api/products/a/b", None, None),
    ("/API/PRODUCTS/1", None, None),
    ("/api/Products/1", None, None),
    ("/api//products", None, None),
    ("/users/3/posts/forty", None, None),
    ("/nowhere", None, None),
]


def build(routes: list[tuple[str, str]], echo) -> Roob:
    """Return an app with a GET function route per (path, handler name)."""
    app = Roob()
    for path, name in routes:
        app.route(path)(echo(name))
    return app


def assert_routed(app, path: str, handler: str | None, params: dict | None) -> None:
    """Check one request: which handler answered, with which parameters (or 404)."""
    if handler is None:
        response = app.get(path, status=404)
        assert response.json == {"message": f"Requested path: {path} does not exist"}
        return
    response = app.get(path)
    assert response.json == {"handler": handler, "params": params}


@pytest.mark.exercise("6.1")
@pytest.mark.parametrize("order", ["as registered", "reversed"])
@pytest.mark.parametrize(("path", "handler", "params"), MATCHES)
def test_a_path_reaches_the_same_route_in_any_registration_order(
    client, echo, order, path, handler, params
):
    """A path reaches the same route whatever order the routes were registered in."""
    routes = ROUTES if order == "as registered" else list(reversed(ROUTES))
    app = client(build(routes, echo))
    assert_routed(app, path, handler, params)


@pytest.mark.exercise("6.1")
@pytest.mark.parametrize(
    ("path", "handler", "params"),
    [
        ("/api/products/", "all_products", {}),
        ("/api/products/7/", "product_by_id", {"id": 7}),
        ("/api/products/mobile/", "products_by_category", {"category": "mobile"}),
        ("/api/products//", None, None),
    ],
)
def test_one_trailing_slash_is_ignored(client, echo, path, handler, params):
    """A request path with one trailing slash finds the route without it."""
    app = client(build(ROUTES, echo))
    assert_routed(app, path, handler, params)


@pytest.mark.exercise("6.1")
def test_a_typed_placeholder_wins_over_an_untyped_one(client, echo):
    """{id:d} is tried before {category}, even when {category} was registered first."""
    app = client(build([("/items/{category}", "by_category"), ("/items/{id:d}", "by_id")], echo))
    assert app.get("/items/12").json == {"handler": "by_id", "params": {"id": 12}}


@pytest.mark.exercise("6.1")
def test_a_literal_segment_wins_over_a_placeholder(client, echo):
    """A literal segment is tried before a placeholder at the same depth."""
    app = client(
        build(
            [("/shop/{category}/{id:d}", "in_category"), ("/shop/featured/{id:d}", "featured")],
            echo,
        )
    )
    assert app.get("/shop/featured/3").json == {"handler": "featured", "params": {"id": 3}}
    assert app.get("/shop/games/3").json == {
        "handler": "in_category",
        "params": {"category": "games", "id": 3},
    }


@pytest.mark.exercise("6.1")
def test_matching_backtracks_when_a_branch_leads_nowhere(client, echo):
    """A branch that matches a segment but nothing below it gives way to the next one."""
    app = client(build([("/a/{id:d}/x", "numbered"), ("/a/{name}/y", "named")], echo))
    assert app.get("/a/7/y").json == {"handler": "named", "params": {"name": "7"}}
    assert app.get("/a/7/x").json == {"handler": "numbered", "params": {"id": 7}}


@pytest.mark.exercise("6.1")
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/box/item-7", {"handler": "item", "params": {"id": 7}}),
        ("/box/ITEM-7", {"handler": "anything", "params": {"thing": "ITEM-7"}}),
        ("/box/whatever", {"handler": "anything", "params": {"thing": "whatever"}}),
    ],
)
def test_literal_text_inside_a_segment_is_case_sensitive(client, echo, path, expected):
    """A segment mixing text and a placeholder (item-{id:d}) matches its text exactly."""
    app = client(build([("/box/{thing}", "anything"), ("/box/item-{id:d}", "item")], echo))
    assert app.get(path).json == expected


@pytest.mark.exercise("6.1")
def test_route_tree_matches_directly():
    """RouteNode.match returns the route and its converted parameters, or None."""
    table = RouteTable()
    table.add(Route.create("/api/products/{id:d}", lambda request, id: None))
    found = table.root.match(["api", "products", "42"])
    assert found is not None
    route, params = found
    assert (route.path, params) == ("/api/products/{id:d}", {"id": 42})
    assert table.root.match(["api", "products", "forty-two"]) is None
    assert table.root.match(["api"]) is None


def test_an_empty_tree_matches_nothing():
    """A tree with no routes finds nothing, not even the root."""
    assert RouteNode().match([]) is None


@pytest.mark.exercise("6.1")
@pytest.mark.parametrize(
    ("methods", "method", "status", "allow"),
    [
        (None, "GET", 200, None),
        (None, "POST", 405, "GET, HEAD"),
        (["POST"], "POST", 200, None),
        (["POST"], "GET", 405, "POST"),
        (["get", "delete"], "DELETE", 200, None),
        (["GET", "DELETE"], "PUT", 405, "DELETE, GET, HEAD"),
    ],
)
def test_a_function_route_answers_only_its_methods(client, echo, methods, method, status, allow):
    """A function route answers the methods it declares (GET by default); others get 405 + Allow."""
    app = Roob()
    app.route("/things/{id:d}", methods=methods)(echo("thing"))
    response = client(app).request("/things/1", method=method, status=status)
    assert response.headers.get("Allow") == allow
    if status == 405:
        assert response.json == {"message": f"{method} request is not allowed for /things/1"}


@pytest.mark.exercise("6.1")
def test_head_on_a_function_route_is_get_without_a_body(client, echo):
    """HEAD runs the GET handler; the response has GET's headers and no body."""
    app = client(build([("/api/products/{id:d}", "product_by_id")], echo))
    get = app.get("/api/products/3")
    head = app.head("/api/products/3")
    assert (head.status_int, head.body) == (200, b"")
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


@pytest.mark.exercise("6.1")
def test_a_path_that_is_not_utf8_is_a_400(client, echo):
    """A path whose percent-escapes are not UTF-8 gets 400, not a 500."""
    app = client(build(ROUTES, echo))
    response = app.get("/api/products/%FF", status=400)
    assert response.json == {"message": "Request path is not valid UTF-8"}


# ── Registration ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/api/products", "/api/products"),
        ("/api/products", "/api/products/"),
        ("/api/products/{id:d}", "/api/products/{product_id:d}"),
    ],
)
def test_a_path_registered_twice_is_refused(first, second):
    """Registering a path that matches the same URLs as another raises RuntimeError."""
    manager = RouteManager()
    manager.register(first, lambda request, **params: None)
    with pytest.raises(RuntimeError, match="already bound to another handler"):
        manager.register(second, lambda request, **params: None)


def test_different_placeholder_types_may_share_a_position():
    """{id:d} and {category} at one position are two routes, not a duplicate."""
    manager = RouteManager()
    manager.register("/api/products/{id:d}", lambda request, id: None)
    manager.register("/api/products/{category}", lambda request, category: None)
    assert list(manager.routes) == ["/api/products/{id:d}", "/api/products/{category}"]


@pytest.mark.parametrize(
    ("path", "error", "text"),
    [
        ("api/products", ValueError, "must start with '/'"),
        ("/api/{}", ValueError, "needs a name"),
        ("/api/{:d}", ValueError, "needs a name"),
        ("/api/{id:d}/{id:d}", ValueError, "repeats the placeholder"),
        ("/api/{id", ValueError, "unbalanced brace"),
        ("/api/{{literal}}", ValueError, "literal braces"),
        (b"/api", TypeError, "a route path is a str"),
    ],
)
def test_a_path_that_cannot_work_is_refused_at_registration(path, error, text):
    """A malformed route path raises when it is registered, not when a request comes."""
    with pytest.raises(error, match=text):
        RouteManager().register(path, lambda request, **params: None)


@pytest.mark.parametrize(
    ("methods", "error"),
    [
        ("GET", TypeError),
        ([], ValueError),
        (["GET POST"], ValueError),
        ([7], ValueError),
    ],
)
def test_bad_methods_are_refused_at_registration(methods, error):
    """A function route's methods must be a non-empty list of method names."""
    with pytest.raises(error):
        Roob().route("/x", methods=methods)(lambda request: Response())


def test_a_class_route_takes_no_methods():
    """A class says what it answers with its methods; route(methods=...) on it is an error."""

    class View:
        def get(self, request: Request) -> Response:
            return Response()

    with pytest.raises(TypeError, match="takes no methods"):
        Roob().route("/x", methods=["GET"])(View)


def test_a_class_without_handler_methods_is_refused():
    """A class that defines no get/post/... could never answer, so it is refused."""

    class Empty:
        pass

    with pytest.raises(ValueError, match="defines none of"):
        Roob().route("/x")(Empty)


def test_a_handler_must_be_callable():
    """Registering something that is neither a class nor a function raises TypeError."""
    with pytest.raises(TypeError, match="a class or a function"):
        RouteManager().register("/x", "not a handler")


def test_a_handler_must_return_a_response(client):
    """A handler that returns something else than a webob Response is a TypeError."""
    app = Roob()
    app.route("/x")(lambda request: {"not": "a response"})
    with pytest.raises(TypeError, match="must return a webob Response"):
        client(app).get("/x")


@pytest.mark.parametrize(
    ("text", "literal", "rank"),
    [
        ("products", True, (0, 0)),
        ("{id:d}", False, (0, 0)),
        ("{category}", False, (1, 0)),
        ("item-{id:d}", False, (0, -5)),
        ("{name}.{extension}", False, (2, -1)),
    ],
)
def test_segments_compile_to_literals_or_parsers(text, literal, rank):
    """A literal segment stays a string; one with placeholders gets a parser and a rank."""
    segment = compile_segment(text)
    assert (segment.parser is None, segment.rank) == (literal, rank)


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("/", "/"),
        ("", "/"),
        ("/api/products/", "/api/products"),
        ("/api/products", "/api/products"),
        ("/api//", "/api/"),
    ],
)
def test_normalize_request_url_drops_one_trailing_slash(url, normalized):
    """normalize_request_url drops one trailing slash and keeps the root."""
    assert normalize_request_url(url) == normalized


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("/", []),
        ("/api", ["api"]),
        ("/api/products/7", ["api", "products", "7"]),
        ("/api//x", ["api", "", "x"]),
    ],
)
def test_split_path_gives_a_normalized_paths_segments(path, segments):
    """split_path gives a normalized path's segments; the root has none."""
    assert split_path(path) == segments


def test_the_compiled_tree_is_visible(database):
    """The sample app's route tree reads as the chapter's three routes."""
    import core.main  # noqa: F401  (registers the routes)
    from core import app

    assert app.routing_manager.table.describe() == "\n".join(
        [
            "/api",
            "  /products  -> ProductCreatController [GET, HEAD, POST]",
            "    /{id:d}  -> ProductModifyController [DELETE, GET, HEAD]",
            "    /{category}  -> get_products_by_cat [GET, HEAD]",
        ]
    )

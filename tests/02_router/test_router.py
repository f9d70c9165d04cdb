"""The router: method dispatch (404 / 405 / HEAD / OPTIONS), registration, url_for, describe."""

from __future__ import annotations

from typing import Any

import pytest
from wsgirouter.response import Response
from wsgirouter.router import Lookup, Match, Router

# The routes of a small shop: (method, pattern, name).
SHOP = [
    ("GET", "/", "home"),
    ("GET", "/books", "list_books"),
    ("POST", "/books", "create_book"),
    ("GET", "/books/{id:int}", "get_book"),
    ("PUT", "/books/{id:int}", "update_book"),
    ("DELETE", "/books/{id:int}", "delete_book"),
    ("GET", "/users/me", "me"),
    ("DELETE", "/users/{name}", "delete_user"),
    ("HEAD", "/ping", "ping_head"),
    ("GET", "/ping", "ping"),
    ("OPTIONS", "/custom", "custom_options"),
    ("GET", "/custom", "custom"),
]


def handler(request: object, **params: object) -> Response:
    return Response(b"")


def shop() -> Router:
    router = Router()
    for method, pattern, name in SHOP:
        router.add(pattern, handler, methods=[method], name=name)
    return router


def outcome(lookup: Lookup) -> tuple[Any, ...]:
    """Reduce a Lookup to what a test compares: (match, route name, params) or allowed."""
    if lookup.match is Match.FULL:
        assert lookup.route is not None
        return (Match.FULL, lookup.route.name, lookup.params)
    if lookup.match is Match.PARTIAL:
        return (Match.PARTIAL, lookup.allowed)
    return (Match.NONE,)


# ── Method dispatch (exercise 2.3) ───────────────────────────────────────────


@pytest.mark.exercise("2.3")
@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/", (Match.FULL, "home", {})),
        ("GET", "/books", (Match.FULL, "list_books", {})),
        ("POST", "/books", (Match.FULL, "create_book", {})),
        ("GET", "/books/7", (Match.FULL, "get_book", {"id": 7})),
        ("DELETE", "/books/7", (Match.FULL, "delete_book", {"id": 7})),
        ("GET", "/users/me", (Match.FULL, "me", {})),
        # The literal /users/me has no DELETE: the placeholder route behind it does.
        ("DELETE", "/users/me", (Match.FULL, "delete_user", {"name": "me"})),
        ("GET", "/nowhere", (Match.NONE,)),
        ("GET", "/books/abc", (Match.NONE,)),  # {id:int} refuses "abc": 404, never a 500
        ("GET", "/books/7/", (Match.NONE,)),
    ],
)
def test_lookup_finds_route_and_params_or_nothing(
    method: str, path: str, expected: tuple[Any, ...]
) -> None:
    """A lookup finds the route for method and path, or reports NONE (a 404)."""
    assert outcome(shop().lookup(method, path)) == expected


@pytest.mark.exercise("2.3")
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/books", ("GET", "HEAD", "OPTIONS", "POST")),
        ("POST", "/books/7", ("DELETE", "GET", "HEAD", "OPTIONS", "PUT")),
        ("POST", "/", ("GET", "HEAD", "OPTIONS")),
        # Both /users/me (GET) and /users/{name} (DELETE) match: Allow is their union.
        ("PUT", "/users/me", ("DELETE", "GET", "HEAD", "OPTIONS")),
        ("BREW", "/books", ("GET", "HEAD", "OPTIONS", "POST")),
    ],
)
def test_known_path_with_wrong_method_is_partial_with_allowed(
    method: str, path: str, allowed: tuple[str, ...]
) -> None:
    """A path that matches with no route for the method is PARTIAL (a 405), with the Allow list."""
    assert outcome(shop().lookup(method, path)) == (Match.PARTIAL, allowed)


@pytest.mark.exercise("2.3")
def test_head_is_served_by_the_get_route() -> None:
    """HEAD without a HEAD route uses the GET route."""
    assert outcome(shop().lookup("HEAD", "/books/3")) == (Match.FULL, "get_book", {"id": 3})


@pytest.mark.exercise("2.3")
def test_an_explicit_head_route_wins_over_get() -> None:
    """A route registered for HEAD is used for HEAD."""
    assert outcome(shop().lookup("HEAD", "/ping")) == (Match.FULL, "ping_head", {})


@pytest.mark.exercise("2.3")
def test_options_without_a_route_is_partial_so_the_router_answers_allow() -> None:
    """OPTIONS on a known path with no OPTIONS route gives the Allow list to answer with."""
    assert outcome(shop().lookup("OPTIONS", "/books")) == (
        Match.PARTIAL,
        ("GET", "HEAD", "OPTIONS", "POST"),
    )


@pytest.mark.exercise("2.3")
def test_an_explicit_options_route_is_called() -> None:
    """A route registered for OPTIONS handles OPTIONS itself."""
    assert outcome(shop().lookup("OPTIONS", "/custom")) == (Match.FULL, "custom_options", {})


@pytest.mark.exercise("2.3")
def test_methods_are_case_sensitive() -> None:
    """ "get" is not GET (RFC 9110: methods are case-sensitive)."""
    assert shop().lookup("get", "/books").match is Match.PARTIAL


# ── Registration ─────────────────────────────────────────────────────────────


def test_decorator_and_plain_call_register_alike() -> None:
    """@router.get(...) and router.add(...) register the same kind of route."""
    router = Router()

    @router.get("/a")
    def a(request: object) -> Response:
        return Response(b"a")

    router.add("/b", a, methods=["GET"], name="b")
    assert [(route.method, route.pattern, route.name) for route in router.routes] == [
        ("GET", "/a", "a"),
        ("GET", "/b", "b"),
    ]


def test_decorator_returns_the_handler_unchanged() -> None:
    """The decorator hands the function back, so it can be stacked and called."""
    router = Router()

    def page(request: object) -> Response:
        return Response(b"")

    assert router.post("/page")(page) is page


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/books/{id:int}", "/books/{id:int}"),
        ("/books/{id:int}", "/books/{book_id:int}"),  # same shape, another name: indistinguishable
        ("/books", "/books"),
    ],
)
def test_same_method_and_path_twice_is_an_error(first: str, second: str) -> None:
    """Registering a method on a path that already has it fails at registration."""
    router = Router()
    router.add(first, handler, methods=["GET"], name="one")
    with pytest.raises(ValueError, match="already registered"):
        router.add(second, handler, methods=["GET"], name="two")


def test_same_path_with_another_method_is_fine() -> None:
    """One path may have a route per method."""
    router = Router()
    router.add("/books", handler, methods=["GET"])
    router.add("/books", handler, methods=["POST"])
    assert router.lookup("POST", "/books").match is Match.FULL


def test_failed_registration_adds_nothing() -> None:
    """A registration that fails for one method adds none of its methods."""
    router = Router()
    router.add("/books", handler, methods=["POST"], name="create")
    with pytest.raises(ValueError):
        router.add("/books", handler, methods=["GET", "POST"], name="books")
    assert [route.method for route in router.routes] == ["POST"]


@pytest.mark.parametrize(
    ("methods", "error"),
    [
        ("GET", TypeError),  # a string, not a list of strings
        (["get"], ValueError),
        (["GE T"], ValueError),
        ([], ValueError),
        (["GET", "GET"], ValueError),
    ],
)
def test_bad_methods_are_refused(methods: Any, error: type[Exception]) -> None:
    """Methods are a list of distinct upper-case tokens."""
    with pytest.raises(error):
        Router().add("/x", handler, methods=methods)


def test_handler_must_be_callable() -> None:
    """A handler that is not callable is a TypeError at registration."""
    with pytest.raises(TypeError):
        Router().add("/x", "not a function", methods=["GET"])  # type: ignore[arg-type]


# ── Reverse routing ──────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("name", "params", "path"),
    [
        ("home", {}, "/"),
        ("list_books", {}, "/books"),
        ("get_book", {"id": 7}, "/books/7"),
        ("delete_user", {"name": "ada lovelace"}, "/users/ada%20lovelace"),
        ("delete_user", {"name": "crème"}, "/users/cr%C3%A8me"),
    ],
)
def test_url_for_builds_the_path(name: str, params: dict[str, Any], path: str) -> None:
    """url_for fills the placeholders of the named route, percent-encoded."""
    assert shop().url_for(name, **params) == path


def test_url_for_keeps_slashes_of_a_path_placeholder() -> None:
    """A {rest:path} value keeps its slashes; other characters are encoded."""
    router = Router()
    router.add("/files/{rest:path}", handler, methods=["GET"], name="file")
    assert router.url_for("file", rest="docs/read me.txt") == "/files/docs/read%20me.txt"


def test_url_for_encodes_literal_segments() -> None:
    """A non-ASCII literal segment is percent-encoded as UTF-8."""
    router = Router()
    router.add("/café", handler, methods=["GET"], name="cafe")
    assert router.url_for("cafe") == "/caf%C3%A9"


@pytest.mark.parametrize(
    ("name", "params", "reason"),
    [
        ("nope", {}, "no route is named"),
        ("get_book", {}, "missing"),
        ("get_book", {"id": 1, "extra": 2}, "unexpected"),
        ("get_book", {"id": "seven"}, "non-negative int"),
        ("get_book", {"id": -1}, "non-negative int"),
        ("get_book", {"id": True}, "non-negative int"),
        ("delete_user", {"name": "a/b"}, "without '/'"),
        ("delete_user", {"name": ""}, "non-empty"),
    ],
)
def test_url_for_refuses_what_would_not_route_back(
    name: str, params: dict[str, Any], reason: str
) -> None:
    """url_for refuses unknown names, missing or extra params, and values the converter refuses."""
    with pytest.raises(ValueError, match=reason):
        shop().url_for(name, **params)


@pytest.mark.exercise("2.3")
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("get_book", {"id": 12}),
        ("delete_user", {"name": "zoë & co"}),
    ],
)
def test_url_for_round_trips_through_lookup(name: str, params: dict[str, Any]) -> None:
    """The path url_for builds, once decoded as a server would, routes back to the same route."""
    from urllib.parse import unquote

    router = shop()
    method = next(method for method, _, route_name in SHOP if route_name == name)
    found = router.lookup(method, unquote(router.url_for(name, **params)))
    assert outcome(found) == (Match.FULL, name, params)


def test_two_patterns_under_one_default_name_make_url_for_ambiguous() -> None:
    """A handler registered on two patterns without name= cannot be reversed: url_for says so."""
    router = Router()
    router.add("/a", handler, methods=["GET"])
    router.add("/b", handler, methods=["GET"])
    with pytest.raises(ValueError, match="distinct name="):
        router.url_for("handler")


def test_explicit_name_reused_on_another_pattern_is_an_error() -> None:
    """name= must be unique across patterns."""
    router = Router()
    router.add("/a", handler, methods=["GET"], name="page")
    with pytest.raises(ValueError, match="already used"):
        router.add("/b", handler, methods=["GET"], name="page")


# ── The compiled form, shown ─────────────────────────────────────────────────


def test_describe_prints_the_trie_and_the_static_paths() -> None:
    """describe() shows the trie in lookup order, each node's routes, and the static dict."""
    assert shop().describe() == "\n".join(
        [
            "/           GET home",
            "/books      GET list_books, POST create_book",
            "└── /{int}  DELETE delete_book, GET get_book, PUT update_book",
            "/users",
            "├── /me     GET me",
            "└── /{str}  DELETE delete_user",
            "/ping       GET ping, HEAD ping_head",
            "/custom     GET custom, OPTIONS custom_options",
            "static paths (one dict lookup each): /, /books, /users/me, /ping, /custom",
        ]
    )

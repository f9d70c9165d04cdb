"""Routing: paths compiled once into a static dict and a segment trie, walked per request."""

from __future__ import annotations

from typing import Any

import bare
import pytest
from bare import Match, Router, compile_path


def handler_named(name: str) -> Any:
    """Return an async handler whose qualname is ``name`` (for describe())."""

    async def handler(request: bare.Request) -> None:
        return None

    handler.__qualname__ = name
    return handler


def router_with(*routes: tuple[str, list[str]]) -> Router:
    """Return a Router holding ``(path, methods)`` routes, one handler each."""
    router = Router()
    for number, (path, methods) in enumerate(routes):
        router.add(path, methods, handler_named(f"handler{number}"))
    return router


# ── Matching (exercise 5.1: the trie walk) ────────────────────────────────────


@pytest.mark.exercise("5.1")
@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/users/{id:int}", "/users/42", {"id": 42}),
        ("/users/{name}", "/users/ada", {"name": "ada"}),
        ("/users/{name:str}", "/users/ada%20l", {"name": "ada%20l"}),
        ("/posts/{slug:slug}", "/posts/hello-world-2", {"slug": "hello-world-2"}),
        ("/files/{name}.{ext:slug}", "/files/report.v2.pdf", {"name": "report.v2", "ext": "pdf"}),
        ("/v{major:int}/status", "/v2/status", {"major": 2}),
        ("/a/{x}/b/{y:int}", "/a/1/b/007", {"x": "1", "y": 7}),
    ],
)
def test_dynamic_path_matches_with_typed_params(pattern: str, path: str, expected: dict) -> None:
    """A dynamic route matches its paths and delivers each parameter converted."""
    router = router_with((pattern, ["GET"]))
    match, endpoint, params, _ = router.match("GET", path)
    assert (match, params) == (Match.FULL, expected)
    assert endpoint is not None and endpoint.path == pattern


@pytest.mark.exercise("5.1")
@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ("/users/{id:int}", "/users/abc"),
        ("/users/{id:int}", "/users/-1"),
        ("/users/{id:int}", "/users/²"),  # a digit to str.isdigit, not to the route
        ("/users/{id:int}", "/users/" + "9" * 5000),  # too long for int(): no match, not a crash
        ("/users/{id:int}", "/users/"),
        ("/users/{id:int}", "/users/4/extra"),
        ("/users/{id:int}", "/users"),
        ("/posts/{slug:slug}", "/posts/hi_there"),
        ("/files/{name}.{ext:slug}", "/files/report"),
    ],
)
def test_path_that_does_not_fit_is_no_match(pattern: str, path: str) -> None:
    """A path the pattern does not fit is Match.NONE (a 404), never an error."""
    router = router_with((pattern, ["GET"]))
    assert router.match("GET", path)[0] is Match.NONE


@pytest.mark.exercise("5.1")
def test_literal_segment_wins_over_parameter() -> None:
    """In the trie a literal segment is tried before a parameter, whatever the order."""
    router = router_with(("/users/{id}/{section}", ["GET"]), ("/users/{id}/posts", ["GET"]))
    match, endpoint, params, _ = router.match("GET", "/users/7/posts")
    assert (match, endpoint.path, params) == (Match.FULL, "/users/{id}/posts", {"id": "7"})


@pytest.mark.exercise("5.1")
def test_walk_backtracks_and_forgets_params_of_dead_ends() -> None:
    """A branch that fails deeper down is undone: its params do not leak into the match."""
    router = router_with(("/a/{x:int}/c", ["GET"]), ("/a/{y}/d", ["GET"]))
    match, endpoint, params, _ = router.match("GET", "/a/1/d")
    assert (match, endpoint.path, params) == (Match.FULL, "/a/{y}/d", {"y": "1"})


@pytest.mark.exercise("5.1")
def test_known_path_with_other_method_is_partial_with_allowed() -> None:
    """A path routed for other methods is Match.PARTIAL, listing what is allowed."""
    router = router_with(("/items/{id}", ["GET", "PATCH"]))
    match, endpoint, _, allowed = router.match("DELETE", "/items/3")
    assert (match, endpoint, allowed) == (Match.PARTIAL, None, ("GET", "HEAD", "OPTIONS", "PATCH"))


@pytest.mark.exercise("5.1")
def test_allowed_methods_merge_every_route_that_fits() -> None:
    """When two dynamic routes fit the path, a 405 lists the methods of both."""
    router = router_with(("/x/{a:int}", ["GET"]), ("/x/{b}", ["POST"]))
    match, _, _, allowed = router.match("PUT", "/x/1")
    assert (match, allowed) == (Match.PARTIAL, ("GET", "HEAD", "OPTIONS", "POST"))


@pytest.mark.exercise("5.1")
def test_method_found_on_a_later_branch_is_a_full_match() -> None:
    """A method missing on the first fitting route is looked for on the others."""
    router = router_with(("/x/{a:int}", ["GET"]), ("/x/{b}", ["POST"]))
    match, endpoint, params, _ = router.match("POST", "/x/1")
    assert (match, endpoint.path, params) == (Match.FULL, "/x/{b}", {"b": "1"})


@pytest.mark.exercise("5.1")
def test_head_is_served_by_the_get_endpoint_on_dynamic_routes() -> None:
    """HEAD finds the GET endpoint of a dynamic route (RFC 9110 §9.3.2)."""
    router = router_with(("/items/{id:int}", ["GET"]))
    match, endpoint, params, _ = router.match("HEAD", "/items/3")
    assert (match, endpoint.method, params) == (Match.FULL, "GET", {"id": 3})


@pytest.mark.exercise("5.1")
def test_lookup_does_not_try_every_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """Among 1,000 dynamic routes, one lookup tries one segment pattern, not 1,000."""
    router = router_with(*[(f"/items{number}/{{id:int}}", ["GET"]) for number in range(1000)])
    tried: list[str] = []
    original = bare.Segment.match

    def counting(segment: bare.Segment, part: str) -> dict | None:
        tried.append(segment.text)
        return original(segment, part)

    monkeypatch.setattr(bare.Segment, "match", counting)
    match, endpoint, params, _ = router.match("GET", "/items999/5")
    assert (match, endpoint.path, params) == (Match.FULL, "/items999/{id:int}", {"id": 5})
    assert tried == ["{id:int}"]


# ── Static paths and registration (no exercise: runs at import time) ──────────


def test_static_path_is_one_dict_entry_and_matches() -> None:
    """A path without parameters lives in the static dict, not in the trie."""
    router = router_with(("/tasks", ["GET", "POST"]))
    assert list(router.static) == ["/tasks"]
    assert router.root.literal == {} and router.root.dynamic == []
    match, endpoint, params, _ = router.match("POST", "/tasks")
    assert (match, endpoint.method, params) == (Match.FULL, "POST", {})


def test_static_path_wins_over_dynamic_route() -> None:
    """ "/tasks/stats" goes to its own route even if "/tasks/{id}" came first."""
    router = router_with(("/tasks/{id}", ["GET"]), ("/tasks/stats", ["GET"]))
    assert router.match("GET", "/tasks/stats")[1].path == "/tasks/stats"


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("/users/{id:int}", [("users", "literal"), ("{id:int}", "parameter")]),
        ("/files/{name}.{ext}", [("files", "literal"), ("{name}.{ext}", "regex")]),
        ("/", [("", "literal")]),
    ],
)
def test_compile_path_splits_into_kinds_of_segment(path: str, kinds: list[tuple[str, str]]) -> None:
    """A path compiles to literal segments, whole-segment parameters, and mixed regexes."""

    def kind(segment: bare.Segment) -> str:
        if segment.is_literal:
            return "literal"
        return "parameter" if segment.regex is None else "regex"

    assert [(segment.text, kind(segment)) for segment in compile_path(path)] == kinds


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("users", "must start with '/'"),
        ("/users/{id:integer}", "unknown converter 'integer'"),
        ("/users/{1id}", "not an identifier"),
        ("/users/{id}/{id}", "appears twice"),
        ("/users/{id", "unbalanced brace"),
        ("/users/id}", "unbalanced brace"),
    ],
)
def test_bad_route_path_is_a_value_error(path: str, message: str) -> None:
    """A malformed route path is refused with ValueError when it is registered."""
    with pytest.raises(ValueError, match=message):
        compile_path(path)


def test_same_path_and_method_twice_is_a_value_error() -> None:
    """Routing one method of one path to two handlers is refused at registration."""
    app = bare.Bare()

    @app.get("/tasks")
    async def first(request: bare.Request) -> None:
        return None

    with pytest.raises(ValueError, match="already routed to .*first"):

        @app.get("/tasks")
        async def second(request: bare.Request) -> None:
            return None


def test_plain_function_handler_is_a_type_error() -> None:
    """A handler that is not async def is refused at registration, not at request time."""
    app = bare.Bare()
    with pytest.raises(TypeError, match="must be an async def"):

        @app.get("/")
        def index(request: bare.Request) -> None:
            return None


def test_methods_given_as_a_string_is_a_type_error() -> None:
    """``methods="GET"`` (a str, not a list) is refused rather than read as G, E, T."""
    app = bare.Bare()
    with pytest.raises(TypeError, match="list of names"):
        app.route("/", methods="GET")


def test_describe_shows_the_compiled_table_of_the_example_app() -> None:
    """describe() prints the static dict and the trie the example app compiles to."""
    import example_app

    assert example_app.app.router.describe() == "\n".join(
        [
            "static paths (one dict lookup):",
            "  /       GET index",
            "  /tasks  GET list_tasks, POST create_task",
            "dynamic paths (a trie, walked one segment at a time):",
            "  /tasks",
            "    /{task_id}  GET get_task, PATCH update_task, DELETE delete_task",
        ]
    )

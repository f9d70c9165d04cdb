"""The ASGI router: patterns, path parameters, 404, 405 with Allow, OPTIONS, WebSocket routes."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable

import pytest
from asgi_lifespan import LifespanManager
from asgiref.testing import ApplicationCommunicator
from rawasgi.protocol import Message, Receive, Scope, Send
from rawasgi.responses import send_json
from rawasgi.routing import BaseRoute, Match, Route, Router, WebSocketRoute
from stage04_helpers import call, http_scope, next_output, websocket_scope

from workbook.testing import SIDE_EFFECT_TIMEOUT, fetch


async def show_params(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the path parameters the router found, and the method."""
    await send_json(send, 200, {"params": scope["path_params"], "method": scope["method"]})


async def socket_params(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, send the path parameters as text, close."""
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": repr(scope["path_params"])})
    await send({"type": "websocket.close", "code": 1000})


ROUTER = Router(
    [
        Route("/users/{user_id:int}", show_params, methods=["GET", "DELETE"]),
        Route("/users/{user_id:int}", show_params, methods=["PUT"]),
        Route("/files/{rest:path}", show_params),
        Route("/hello/{name}", show_params, methods=["POST"]),
        WebSocketRoute("/rooms/{room}", socket_params),
    ]
)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/", "/", {}),
        ("/users/{user_id:int}", "/users/42", {"user_id": 42}),
        ("/a.b/{name}", "/a.b/ada", {"name": "ada"}),
        ("/a.b/{name}", "/aXb/ada", None),
        ("/tags/{tag:slug}", "/tags/web-frameworks_1", {"tag": "web-frameworks_1"}),
        ("/tags/{tag:slug}", "/tags/café", None),
        ("/users/{user_id:int}", "/users/-1", None),
        ("/users/{user_id:int}", "/users/\u0663", None),  # an Arabic-Indic 3
        ("/files/{rest:path}", "/files/a/b.txt", {"rest": "a/b.txt"}),
        ("/files/{rest:path}", "/files/", None),
        ("/users/{user_id:int}", "/users/7/", None),
    ],
)
def test_pattern_matches_and_converts(pattern: str, path: str, expected: dict | None) -> None:
    """A pattern matches its literal text exactly, and each converter only what it accepts."""
    lookup = Router([Route(pattern, show_params)]).lookup(http_scope("GET", path))
    assert (lookup.params if lookup.match is Match.FULL else None) == expected


@pytest.mark.parametrize(
    "path", ["no-slash", "/{id:float}", "/{a}/{a}", "/file-{id}", "/a//b", "/{rest:path}/more"]
)
def test_route_refuses_bad_patterns(path: str) -> None:
    """A pattern the index cannot honour is a ValueError when the route is made.

    No leading slash, an unknown converter, a repeated name, a placeholder that does not fill
    its segment, an empty segment, a path tail before the end.
    """
    with pytest.raises(ValueError):
        Route(path, show_params)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/users/7", Match.FULL),
        ("HEAD", "/users/7", Match.FULL),
        ("POST", "/users/7", Match.PARTIAL),
        ("GET", "/users/x", Match.NONE),
        ("GET", "/users/7/more", Match.NONE),
    ],
)
def test_lookup_has_three_outcomes(method: str, path: str, expected: Match) -> None:
    """A lookup matches fully, only by path (PARTIAL: the basis of 405), or not at all."""
    router = Router([Route("/users/{user_id:int}", show_params, methods=["GET"])])
    assert router.lookup(http_scope(method, path)).match is expected


def test_a_literal_segment_wins_over_a_parameter_whatever_the_order() -> None:
    """/users/me goes to its own route even when /users/{name} was registered first."""

    async def me(scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, 200, {"me": True})

    router = Router([Route("/users/{name}", show_params), Route("/users/me", me)])
    assert call(router, http_scope("GET", "/users/me")).body == b'{"me": true}'
    assert b'"name": "ada"' in call(router, http_scope("GET", "/users/ada")).body


def test_an_int_parameter_wins_over_a_str_parameter() -> None:
    """At one level {id:int} is tried before {name}: /n/7 is an int, /n/seven a str."""
    router = Router([Route("/n/{name}", show_params), Route("/n/{id:int}", show_params)])
    assert [router.lookup(http_scope("GET", path)).params for path in ("/n/7", "/n/seven")] == [
        {"id": 7},
        {"name": "seven"},
    ]


def python_calls(function: Callable[[], object]) -> int:
    """Return how many Python functions run during ``function()`` (C functions not counted)."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        count += event == "call"

    # No garbage collection while counting: a collection runs gc.callbacks (hypothesis
    # installs one once any property test has run), which would count as calls.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
        if gc_was_enabled:
            gc.enable()
    return count


@pytest.mark.parametrize(
    "path",
    ["/api/resource{last}/42", "/api/resource0", "/api/missing/42"],
    ids=["last-dynamic-route", "first-static-route", "miss"],
)
def test_a_lookup_does_the_same_work_among_1000_routes_as_among_10(path: str) -> None:
    """A lookup makes the same Python calls among 1,000 routes as among 10: no scan of routes."""

    def work(size: int) -> int:
        router = Router(
            [
                Route(f"/api/resource{n}/{{id:int}}" if n % 2 else f"/api/resource{n}", show_params)
                for n in range(size)
            ]
        )
        scope = http_scope("GET", path.format(last=size - 1))
        assert router.lookup(scope).match is (Match.NONE if "missing" in path else Match.FULL)
        return python_calls(lambda: router.lookup(scope))

    assert work(1000) == work(10)


@pytest.mark.parametrize(
    "routes",
    [
        [Route("/x", show_params), Route("/x", socket_params)],
        [
            Route("/x", show_params, methods=["GET", "POST"]),
            Route("/x", socket_params, methods=["post"]),
        ],
        [Route("/u/{id:int}", show_params), Route("/u/{uid:int}", socket_params)],
        [
            WebSocketRoute("/rooms/{room}", show_params),
            WebSocketRoute("/rooms/{name}", socket_params),
        ],
    ],
    ids=["same-path", "same-method", "same-shape", "websocket"],
)
def test_a_method_and_path_registered_twice_is_refused(routes: list[BaseRoute]) -> None:
    """The same method on the same path shape twice is a ValueError naming both routes."""
    with pytest.raises(ValueError, match="already registered") as refused:
        Router(routes)
    assert [name in str(refused.value) for name in ("socket_params", "show_params")] == [True, True]


def test_the_same_path_for_http_and_websocket_is_allowed() -> None:
    """HTTP and WebSocket routes are indexed apart: one path may have both."""
    router = Router([Route("/live", show_params), WebSocketRoute("/live", socket_params)])
    assert call(router, http_scope("GET", "/live")).status == 200
    assert [m["type"] for m in websocket_outputs(router, "/live")][0] == "websocket.accept"


def test_int_parameters_are_converted() -> None:
    """{user_id:int} reaches the endpoint as an int in scope["path_params"]."""
    response = call(ROUTER, http_scope("GET", "/users/42"))
    assert (response.status, response.body) == (
        200,
        b'{"params": {"user_id": 42}, "method": "GET"}',
    )


def test_path_parameter_takes_slashes() -> None:
    """{rest:path} matches the rest of the path, slashes included."""
    assert b'"rest": "a/b/c.txt"' in call(ROUTER, http_scope("GET", "/files/a/b/c.txt")).body


def test_a_later_route_can_take_another_method() -> None:
    """When the first route with the path lacks the method, a later route with it still wins."""
    assert call(ROUTER, http_scope("PUT", "/users/1")).status == 200


def test_wrong_method_is_405_with_allow() -> None:
    """A known path with a method no route takes is 405, Allow listing every method that works."""
    response = call(ROUTER, http_scope("PATCH", "/users/1"))
    assert (response.status, response.header(b"allow")) == (405, b"DELETE, GET, HEAD, OPTIONS, PUT")


def test_options_is_answered_with_allow() -> None:
    """OPTIONS on a known path no route takes it for is 200 with Allow and an empty body."""
    response = call(ROUTER, http_scope("OPTIONS", "/users/1"))
    assert (response.status, response.header(b"allow"), response.body) == (
        200,
        b"DELETE, GET, HEAD, OPTIONS, PUT",
        b"",
    )


def test_head_is_served_by_the_get_route() -> None:
    """HEAD reaches the GET route's endpoint, which sees method HEAD (the server drops the body)."""
    response = call(ROUTER, http_scope("HEAD", "/users/3"))
    assert (response.status, response.body) == (
        200,
        b'{"params": {"user_id": 3}, "method": "HEAD"}',
    )


def test_an_explicit_head_route_wins_over_the_get_route() -> None:
    """A route registered for HEAD itself takes HEAD; GET stays with the GET route."""

    async def head_only(scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, 204, None)

    router = Router([Route("/x", show_params), Route("/x", head_only, methods=["HEAD"])])
    assert [call(router, http_scope(method, "/x")).status for method in ("HEAD", "GET")] == [
        204,
        200,
    ]


def test_unknown_path_is_404() -> None:
    """A path no route matches is 404."""
    assert call(ROUTER, http_scope("GET", "/nope")).status == 404


def test_root_path_is_stripped_before_matching() -> None:
    """An app mounted at root_path matches routes on the path below it."""
    scope = http_scope("GET", "/api/users/5")
    scope["root_path"] = "/api"
    assert call(ROUTER, scope).status == 200


def websocket_outputs(router: Router, path: str) -> list[Message]:
    async def exchange() -> list[Message]:
        communicator = ApplicationCommunicator(router, websocket_scope(path))
        await communicator.send_input({"type": "websocket.connect"})
        outputs = []
        while not outputs or outputs[-1]["type"] != "websocket.close":
            outputs.append(await next_output(communicator))
        await communicator.wait(SIDE_EFFECT_TIMEOUT)
        return outputs

    return asyncio.run(exchange())


def test_websocket_route_gets_path_params() -> None:
    """A WebSocket route is matched by path and gets its parameters too."""
    outputs = websocket_outputs(ROUTER, "/rooms/lobby")
    assert [m["type"] for m in outputs] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert outputs[1]["text"] == "{'room': 'lobby'}"


def test_websocket_without_route_is_closed_before_accept() -> None:
    """A WebSocket no route matches is closed without accept (a 403 from the server)."""
    assert [m["type"] for m in websocket_outputs(ROUTER, "/nowhere")] == ["websocket.close"]


def test_http_route_does_not_match_a_websocket() -> None:
    """An HTTP route's path does not take a WebSocket to it."""
    assert [m["type"] for m in websocket_outputs(ROUTER, "/users/1")] == ["websocket.close"]


def test_router_completes_lifespan_without_a_handler() -> None:
    """A router with no lifespan handler still completes startup and shutdown."""

    async def run() -> bool:
        async with LifespanManager(ROUTER):
            return True

    assert asyncio.run(run()) is True


def test_router_refuses_other_scope_types() -> None:
    """A scope type the router does not know raises, as the ASGI spec asks of an app."""
    with pytest.raises(ValueError, match="'webtransport'"):
        asyncio.run(ROUTER({"type": "webtransport", "path": "/"}, None, None))  # type: ignore[arg-type]


def test_describe_shows_the_compiled_indexes() -> None:
    """describe() draws the HTTP and WebSocket tries the routes were compiled into."""
    assert Router(
        [
            Route("/users/{user_id:int}", show_params, methods=["GET", "DELETE"]),
            WebSocketRoute("/rooms/{room}", socket_params),
        ]
    ).describe() == (
        "HTTP routes\n"
        "/users\n"
        "└── /{int}  DELETE show_params, GET show_params\n"
        "static paths (one dict lookup each): (none)\n"
        "\n"
        "WebSocket routes (filed under GET, the handshake's method)\n"
        "/rooms\n"
        "└── /{str}  GET socket_params\n"
        "static paths (one dict lookup each): (none)"
    )


def test_routes_must_be_routes() -> None:
    """Passing something that is not a route is a TypeError at start-up, not at request time."""
    with pytest.raises(TypeError):
        Router([("/", show_params)])  # type: ignore[list-item]


def test_route_needs_a_method() -> None:
    """A route with no methods could never match: ValueError."""
    with pytest.raises(ValueError):
        Route("/", show_params, methods=[])


# ── The index is stage 02's I/O-free core, and root_path is honoured ─────────


def test_the_router_loads_stage_02s_core_without_its_wsgi_classes() -> None:
    """rawasgi.routing imports wsgirouter.trie only: no WSGI Request, Response or Router."""
    import subprocess

    from workbook.stages import subprocess_env

    code = (
        "import sys, rawasgi.routing; "
        "print(sorted(m for m in sys.modules if m.startswith('wsgirouter')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=subprocess_env("04_asgi"),
    ).stdout
    assert output.strip() == "['wsgirouter', 'wsgirouter.trie']"


@pytest.mark.parametrize(
    ("root_path", "path", "routed"),
    [
        ("/api", "/api/hello/ada", "/hello/ada"),  # the ASGI spec: path includes root_path
        ("/api", "/api", "/"),
        ("/api/", "/api/hello/ada", "/hello/ada"),
        ("/api", "/apix/hello", "/apix/hello"),  # not below /api: a segment boundary counts
        ("/api", "/hello/ada", "/hello/ada"),  # a server that leaves root_path out of path
        ("", "/hello/ada", "/hello/ada"),
    ],
)
def test_route_path_is_the_path_below_root_path(root_path: str, path: str, routed: str) -> None:
    """The router matches the part of path below root_path (ASGI 3.0, HTTP connection scope)."""
    from rawasgi.routing import route_path

    assert route_path({"type": "http", "path": path, "root_path": root_path}) == routed


def test_the_example_routes_below_uvicorn_root_path() -> None:
    """uvicorn --root-path /api sends /hello/ada as /api/hello/ada: the router finds /hello/ada."""

    from workbook.testing import LOOPBACK, free_port, server_argv, serving

    port = free_port()
    argv = [*server_argv("uvicorn", "rawasgi.example:app", port), "--root-path", "/api"]
    with serving("04_asgi", argv, port) as process:
        try:
            response = fetch("GET", f"http://{LOOPBACK}:{port}/hello/ada")
            assert (response.status_code, response.text) == (200, "Hello, ada!\n")
        finally:
            if process.stdout is not None:
                process.stdout.close()

"""The ASGI router: compiled paths, path parameters, 404, 405 with Allow, WebSocket routes."""

from __future__ import annotations

import asyncio

import pytest
from asgi_lifespan import LifespanManager
from asgiref.testing import ApplicationCommunicator
from rawasgi.protocol import Message, Receive, Scope, Send
from rawasgi.responses import send_json
from rawasgi.routing import Match, Route, Router, WebSocketRoute, compile_path
from stage04_helpers import call, http_scope, websocket_scope


async def show_params(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the path parameters the router found, and the method."""
    await send_json(send, 200, {"params": scope["path_params"], "method": scope["method"]})


async def socket_params(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, send the path parameters as text, close."""
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": repr(scope["path_params"])})
    await send({"type": "websocket.close", "code": 1000})


ROUTER = Router([
    Route("/users/{user_id:int}", show_params, methods=["GET", "DELETE"]),
    Route("/users/{user_id:int}", show_params, methods=["PUT"]),
    Route("/files/{rest:path}", show_params),
    Route("/hello/{name}", show_params, methods=["POST"]),
    WebSocketRoute("/rooms/{room}", socket_params),
])


@pytest.mark.parametrize(("path", "regex"), [
    ("/", "^/$"),
    ("/users/{user_id:int}", "^/users/(?P<user_id>[0-9]+)$"),
    ("/a.b/{name}", r"^/a\.b/(?P<name>[^/]+)$"),
    ("/files/{rest:path}", "^/files/(?P<rest>.*)$"),
])
def test_compile_path_builds_an_anchored_regex(path: str, regex: str) -> None:
    """A route path compiles to an anchored regex: literals escaped, parameters as named groups."""
    assert compile_path(path)[0].pattern == regex


@pytest.mark.parametrize("path", ["no-slash", "/{id:float}", "/{a}/{a}"])
def test_compile_path_refuses_bad_patterns(path: str) -> None:
    """A path without a leading slash, an unknown converter or a repeated name is a ValueError."""
    with pytest.raises(ValueError):
        compile_path(path)


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/users/7", Match.FULL),
    ("HEAD", "/users/7", Match.FULL),
    ("POST", "/users/7", Match.PARTIAL),
    ("GET", "/users/x", Match.NONE),
    ("GET", "/users/7/more", Match.NONE),
])
def test_route_match_has_three_outcomes(method: str, path: str, expected: Match) -> None:
    """A route matches fully, only by path (PARTIAL: the basis of 405), or not at all."""
    route = Route("/users/{user_id:int}", show_params, methods=["GET"])
    assert route.matches(http_scope(method, path))[0] is expected


def test_int_parameters_are_converted() -> None:
    """{user_id:int} reaches the endpoint as an int in scope["path_params"]."""
    response = call(ROUTER, http_scope("GET", "/users/42"))
    assert (response.status, response.body) == (200, b'{"params": {"user_id": 42}, "method": "GET"}')


def test_path_parameter_takes_slashes() -> None:
    """{rest:path} matches the rest of the path, slashes included."""
    assert b'"rest": "a/b/c.txt"' in call(ROUTER, http_scope("GET", "/files/a/b/c.txt")).body


def test_a_later_route_can_take_another_method() -> None:
    """When the first route with the path lacks the method, a later route with it still wins."""
    assert call(ROUTER, http_scope("PUT", "/users/1")).status == 200


def test_wrong_method_is_405_with_allow() -> None:
    """A known path with a method no route takes is 405, with Allow listing every method that works."""
    response = call(ROUTER, http_scope("PATCH", "/users/1"))
    assert response.status == 405
    assert response.header(b"allow") == b"DELETE, GET, HEAD, PUT"


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
            outputs.append(await communicator.receive_output())
        await communicator.wait()
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


def test_routes_must_be_routes() -> None:
    """Passing something that is not a route is a TypeError at start-up, not at request time."""
    with pytest.raises(TypeError):
        Router([("/", show_params)])  # type: ignore[list-item]


def test_route_needs_a_method() -> None:
    """A route with no methods could never match: ValueError."""
    with pytest.raises(ValueError):
        Route("/", show_params, methods=[])

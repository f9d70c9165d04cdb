"""An app written by someone else: a Starlette app, HTTP and WebSocket, on the hand-written server.

Starlette is a test dependency only. If the server builds its scopes and
events the way the spec says, a framework it has never seen just works:
routing, path parameters, request bodies, streaming, lifespan state, and
WebSockets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from workbook.testing import fetch


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
    yield {"greeting": "hello from lifespan"}


async def home(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "path": request.url.path,
            "query": dict(request.query_params),
            "greeting": request.state.greeting,
            "client": request.client.host,
        }
    )


async def item(request: Request) -> JSONResponse:
    return JSONResponse({"item_id": request.path_params["item_id"]})


async def upload(request: Request) -> PlainTextResponse:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return PlainTextResponse(f"received {size} bytes")


async def numbers(request: Request) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        for number in range(3):
            yield f"{number}\n"

    return StreamingResponse(lines(), media_type="text/plain")


async def shout(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text.upper())


async def json_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    data = await websocket.receive_json()
    await websocket.send_json({"got": data})
    await websocket.close(code=4001)


STARLETTE_APP = Starlette(
    routes=[
        Route("/", home),
        Route("/items/{item_id:int}", item),
        Route("/upload", upload, methods=["POST"]),
        Route("/numbers", numbers),
        WebSocketRoute("/shout", shout),
        WebSocketRoute("/json", json_socket),
    ],
    lifespan=lifespan,
)


@pytest.fixture
def starlette_url(serve) -> str:
    return serve(STARLETTE_APP).url


def test_starlette_sees_query_state_and_client(starlette_url: str) -> None:
    """Starlette reads the path, query, lifespan state and client from our scope."""
    assert fetch("GET", f"{starlette_url}/?a=1&b=two").json() == {
        "path": "/",
        "query": {"a": "1", "b": "two"},
        "greeting": "hello from lifespan",
        "client": "127.0.0.1",
    }


def test_starlette_converts_path_parameters_from_our_decoded_path(starlette_url: str) -> None:
    """Starlette's router converts path parameters from our decoded path."""
    assert fetch("GET", f"{starlette_url}/items/42").json() == {"item_id": 42}


def test_starlette_streams_a_request_body(starlette_url: str) -> None:
    """Starlette's request.stream() reads our http.request events to the end."""

    def pieces() -> AsyncIterator[bytes]:
        yield from (b"x" * 30_000 for _ in range(5))

    assert (
        fetch("POST", f"{starlette_url}/upload", content=pieces()).text == "received 150000 bytes"
    )


def test_starlette_streaming_response_is_chunked(starlette_url: str) -> None:
    """A StreamingResponse becomes a chunked body."""
    response = fetch("GET", f"{starlette_url}/numbers")
    assert (response.headers["transfer-encoding"], response.text) == ("chunked", "0\n1\n2\n")


def test_starlette_404_and_405(starlette_url: str) -> None:
    """Starlette's own 404 and 405 pass through the server unchanged."""
    assert fetch("GET", f"{starlette_url}/missing").status_code == 404
    response = fetch("GET", f"{starlette_url}/upload")
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_starlette_websocket_receives_and_sends_text_through_our_events(starlette_url: str) -> None:
    """A Starlette WebSocket endpoint receives and sends text through our events."""
    with connect(f"{starlette_url.replace('http', 'ws', 1)}/shout", open_timeout=5) as websocket:
        websocket.send("quiet please")
        assert websocket.recv(timeout=5) == "QUIET PLEASE"


def test_starlette_websocket_json_and_close_code(starlette_url: str) -> None:
    """JSON messages and the app's close code make the round trip."""
    with connect(f"{starlette_url.replace('http', 'ws', 1)}/json", open_timeout=5) as websocket:
        websocket.send('{"n": 1}')
        assert websocket.recv(timeout=5) == '{"got":{"n":1}}'
        with pytest.raises(ConnectionClosed):
            websocket.recv(timeout=5)
    assert websocket.close_code == 4001

"""The framework in process: what handlers return, errors, HEAD/OPTIONS, limits, debug.

Requests go through httpx's ASGITransport (no lifespan: that is test_lifespan.py).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from bare import Bare, HTTPError, Request, Response
from bare_helpers import call

pytestmark = pytest.mark.exercise("5.3")


def app_with(path: str, handler: Any, methods: list[str] | None = None, **options: Any) -> Bare:
    """Return a Bare app with one route."""
    app = Bare(**options)
    app.route(path, methods)(handler)
    return app


async def crash(request: Request) -> None:
    raise RuntimeError("db password is hunter2")


@pytest.mark.parametrize(
    ("returned", "status", "content_type", "body"),
    [
        ({"ok": True}, 200, "application/json", b'{"ok":true}'),
        ([1, 2], 200, "application/json", b"[1,2]"),
        (None, 200, "text/plain; charset=utf-8", b""),
        (Response("made", status=202), 202, "text/plain; charset=utf-8", b"made"),
    ],
)
def test_handler_result_becomes_a_response(
    returned: Any, status: int, content_type: str, body: bytes
) -> None:
    """A Response is sent as is; a dict or list as JSON; None as an empty 200."""

    async def handler(request: Request) -> Any:
        return returned

    response = call(app_with("/", handler), "GET", "/")
    assert (response.status_code, response.headers["content-type"], response.content) == (
        status,
        content_type,
        body,
    )


def test_unknown_path_is_404_with_the_chapter_body(sent: Any) -> None:
    """A path no route has is 404 {"error": "not found"}."""
    response = call(Bare(), "GET", "/nowhere", record=sent)
    assert (response.status_code, response.json()) == (404, {"error": "not found"})


def test_wrong_method_is_405_with_allowed_list_and_allow_header(sent: Any) -> None:
    """A known path with another method is 405: the chapter's body plus an Allow header."""

    async def handler(request: Request) -> None:
        return None

    response = call(app_with("/tasks", handler, ["GET", "POST"]), "DELETE", "/tasks", record=sent)
    assert response.status_code == 405
    assert response.json() == {
        "error": "method not allowed",
        "allowed": ["GET", "HEAD", "OPTIONS", "POST"],
    }
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_head_runs_the_get_handler_and_sends_no_body(sent: Any) -> None:
    """HEAD on a GET route answers the GET status and headers, without the body."""

    async def handler(request: Request) -> dict:
        return {"method": request.method}

    response = call(app_with("/", handler), "HEAD", "/", record=sent)
    assert (response.status_code, response.headers["content-length"], response.content) == (
        200,
        "17",
        b"",
    )


def test_options_is_answered_with_allow(sent: Any) -> None:
    """OPTIONS on a known path is 204 with Allow, without a handler of its own."""

    async def handler(request: Request) -> None:
        return None

    response = call(
        app_with("/items/{id}", handler, ["GET", "DELETE"]), "OPTIONS", "/items/1", record=sent
    )
    assert (response.status_code, response.headers["allow"], response.content) == (
        204,
        "DELETE, GET, HEAD, OPTIONS",
        b"",
    )


def test_explicit_options_handler_wins() -> None:
    """A route registered for OPTIONS handles OPTIONS itself."""

    async def handler(request: Request) -> dict:
        return {"custom": True}

    assert call(app_with("/", handler, ["OPTIONS"]), "OPTIONS", "/").json() == {"custom": True}


def test_http_error_from_a_handler_is_its_status_and_message() -> None:
    """raise HTTPError(404, "...") answers that status with {"error": message}."""

    async def handler(request: Request) -> None:
        raise HTTPError(409, "task already done")

    response = call(app_with("/", handler), "GET", "/")
    assert (response.status_code, response.json()) == (409, {"error": "task already done"})


def test_handler_crash_is_a_generic_500_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A handler exception is 500 with a plain message; the traceback goes to the log."""
    with caplog.at_level(logging.ERROR, logger="bare"):
        response = call(app_with("/boom", crash), "GET", "/boom")
    assert (response.status_code, response.json()) == (500, {"error": "internal server error"})
    assert "hunter2" not in response.text
    [record] = caplog.records
    assert "GET /boom" in record.getMessage()
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])


def test_debug_mode_shows_the_traceback_in_the_500() -> None:
    """With Bare(debug=True) the 500 body carries the traceback."""
    response = call(app_with("/boom", crash, debug=True), "GET", "/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal server error"
    assert "RuntimeError: db password is hunter2" in response.json()["traceback"]


def test_invalid_json_is_400_through_the_app(sent: Any) -> None:
    """A handler calling request.json() on "{bad" leads to a 400, not a 500."""

    async def handler(request: Request) -> Any:
        return await request.json()

    response = call(
        app_with("/", handler, ["POST"]),
        "POST",
        "/",
        record=sent,
        content=b"{bad",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("request body is not valid JSON")


def test_body_over_the_configured_limit_is_413(sent: Any) -> None:
    """Bare(max_body_size=N) answers 413 to a body longer than N bytes."""

    async def handler(request: Request) -> dict:
        return {"size": len(await request.body())}

    app = app_with("/upload", handler, ["POST"], max_body_size=100)
    assert call(app, "POST", "/upload", record=sent, content=b"x" * 101).status_code == 413
    assert call(app, "POST", "/upload", content=b"x" * 100).json() == {"size": 100}


def test_path_params_arrive_typed() -> None:
    """{id:int} gives the handler an int, {name} a str."""

    async def handler(request: Request) -> dict:
        return {name: [value, type(value).__name__] for name, value in request.path_params.items()}

    response = call(app_with("/users/{id:int}/{name}", handler), "GET", "/users/42/ada")
    assert response.json() == {"id": [42, "int"], "name": ["ada", "str"]}


def test_request_knows_its_app_and_the_app_state() -> None:
    """request.app is the Bare app, so handlers reach app.state."""
    app = Bare()
    app.state["greeting"] = "hi"

    @app.get("/")
    async def index(request: Request) -> dict:
        return {"same": request.app is app, "greeting": request.app.state["greeting"]}

    assert call(app, "GET", "/").json() == {"same": True, "greeting": "hi"}


def test_cookies_reach_the_handler() -> None:
    """request.cookies gives the Cookie header's pairs."""

    async def handler(request: Request) -> dict:
        return request.cookies

    response = call(app_with("/", handler), "GET", "/", headers={"cookie": "sid=abc; theme=dark"})
    assert response.json() == {"sid": "abc", "theme": "dark"}


def test_form_reaches_the_handler() -> None:
    """await request.form() parses an urlencoded POST."""

    async def handler(request: Request) -> dict:
        return await request.form()

    response = call(
        app_with("/", handler, ["POST"]), "POST", "/", data={"title": "Built with bare"}
    )
    assert response.json() == {"title": ["Built with bare"]}

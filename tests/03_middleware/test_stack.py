"""The example stack: stage 02's API in every layer, in process, behind both linters."""

from __future__ import annotations

import base64
import gzip as gzip_format
import json
import re
from typing import Any

import pytest
from onion.compose import build, layers
from onion.example import FRONTEND_ORIGIN, create_api, middleware
from stage02_helpers import call
from stage03_helpers import Recorder
from werkzeug.middleware.lint import LintMiddleware

ADMIN = ("Authorization", "Basic " + base64.b64encode(b"admin:secret").decode())
JSON = ("Content-Type", "application/json")
GZIP = ("Accept-Encoding", "gzip")


@pytest.fixture
def stack() -> Any:
    """The example's stack as served (``call`` puts both linters around it)."""
    return build(create_api(), *middleware())


def test_layers_are_in_the_documented_order() -> None:
    """The stack is AccessLog, RequestID, CORS, ErrorHandler, Gzip, BasicAuth, then the router."""
    assert layers(build(create_api(), *middleware())) == [
        "AccessLog",
        "RequestID",
        "CORS",
        "ErrorHandler",
        "Gzip",
        "BasicAuth",
        "Router",
    ]


def test_list_is_compressed_with_an_id_and_logged(stack: Any) -> None:
    """GET /books: gzip'd JSON with its real length, an X-Request-ID, and one access-log line."""
    reply = call(stack, "GET", "/books", headers=[GZIP])
    request_id = reply.header("X-Request-ID")
    assert (
        reply.header("Content-Encoding"),
        reply.header("Content-Length"),
        len(json.loads(gzip_format.decompress(reply.body))["books"]),
    ) == ("gzip", str(len(reply.body)), 4)
    line = re.sub(r"\d+\.\dms", "<ms>", reply.errors)
    assert line == f"GET /books 200 {len(reply.body)}B <ms> id={request_id}\n"


def test_write_without_credentials_is_a_401_with_cors_headers(stack: Any) -> None:
    """POST without credentials: 401 from BasicAuth, still readable by the allowed origin."""
    reply = call(
        stack,
        "POST",
        "/books",
        headers=[JSON, ("Origin", FRONTEND_ORIGIN)],
        body=b'{"title": "t", "author": "a"}',
    )
    assert (
        reply.status,
        reply.header("WWW-Authenticate") is not None,
        reply.header("Access-Control-Allow-Origin"),
    ) == (401, True, FRONTEND_ORIGIN)


def test_write_with_credentials_creates(stack: Any) -> None:
    """POST with admin's credentials reaches the API: 201."""
    reply = call(
        stack, "POST", "/books", headers=[JSON, ADMIN], body=b'{"title": "t", "author": "a"}'
    )
    assert (reply.status, reply.json()["id"]) == (201, 5)


def test_invalid_json_through_the_stack_is_a_400(stack: Any) -> None:
    """Bad input still gets the API's own 400 with a message, through every layer."""
    reply = call(stack, "POST", "/books", headers=[JSON, ADMIN], body=b"{")
    assert (reply.status, reply.json()["error"][:13]) == (400, "invalid JSON:")


def test_preflight_is_answered_before_authentication(stack: Any) -> None:
    """A browser's preflight for a POST is answered 200 by CORS, without credentials."""
    reply = call(
        stack,
        "OPTIONS",
        "/books",
        headers=[
            ("Origin", FRONTEND_ORIGIN),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type, authorization"),
        ],
    )
    assert (reply.status, reply.header("Access-Control-Allow-Origin")) == (200, FRONTEND_ORIGIN)


def test_handler_bug_is_a_generic_500_logged_with_the_id(stack: Any) -> None:
    """/boom: a 500 with the generic body and the request id; traceback and access line logged."""
    reply = call(stack, "GET", "/boom", headers=[("X-Request-ID", "trace-me")])
    assert (reply.status, reply.text, reply.header("X-Request-ID")) == (
        500,
        "Internal Server Error\n",
        "trace-me",
    )
    assert (
        "RuntimeError: a bug in a handler" in reply.errors,
        reply.errors.splitlines()[-1].startswith("GET /boom 500 22B"),
    ) == (True, True)


def test_500_carries_cors_headers(stack: Any) -> None:
    """CORS sits outside the error handler: a page from the allowed origin can read the 500."""
    reply = call(stack, "GET", "/boom", headers=[("Origin", FRONTEND_ORIGIN)])
    assert (reply.status, reply.header("Access-Control-Allow-Origin")) == (500, FRONTEND_ORIGIN)


@pytest.mark.filterwarnings("ignore:Content-Length and the number of bytes:Warning")
def test_bug_mid_stream_cuts_the_response_and_logs_it_aborted() -> None:
    """/boom/stream fails after its first chunk: the server gets the exception; the log says so."""
    from stage02_helpers import make_environ, run

    environ = make_environ("GET", "/boom/stream")
    log = environ["wsgi.errors"]
    with pytest.raises(RuntimeError, match="a bug while streaming"):
        run(build(LintMiddleware(create_api()), *middleware()), environ)
    line = log.getvalue().splitlines()[-1]
    # The 500 came too late: the status sent, and logged, is still the 200.
    assert (line.startswith("GET /boom/stream 200 17B"), line.endswith("aborted")) == (True, True)


def test_close_reaches_the_app_through_every_layer() -> None:
    """The app's body is closed exactly once when the server closes the outermost result."""
    app = Recorder(chunks=[b"x" * 300, b"y" * 300], stream=True)
    reply = call(build(LintMiddleware(app), *middleware()), headers=[GZIP])
    assert (gzip_format.decompress(reply.body), app.log) == (b"x" * 300 + b"y" * 300, ["closed"])

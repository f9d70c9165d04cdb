"""CORS: preflights answered by the middleware; actual requests get the allow headers."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from onion.cors import CORS
from stage02_helpers import call
from stage03_helpers import Recorder, sandwich

FRONTEND = "http://localhost:3000"


def cors(app: Any, **options: Any) -> Any:
    settings: dict[str, Any] = {"allow_origins": [FRONTEND], **options}
    return sandwich(partial(CORS, **settings), app)


def preflight(
    app: Any, *, origin: str = FRONTEND, method: str = "PUT", headers: str | None = "content-type"
) -> Any:
    sent = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if headers is not None:
        sent.append(("Access-Control-Request-Headers", headers))
    return call(app, "OPTIONS", "/books/1", headers=sent)


def test_allowed_origin_gets_allow_origin_and_vary() -> None:
    """A request from an allowed origin gets Access-Control-Allow-Origin: that origin."""
    reply = call(cors(Recorder()), headers=[("Origin", FRONTEND)])
    assert (reply.header("Access-Control-Allow-Origin"), reply.header("Vary")) == (
        FRONTEND,
        "Origin",
    )


def test_other_origin_gets_no_allow_origin() -> None:
    """A request from an origin not listed gets no CORS headers: the browser hides the response."""
    reply = call(cors(Recorder()), headers=[("Origin", "https://evil.example")])
    assert (reply.status, reply.header("Access-Control-Allow-Origin")) == (200, None)


def test_no_origin_passes_through_with_vary() -> None:
    """A same-origin or non-browser request passes; the response still says Vary: Origin."""
    reply = call(cors(Recorder()))
    assert (reply.body, reply.header("Access-Control-Allow-Origin"), reply.header("Vary")) == (
        b"hello",
        None,
        "Origin",
    )


def test_any_origin_answers_star_without_vary() -> None:
    """allow_origins=["*"] answers "*", and the response does not vary on Origin."""
    reply = call(cors(Recorder(), allow_origins=["*"]), headers=[("Origin", "https://a.example")])
    assert (reply.header("Access-Control-Allow-Origin"), reply.header("Vary")) == ("*", None)


def test_credentials_and_exposed_headers_are_announced() -> None:
    """allow_credentials and expose_headers add their headers to actual responses."""
    reply = call(
        cors(Recorder(), allow_credentials=True, expose_headers=["X-Request-ID"]),
        headers=[("Origin", FRONTEND)],
    )
    assert (
        reply.header("Access-Control-Allow-Credentials"),
        reply.header("Access-Control-Expose-Headers"),
    ) == ("true", "X-Request-ID")


def test_preflight_is_answered_without_calling_the_app() -> None:
    """A preflight gets 200 with the allowed methods and headers; the app is not called."""
    app = Recorder()
    reply = preflight(cors(app))
    assert (
        reply.status,
        reply.header("Access-Control-Allow-Origin"),
        reply.header("Access-Control-Allow-Methods"),
        reply.header("Access-Control-Allow-Headers"),
        reply.header("Access-Control-Max-Age"),
        reply.body,
        app.calls,
    ) == (
        200,
        FRONTEND,
        "GET, HEAD, POST, PUT, PATCH, DELETE",
        "Content-Type, Authorization",
        "600",
        b"",
        0,
    )


@pytest.mark.parametrize(
    ("options", "request_options", "reason"),
    [
        ({}, {"origin": "https://evil.example"}, "origin not allowed"),
        ({"allow_methods": ["GET"]}, {"method": "DELETE"}, "method DELETE not allowed"),
        ({}, {"headers": "content-type, x-secret"}, "header(s) not allowed: x-secret"),
    ],
)
def test_refused_preflight_is_a_403_saying_why(
    options: dict[str, Any], request_options: dict[str, Any], reason: str
) -> None:
    """A preflight for a refused origin, method or header is a 403 that says which."""
    app = Recorder()
    reply = preflight(cors(app, **options), **request_options)
    assert (reply.status, reply.text, app.calls) == (403, f"CORS preflight refused: {reason}\n", 0)


def test_options_without_request_method_is_not_a_preflight() -> None:
    """OPTIONS without Access-Control-Request-Method goes to the app (the router's Allow)."""
    app = Recorder()
    call(cors(app), "OPTIONS", "/", headers=[("Origin", FRONTEND)])
    assert app.calls == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allow_origins": ["*"], "allow_credentials": True}, "cannot go with allow_credentials"),
        ({"allow_origins": []}, "allow_origins is empty"),
    ],
)
def test_unsafe_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    """'*' with credentials (the Fetch standard forbids it) or no origins at all is a ValueError."""
    with pytest.raises(ValueError, match=message):
        CORS(Recorder(), **options)

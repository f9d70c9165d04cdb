"""RequestID: keep a sane incoming X-Request-ID or make one; environ and response carry it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from onion.request_id import RequestID
from stage02_helpers import call, make_environ
from stage03_helpers import Recorder, sandwich


def with_id(app: Any, **options: Any) -> Any:
    return sandwich(partial(RequestID, generate=lambda: "generated-1", **options), app)


def test_missing_id_is_generated_and_echoed() -> None:
    """Without X-Request-ID, a new id goes into the environ and onto the response."""
    app = Recorder()
    reply = call(with_id(app))
    assert (reply.header("X-Request-ID"), app.environ["onion.request_id"]) == (
        "generated-1",
        "generated-1",
    )


def test_incoming_id_is_kept() -> None:
    """A sane incoming X-Request-ID is kept, in the environ and on the response."""
    app = Recorder()
    reply = call(with_id(app), headers=[("X-Request-ID", "edge-42.a")])
    assert (
        reply.header("X-Request-ID"),
        app.environ["onion.request_id"],
        app.environ["HTTP_X_REQUEST_ID"],
    ) == ("edge-42.a", "edge-42.a", "edge-42.a")


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 129, "", "semi;colon", "caf\u00e9"])
def test_insane_incoming_id_is_replaced(incoming: str) -> None:
    """An incoming id too long, empty, or with odd characters is replaced by a new one."""
    app = Recorder()
    reply = call(with_id(app), headers=[("X-Request-ID", incoming)])
    assert (reply.header("X-Request-ID"), app.environ["HTTP_X_REQUEST_ID"]) == (
        "generated-1",
        "generated-1",
    )


def test_default_ids_are_unique_hex() -> None:
    """Without generate=, ids are 32 hex digits, new for each request."""
    first, second = (call(RequestID(Recorder())).header("X-Request-ID") for _ in range(2))
    assert (len(first or ""), int(first or "", 16) >= 0, first != second) == (32, True, True)


def test_app_set_header_is_replaced_by_one_line() -> None:
    """If the app sets X-Request-ID itself, the response still carries one line: the id."""
    app = Recorder(headers=[("Content-Type", "text/plain"), ("X-Request-ID", "app's own")])
    assert call(with_id(app)).header_list("X-Request-ID") == ["generated-1"]


def test_body_is_the_apps_own_object() -> None:
    """A layer that only changes headers returns the app's body itself: close() needs no help."""
    body = [b"same object"]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    assert RequestID(app)(make_environ(), lambda *args: None) is body


def test_exc_info_is_passed_on() -> None:
    """start_response's exc_info reaches the server unchanged."""
    received: list[Any] = []
    error = ValueError("x")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(
            "500 Internal Server Error", [("Content-Type", "text/plain")], (ValueError, error, None)
        )
        return [b""]

    RequestID(app)(make_environ(), lambda status, headers, exc_info=None: received.append(exc_info))
    assert received == [(ValueError, error, None)]


def test_bad_header_name_is_refused() -> None:
    """A header name that is not a token is a ValueError at configuration."""
    with pytest.raises(ValueError):
        RequestID(Recorder(), header="X Request ID")

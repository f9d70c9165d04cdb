"""The error middleware: a handler's exception becomes a logged, generic 500.

Tests tagged 6.3 grade ``ErrorHandlerMiddleware.__call__`` around tiny apps:
a plain WSGI function, or a Roob app with one static route.
"""

from __future__ import annotations

import logging

import pytest
from roob.common_handlers import GENERIC_ERROR_MESSAGE
from roob.framework import Roob
from roob.middlewares import ErrorHandlerMiddleware
from webob import Request, Response

SECRET = "password=hunter2 in /srv/app/settings.py"


def failing_app() -> Roob:
    """Return an app whose /fail route raises with a message no client should see."""
    app = Roob()

    @app.route("/fail", methods=["GET", "POST"])
    def fail(request: Request) -> Response:
        raise ValueError(SECRET)

    @app.route("/ok")
    def ok(request: Request) -> Response:
        return Response(json_body={"ok": True})

    return app


@pytest.mark.exercise("6.3")
def test_an_exception_is_a_500_with_a_generic_body(client):
    """A handler's exception answers 500 with a generic message and nothing of the exception."""
    response = client(ErrorHandlerMiddleware(failing_app())).get("/fail", status=500)
    assert response.json == {"message": GENERIC_ERROR_MESSAGE}
    assert "hunter2" not in response.text


@pytest.mark.exercise("6.3")
def test_the_exception_is_logged_with_its_traceback(client, caplog):
    """The exception goes to the 'roob' logger at ERROR, with its traceback and the request."""
    with caplog.at_level(logging.ERROR, logger="roob"):
        client(ErrorHandlerMiddleware(failing_app())).post("/fail", status=500)
    records = [record for record in caplog.records if record.name == "roob"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    assert "POST /fail" in record.getMessage()
    assert "Traceback" in caplog.text and SECRET in caplog.text


@pytest.mark.exercise("6.3")
def test_debug_mode_shows_the_details(client):
    """With debug=True the 500 body adds the exception and its traceback."""
    response = client(ErrorHandlerMiddleware(failing_app(), debug=True)).get("/fail", status=500)
    body = response.json
    assert body["message"] == GENERIC_ERROR_MESSAGE
    assert body["exception"] == f"ValueError: {SECRET}"
    assert body["traceback"][0].startswith("Traceback")


@pytest.mark.exercise("6.3")
def test_a_request_that_does_not_fail_passes_through(client):
    """Without an exception the middleware returns the wrapped app's response as it is."""
    response = client(ErrorHandlerMiddleware(failing_app())).get("/ok")
    assert (response.status_int, response.json) == (200, {"ok": True})


@pytest.mark.exercise("6.3")
def test_a_failing_head_request_gets_a_500_without_a_body(client):
    """HEAD on a failing route answers 500 with no body."""
    response = client(ErrorHandlerMiddleware(failing_app())).head("/fail", status=500)
    assert response.body == b""


@pytest.mark.exercise("6.3")
def test_an_app_that_started_its_response_then_failed_gets_a_500(client):
    """If the app called start_response before raising, the 500 is sent with exc_info (PEP 3333)."""

    def starts_then_fails(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        raise RuntimeError("failed after start_response")

    # wsgiref's validator (inside client) refuses a second start_response without exc_info.
    response = client(ErrorHandlerMiddleware(starts_then_fails)).get("/", status=500)
    assert response.json == {"message": GENERIC_ERROR_MESSAGE}


@pytest.mark.exercise("6.3")
@pytest.mark.parametrize("exception", [KeyboardInterrupt, SystemExit])
def test_process_control_exceptions_pass_through(exception):
    """KeyboardInterrupt and SystemExit are not errors to report: they reach the server."""

    def stops(environ, start_response):
        raise exception()

    environ = Request.blank("/").environ
    with pytest.raises(exception):
        ErrorHandlerMiddleware(stops)(environ, lambda status, headers, exc_info=None: None)


def test_the_middleware_wraps_an_app():
    """ErrorHandlerMiddleware refuses something that is not a WSGI app."""
    with pytest.raises(TypeError, match="wraps a WSGI app"):
        ErrorHandlerMiddleware(None)


def test_the_served_app_is_wrapped_in_the_middleware():
    """core.main:app is the Roob app inside ErrorHandlerMiddleware, as the chapter builds it."""
    import core
    import core.main

    assert core.main.app is core.main.exception_handler_middleware
    assert isinstance(core.main.app, ErrorHandlerMiddleware)
    assert core.main.app.app is core.app


@pytest.mark.parametrize(
    ("value", "debug"),
    [
        ("", False),
        ("0", False),
        ("false", False),
        ("1", True),
        ("true", True),
        ("ON", True),
    ],
)
def test_roob_debug_turns_debug_mode_on(value, debug):
    """ROOB_DEBUG=1 turns debug mode on; unset or 0 leaves it off."""
    from core.settings import debug_mode

    assert debug_mode({"ROOB_DEBUG": value}) is debug


def test_an_unclear_roob_debug_is_refused():
    """ROOB_DEBUG set to something neither true nor false is a configuration error."""
    from core.settings import debug_mode

    with pytest.raises(ValueError, match="ROOB_DEBUG"):
        debug_mode({"ROOB_DEBUG": "maybe"})

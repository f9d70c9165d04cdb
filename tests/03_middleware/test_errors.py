"""ErrorHandler: an exception becomes a logged 500, or, once the headers are out, a cut response."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import pytest
from onion.errors import ErrorHandler
from stage02_helpers import call, make_environ, run
from stage03_helpers import Recorder, sandwich


def handled(app: Any, **options: Any) -> Any:
    return sandwich(partial(ErrorHandler, **options), app)


def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    raise ValueError("secret database password in the message")


@pytest.mark.exercise("3.3")
def test_exception_in_the_app_is_a_500_with_a_generic_body() -> None:
    """A handler's exception is a 500 whose body says nothing about the exception."""
    reply = call(handled(broken))
    assert (reply.status, reply.header("Content-Type"), reply.text) == (
        500,
        "text/plain; charset=utf-8",
        "Internal Server Error\n",
    )


@pytest.mark.exercise("3.3")
def test_exception_is_logged_with_its_traceback() -> None:
    """The exception, with its traceback, goes to the log (wsgi.errors)."""
    reply = call(handled(broken), "GET", "/orders")
    assert (
        "500 for GET /orders" in reply.errors,
        "Traceback" in reply.errors,
        "ValueError: secret database password" in reply.errors,
    ) == (True, True, True)


@pytest.mark.exercise("3.3")
def test_debug_mode_shows_the_traceback() -> None:
    """With debug=True, the 500 body carries the traceback."""
    reply = call(handled(broken, debug=True))
    assert (reply.status, "ValueError: secret database password" in reply.text) == (500, True)


@pytest.mark.exercise("3.3")
def test_app_that_started_the_response_then_raised_is_replaced() -> None:
    """start_response then an exception: the 500 replaces the response (exc_info allows it)."""

    def starts_then_fails(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Half", "done")])
        raise RuntimeError("after start_response")

    reply = call(handled(starts_then_fails))
    assert (reply.status, reply.header("X-Half")) == (500, None)


@pytest.mark.exercise("3.3")
def test_body_that_fails_before_sending_anything_is_replaced() -> None:
    """An exception while iterating, before any bytes went out, is still a clean 500."""
    app = Recorder(chunks=[b"never"], fail_after=0)
    reply = call(handled(app))
    assert (reply.status, reply.text, app.log) == (500, "Internal Server Error\n", ["closed"])


@pytest.mark.exercise("3.3")
@pytest.mark.filterwarnings("ignore:Content-Length and the number of bytes:Warning")
def test_body_that_fails_after_sending_reraises_to_the_server() -> None:
    """Once bytes are out, start_response(..., exc_info) re-raises: the server cuts the response."""
    # werkzeug's lint records the 500's headers even though the server refused them, then
    # compares their Content-Length with the bytes of the 200: that one complaint is ignored.
    app = Recorder(chunks=[b"first", b"never"], fail_after=1)
    environ = make_environ()
    log = environ["wsgi.errors"]  # the linters replace it in the environ with wrappers
    with pytest.raises(RuntimeError, match="failed while streaming"):
        run(handled(app), environ)
    assert ("500 for GET /" in log.getvalue(), app.log) == (True, ["closed"])


@pytest.mark.exercise("3.3")
def test_exc_info_reaches_the_server() -> None:
    """The 500 is sent with start_response(status, headers, exc_info): the real exception."""
    received: list[Any] = []

    def server_start_response(
        status: str, headers: Any, exc_info: Any = None
    ) -> Callable[..., Any]:
        received.append((status, type(exc_info[1]).__name__ if exc_info else None))
        return lambda data: None

    app = Recorder(chunks=[b"x"], fail_after=0)
    result = ErrorHandler(app)(make_environ(), server_start_response)
    list(result)
    result.close()  # type: ignore[attr-defined]
    assert received == [("200 OK", None), ("500 Internal Server Error", "RuntimeError")]


@pytest.mark.exercise("3.3")
def test_closing_mid_stream_is_not_an_error() -> None:
    """A server closing the response early (GeneratorExit) is not turned into a 500."""
    received: list[str] = []
    finished: list[str] = []

    def endless(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            while True:
                yield b"tick"
        finally:
            finished.append("closed")

    environ = make_environ()
    result = ErrorHandler(endless)(
        environ, lambda status, headers, exc_info=None: received.append(status)
    )
    iterator = iter(result)
    next(iterator)
    result.close()  # type: ignore[attr-defined]
    assert (received, finished, environ["wsgi.errors"].getvalue()) == (["200 OK"], ["closed"], "")


@pytest.mark.exercise("3.3")
def test_normal_response_passes_unchanged_and_is_closed() -> None:
    """Without an exception the response is the app's, and the app's body is closed."""
    app = Recorder(chunks=[b"a", b"b"], stream=True)
    reply = call(handled(app))
    assert (reply.status, reply.chunks, app.log) == (200, [b"a", b"b"], ["closed"])


def test_logger_option_uses_logging(caplog: pytest.LogCaptureFixture) -> None:
    """With logger=, the exception is logged there at ERROR, with its traceback."""
    logger = logging.getLogger("test.errors")
    with caplog.at_level(logging.ERROR, logger="test.errors"):
        reply = call(handled(broken, logger=logger), "GET", "/x")
    assert (caplog.messages, caplog.records[0].exc_info is not None, reply.errors) == (
        ["500 for GET /x"],
        True,
        "",
    )


def test_keyboard_interrupt_is_not_swallowed() -> None:
    """Only Exception becomes a 500: KeyboardInterrupt and SystemExit go on."""

    def interrupted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ErrorHandler(interrupted)(make_environ(), lambda *args: None)

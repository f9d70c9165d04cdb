"""AccessLog: one line per response (method, path, status, bytes, ms), written at close()."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import pytest
from onion.access_log import AccessLog
from stage02_helpers import call, make_environ
from stage03_helpers import Recorder, sandwich


def ticking(*times: float) -> Callable[[], float]:
    """Return a clock that gives these times, one per call."""
    values = iter(times)
    return lambda: next(values)


def logged(app: Any, **options: Any) -> Any:
    """AccessLog around app (linters in between), with a clock that says 2.5 ms passed."""
    return sandwich(partial(AccessLog, clock=ticking(10.0, 10.0025), **options), app)


@pytest.mark.exercise("3.2")
def test_line_has_method_path_status_bytes_and_milliseconds() -> None:
    """The line reads: GET /books 200 5B 2.5ms."""
    reply = call(logged(Recorder()), "GET", "/books")
    assert reply.errors == "GET /books 200 5B 2.5ms\n"


@pytest.mark.exercise("3.2")
def test_line_is_written_when_the_response_is_closed_not_before() -> None:
    """Nothing is logged while the body is being sent; the line comes with close()."""
    environ = make_environ("GET", "/stream")
    app = AccessLog(Recorder(chunks=[b"a", b"b"], stream=True), clock=ticking(0.0, 0.001))
    result = app(environ, lambda status, headers, exc_info=None: None)
    chunks = list(result)
    before = environ["wsgi.errors"].getvalue()
    result.close()  # type: ignore[attr-defined]
    assert (chunks, before, environ["wsgi.errors"].getvalue()) == (
        [b"a", b"b"],
        "",
        "GET /stream 200 2B 1.0ms\n",
    )


@pytest.mark.exercise("3.2")
def test_streamed_chunks_are_counted() -> None:
    """Every chunk of a streaming body counts toward the bytes."""
    reply = call(logged(Recorder(chunks=[b"one", b"two", b"three"], stream=True)), "GET", "/s")
    assert reply.errors == "GET /s 200 11B 2.5ms\n"


@pytest.mark.exercise("3.2")
def test_bytes_sent_through_write_are_counted() -> None:
    """Bytes sent with the legacy write() callable count too."""

    def writer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
        write(b"written")
        return []

    reply = call(logged(writer), "GET", "/w")
    assert (reply.body, reply.errors) == (b"written", "GET /w 200 7B 2.5ms\n")


@pytest.mark.exercise("3.2")
def test_app_body_is_closed_through_the_log_layer() -> None:
    """The app's body is closed (once) when the server closes the log layer's result."""
    app = Recorder(stream=True)
    call(logged(app))
    assert app.log == ["closed"]


@pytest.mark.exercise("3.2")
def test_exc_info_is_passed_on_and_the_final_status_logged() -> None:
    """A response replaced (start_response with exc_info) is logged with the new status."""
    received: list[Any] = []

    def replacing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("changed my mind")
        except ValueError as error:
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "text/plain")],
                (ValueError, error, error.__traceback__),
            )
        return [b"later"]

    def server_start_response(
        status: str, headers: Any, exc_info: Any = None
    ) -> Callable[..., Any]:
        received.append((status, exc_info[0] if exc_info else None))
        return lambda data: None

    environ = make_environ("GET", "/r")
    result = AccessLog(replacing, clock=ticking(0.0, 0.0))(environ, server_start_response)
    list(result)
    result.close()  # type: ignore[attr-defined]
    assert (received, environ["wsgi.errors"].getvalue()) == (
        [("200 OK", None), ("503 Service Unavailable", ValueError)],
        "GET /r 503 5B 0.0ms\n",
    )


@pytest.mark.exercise("3.2")
def test_replacement_refused_by_the_server_keeps_the_status_sent() -> None:
    """If the server re-raises a late exc_info call, the log keeps the status that went out."""

    def late_failure(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"sent"
        try:
            raise ValueError("too late")
        except ValueError as error:
            start_response(
                "500 Internal Server Error",
                [("Content-Type", "text/plain")],
                (ValueError, error, error.__traceback__),
            )

    def server_start_response(
        status: str, headers: Any, exc_info: Any = None
    ) -> Callable[..., Any]:
        if exc_info is not None:
            raise exc_info[1]  # the headers are out: PEP 3333 says re-raise
        return lambda data: None

    environ = make_environ("GET", "/late")
    result = AccessLog(late_failure, clock=ticking(0.0, 0.0))(environ, server_start_response)
    with pytest.raises(ValueError):
        list(result)
    result.close()  # type: ignore[attr-defined]
    assert environ["wsgi.errors"].getvalue() == "GET /late 200 4B 0.0ms aborted\n"


@pytest.mark.exercise("3.2")
def test_app_that_raises_is_logged_and_the_error_goes_on() -> None:
    """An app that raises before returning is logged with status "-" and the error re-raised."""

    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise KeyError("bug")

    environ = make_environ("POST", "/x")
    with pytest.raises(KeyError):
        AccessLog(broken, clock=ticking(0.0, 0.0))(environ, lambda *args: None)
    assert environ["wsgi.errors"].getvalue() == "POST /x - 0B 0.0ms aborted\n"


@pytest.mark.exercise("3.2")
def test_newline_in_the_path_cannot_forge_a_log_line() -> None:
    """A %0A in the URL is percent-encoded in the log: one request, one line."""
    reply = call(logged(Recorder()), "GET", "/a\nGET /admin 200")
    assert reply.errors == "GET /a%0AGET%20/admin%20200 200 5B 2.5ms\n"


def test_request_id_from_the_environ_is_shown() -> None:
    """A request id left in the environ by an inner layer ends the line."""

    def tagging(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["onion.request_id"] = "abc123"
        return Recorder()(environ, start_response)

    assert call(logged(tagging), "GET", "/").errors == "GET / 200 5B 2.5ms id=abc123\n"


def test_logger_option_uses_logging(caplog: pytest.LogCaptureFixture) -> None:
    """With logger=, the line goes to that logger at INFO instead of wsgi.errors."""
    logger = logging.getLogger("test.access")
    with caplog.at_level(logging.INFO, logger="test.access"):
        reply = call(logged(Recorder(), logger=logger), "GET", "/l")
    assert (caplog.messages, reply.errors) == (["GET /l 200 5B 2.5ms"], "")


@pytest.mark.exercise("3.2")
def test_failing_stream_line_says_aborted() -> None:
    """The log line of a response cut by an error ends with 'aborted'."""
    environ = make_environ("GET", "/f")
    app = AccessLog(Recorder(chunks=[b"ok", b"never"], fail_after=1), clock=ticking(0.0, 0.0))
    result = app(environ, lambda status, headers, exc_info=None: None)
    iterator: Iterator[bytes] = iter(result)
    next(iterator)
    with pytest.raises(RuntimeError):
        next(iterator)
    result.close()  # type: ignore[attr-defined]
    assert environ["wsgi.errors"].getvalue() == "GET /f 200 2B 0.0ms aborted\n"

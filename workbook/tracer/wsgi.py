"""Wrap the WSGI protocol callables so the recorder sees each of them.

PEP 3333 has three places where the server and the application meet: the
call ``app(environ, start_response)``, the ``start_response(status,
headers)`` call back, and the iterable of body bytes the app returns (plus
the legacy ``write``). :class:`WSGIProbe` stands between the two sides at
those places and records each crossing; it changes nothing that passes.
:func:`call_wsgi` plays the server's part in process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from workbook.tracer.layers import describe_error, short
from workbook.tracer.model import NOTE, PROTOCOL, SERVER, SPAN
from workbook.tracer.recorder import Recorder

Environ = dict[str, Any]


def environ_snapshot(environ: Environ) -> dict[str, Any]:
    """Return a copy of the environ with the file-like values shown as names."""
    shown: dict[str, Any] = {}
    for key in sorted(environ):
        value = environ[key]
        if isinstance(value, (str, int, float, bool, tuple)) or value is None:
            shown[key] = value
        else:
            shown[key] = f"<{type(value).__module__}.{type(value).__qualname__}>"
    return shown


def environ_summary(environ: Environ) -> str:
    """Return the line a trace shows for an environ: its size and key fields."""
    return (
        f"{len(environ)} keys: REQUEST_METHOD={environ.get('REQUEST_METHOD')!r} "
        f"PATH_INFO={environ.get('PATH_INFO')!r} QUERY_STRING={environ.get('QUERY_STRING')!r}"
    )


class TracedWrite:
    """The legacy ``write(data)`` callable, recorded."""

    __trace_name__ = "write"

    def __init__(self, write: Any, recorder: Recorder) -> None:
        self._write = write
        self._recorder = recorder

    def __call__(self, data: bytes) -> object:
        self._recorder.event(
            PROTOCOL,
            "write",
            detail=short(data),
            lane=SERVER,
            data={"bytes": data, "size": len(data)},
        )
        return self._write(data)


class TracedStartResponse:
    """``start_response``, recorded as an arrow from the calling layer to the server."""

    __trace_name__ = "start_response"

    def __init__(self, start_response: Any, recorder: Recorder) -> None:
        self._start_response = start_response
        self._recorder = recorder
        self.calls: list[tuple[str, list[tuple[str, str]]]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        start = self._recorder.now()
        detail = f"{status!r}, {len(headers)} header{'s' if len(headers) != 1 else ''}"
        if exc_info is not None:
            detail += f", exc_info={exc_info[0].__name__}"
        self.calls.append((status, list(headers)))
        try:
            write = (
                self._start_response(status, headers, exc_info)
                if exc_info is not None
                else self._start_response(status, headers)
            )
        finally:
            self._recorder.event(
                PROTOCOL,
                "start_response",
                detail=detail,
                lane=SERVER,
                start=start,
                data={
                    "status": status,
                    "headers": [list(pair) for pair in headers],
                    "exc_info": None if exc_info is None else repr(exc_info[1]),
                },
            )
        return TracedWrite(write, self._recorder)


class TracedBody:
    """The app's iterable of bytes, recorded chunk by chunk, ``close()`` kept."""

    def __init__(self, result: Iterable[bytes], recorder: Recorder, source: str) -> None:
        self._result = result
        self._recorder = recorder
        self._source = source

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._result:
            source = self._recorder.origin_lane(self._result) or self._source
            self._source = source
            self._recorder.event(
                PROTOCOL,
                "body",
                detail=short(chunk),
                source=source,
                lane=SERVER,
                data={"bytes": chunk, "size": len(chunk)},
            )
            yield chunk

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            self._recorder.event(PROTOCOL, "close()", source=SERVER, lane=self._source)
            close()


class WSGIProbe:
    """A WSGI app that records what passes between its server and ``app``."""

    __trace_name__ = "app"

    def __init__(self, app: Any, recorder: Recorder) -> None:
        self.app: Callable[[dict[str, Any], Any], Iterable[bytes]] = app  # a WSGI app
        self.recorder = recorder
        self.environ: Environ | None = None
        self.start_response: TracedStartResponse | None = None

    def __call__(self, environ: Environ, start_response: Any) -> Iterable[bytes]:
        recorder = self.recorder
        if not recorder.armed:
            return self.app(environ, start_response)
        self.environ = environ_snapshot(environ)
        recorder.event(
            NOTE,
            "environ",
            detail=environ_summary(environ),
            lane=SERVER,
            source=SERVER,
            data={"environ": self.environ},
        )
        mark = len(recorder.steps)
        self.start_response = TracedStartResponse(start_response, recorder)
        result = self.app(environ, self.start_response)
        return TracedBody(result, recorder, self.entry_lane(mark))

    def entry_lane(self, mark: int) -> str:
        """Return the lane of the first layer the app call reached (the outermost)."""
        for step in self.recorder.steps[mark:]:
            if step.kind == SPAN:
                return step.lane
        return "app"


def call_wsgi(probe: WSGIProbe, environ: Environ) -> tuple[str, list[tuple[str, str]], bytes]:
    """Play the server's part in process: call the app, read the body, close it.

    A server answers an app that raises with a 500, and so does this one;
    the trace keeps the error where it happened.
    """
    state: dict[str, Any] = {"status": None, "headers": [], "written": []}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and state["sent"]:
            raise exc_info[1].with_traceback(exc_info[2])
        state["status"], state["headers"] = status, list(headers)
        return state["written"].append

    state["sent"] = False
    try:
        result = probe(environ, start_response)
        try:
            chunks = []
            for chunk in result:
                state["sent"] = True
                chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception as error:  # noqa: BLE001 - a server turns this into a 500
        probe.recorder.event(
            NOTE,
            "500",
            detail=f"the app {describe_error(error)}; the server answers 500",
            lane=SERVER,
            source=SERVER,
        )
        return (
            "500 Internal Server Error",
            [("Content-Type", "text/plain")],
            b"Internal Server Error",
        )
    body = b"".join(state["written"]) + b"".join(chunks)
    return state["status"] or "500 Internal Server Error", state["headers"], body

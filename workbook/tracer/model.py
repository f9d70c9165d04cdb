"""What a trace is made of: lanes, steps, and the trace that holds them.

A trace is a list of steps in the order they began. A step is either a
*span* (a function of the stage that was entered and left: it has a
duration, a result or an error, and children) or a *point event* (one
``start_response`` call, one ASGI message, one burst of bytes on the wire).
Every step sits in a *lane*: the client, the server, each middleware, the
router, the handler... A step that crosses from one lane to another is an
arrow in the sequence diagram.

Times are milliseconds since the trace began, measured with
``time.perf_counter_ns`` (a monotonic clock shared by every thread).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from workbook.tracer.resolve import MissingLayer

#: The two lanes every trace has; the others come from the stage's layer table.
CLIENT = "client"
SERVER = "server"

#: Kinds of step. A span is a call with a duration; the others are instants.
SPAN = "span"
WIRE = "wire"  # bytes between client and server
PROTOCOL = "protocol"  # start_response, ASGI send / receive, the body iterable
NOTE = "note"  # something a layer saw (the environ, the scope), no arrow


@dataclass
class Lane:
    """One column of the sequence diagram: a layer of the stage."""

    name: str
    kind: str = "app"  # client, server, middleware, router, handler, service, app
    title: str = ""

    def __post_init__(self) -> None:
        if not self.title:
            self.title = self.name


@dataclass
class Step:
    """One thing that happened: a call into a layer, or a protocol event.

    ``source`` is the lane the arrow starts from (the caller's lane for a
    span), ``lane`` the lane it points to. ``detail`` is the one-line story
    (a call's arguments, a message's fields); ``result`` is what a span
    returned or raised, in words. ``data`` holds the full structured values
    (an environ, an ASGI message) for the JSON rendering and the notebooks.
    """

    index: int
    kind: str
    lane: str
    source: str
    title: str
    detail: str = ""
    start: float = 0.0
    end: float | None = None
    parent: int | None = None
    depth: int = 0
    result: str = ""
    error: str = ""
    thread: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Return how long the step took in milliseconds (None if it never ended)."""
        return None if self.end is None else self.end - self.start

    @property
    def is_span(self) -> bool:
        return self.kind == SPAN


@dataclass
class Trace:
    """Everything recorded for one request, ready to render."""

    stage: str
    method: str
    target: str
    transport: str  # "in process" or "socket"
    lanes: list[Lane] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    status: int | None = None  # None: no (whole) response came back
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    request_bytes: bytes = b""
    response_bytes: bytes = b""
    environ: dict[str, Any] | None = None
    scope: dict[str, Any] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    total: float = 0.0
    #: Layer patterns that named no function of the traced code (a rename):
    #: the timeline says so first, and the JSON lists them.
    missing_layers: list[MissingLayer] = field(default_factory=list)
    #: What the app and server printed (stdout and stderr) during the request.
    printed: str = ""

    # ── Queries the notebooks and tests use ──────────────────────────────

    def lane(self, name: str) -> Lane:
        """Return the lane called ``name`` or raise KeyError."""
        for lane in self.lanes:
            if lane.name == name:
                return lane
        raise KeyError(name)

    def spans(self, title: str | None = None) -> list[Step]:
        """Return the spans, optionally only those whose title is ``title``."""
        return [step for step in self.steps if step.is_span and title in (None, step.title)]

    def span(self, title: str) -> Step:
        """Return the first span titled ``title`` or raise LookupError."""
        for step in self.spans(title):
            return step
        titles = sorted({step.title for step in self.spans()})
        raise LookupError(f"no span {title!r} in the trace; spans: {titles}")

    def lane_order(self) -> list[str]:
        """Return the lanes in the order the request first reached them."""
        seen: list[str] = []
        for step in self.steps:
            for name in (step.source, step.lane):
                if name not in seen:
                    seen.append(name)
        return seen

    def children(self, step: Step) -> list[Step]:
        """Return the steps directly under ``step``."""
        return [child for child in self.steps if child.parent == step.index]

    @property
    def reason(self) -> str:
        """Return the status code and its phrase, e.g. ``"201 Created"``."""
        from http import HTTPStatus

        if self.status is None:
            return "no HTTP response"
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return str(self.status)

    @property
    def headline(self) -> str:
        """Return the one-line summary: request, response, transport, time."""
        return (
            f"{self.method} {self.target} -> {self.reason}   "
            f"[{self.stage}, {self.transport}, {self.total:.3f} ms]"
        )

    def summary(self) -> str:
        """Return where the request went in a few lines: decisions, errors, the answer.

        The router's decision (any step that recorded a ``match``), where
        an exception was raised and which layer caught it, and the status
        the app sent: the lines to read first when a request fails.
        """
        from workbook.tracer.text import render_summary

        return render_summary(self)

    # ── The three renderings ─────────────────────────────────────────────

    def timeline(self, *, width: int = 100, details: bool = True) -> str:
        """Return the text timeline for a terminal."""
        from workbook.tracer.text import render_timeline

        return render_timeline(self, width=width, details=details)

    def svg(self) -> str:
        """Return the SVG sequence diagram as text."""
        from workbook.tracer.svg import render_svg

        return render_svg(self)

    def diagram(self) -> Any:
        """Return the sequence diagram for a notebook: SVG, with its alt text for HTML.

        A notebook shows it as it is; ``nbconvert --to html`` uses the
        HTML form, an ``<svg role="img">`` whose title is the alt text (and
        whose arrows keep their tooltips).
        """
        from workbook.tracer.svg import Diagram

        return Diagram(self.svg())

    def to_dict(self) -> dict[str, Any]:
        """Return the trace as plain JSON-ready data."""
        data = asdict(self)
        data["lanes"] = [asdict(lane) for lane in self.lanes]
        data["lane_order"] = self.lane_order()
        for key in ("response_body", "request_bytes", "response_bytes"):
            data[key] = bytes_text(getattr(self, key))
        data["response_headers"] = [list(pair) for pair in self.response_headers]
        for entry, missing in zip(data["missing_layers"], self.missing_layers, strict=True):
            entry["message"] = missing.sentence()
        for step in data["steps"]:
            step["duration"] = (
                None if step["end"] is None else round(step["end"] - step["start"], 6)
            )
        plain: dict[str, Any] = jsonable(data)
        return plain

    def to_json(self, indent: int | None = 2) -> str:
        """Return the trace as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def bytes_text(data: bytes) -> str:
    """Return bytes as text a reader can follow: latin-1, escapes kept.

    >>> bytes_text(b"GET / HTTP/1.1\\r\\n")
    'GET / HTTP/1.1\\r\\n'
    """
    return data.decode("latin-1").encode("unicode_escape").decode("ascii")


def jsonable(value: Any) -> Any:
    """Return ``value`` with everything JSON cannot hold turned into text."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, bytes):
        return bytes_text(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)

"""Shared helpers for the tracer's tests: read a trace as a reader would.

Each stage's test module builds its tracer with
``workbook.tracer.profiles.stage_tracer(N)`` (which puts the stage under
test first on ``sys.path``) or ``tracer_for(N, app)`` for a tiny app of its
own built on the stage's framework.
"""

from __future__ import annotations

import pytest

from workbook.tracer import PROTOCOL, SPAN, Step, Trace


def span_titles(trace: Trace) -> list[str]:
    """Return the titles of the spans, in the order the calls began."""
    return [step.title for step in trace.steps if step.kind == SPAN]


def lanes_reached(trace: Trace) -> list[str]:
    """Return each lane once, in the order the request first reached it."""
    return trace.lane_order()


def protocol_events(trace: Trace) -> list[Step]:
    """Return the start_response / send / receive / body events, in order."""
    return [step for step in trace.steps if step.kind == PROTOCOL]


def statuses_sent(trace: Trace) -> list[str | int]:
    """Return the status of every start_response call or http.response.start message."""
    found: list[str | int] = []
    for step in protocol_events(trace):
        if step.title == "start_response":
            found.append(step.data["status"])
        elif step.title == "send http.response.start":
            found.append(step.data["message"]["status"])
    return found


class TraceReader:
    """The helpers above, as one fixture."""

    span_titles = staticmethod(span_titles)
    lanes_reached = staticmethod(lanes_reached)
    protocol_events = staticmethod(protocol_events)
    statuses_sent = staticmethod(statuses_sent)


@pytest.fixture
def read() -> TraceReader:
    """``read.span_titles(trace)`` and friends."""
    return TraceReader()

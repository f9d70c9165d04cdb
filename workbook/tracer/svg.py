"""Render a trace as an SVG sequence diagram, written by hand as text.

One column (lane) per layer: client, server, each middleware, the router,
the handler... Time runs down. Each row is one moment of the trace:

* a call into a layer is a solid arrow from the caller's lane, and the
  layer's activation bar runs until the dashed arrow that returns (with
  what it returned, or the exception in red);
* a call within the same lane is a small loop;
* a protocol event (``start_response``, an ASGI ``send`` or ``receive``,
  a body chunk) is an orange arrow to or from the server;
* bytes on the wire are thick arrows between client and server;
* a note (the environ, the scope) is a box beside its lane.

The diagram fits a column :data:`MAX_WIDTH` pixels wide (a notebook's, a
code host's): lanes share the width, a long label wraps onto up to
:data:`MAX_LINES` lines and is cut with "…" after that, and every arrow,
note and lane header carries its full text in a ``<title>`` (the tooltip a
browser shows on hover). The ``<svg>`` itself has a title and a
description, its text alternative (``role="img"``).

The left column gives each row's time in milliseconds. The SVG uses no
script, no external font and no CSS file (one ``<style>`` inside it), so a
notebook and a code host both show it as it is.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from workbook.tracer.model import CLIENT, NOTE, SPAN, WIRE, Step, Trace

#: The widest the diagram gets: a notebook column.
MAX_WIDTH = 900
#: The widest one lane gets when there are few of them.
LANE_WIDTH = 180
GUTTER = 62
RIGHT = 10
ROW = 22
LINE = 13  # height of one line of label text
MAX_LINES = 3
#: The least room a label gets before it moves left of its arrow.
MIN_ROOM = 300
HEADER = 46
CHAR = 6.6  # width of one character at font-size 11, monospace
SMALL_CHAR = 6.0  # at font-size 10
FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"

COLORS = {
    "client": "#4b5563",
    "server": "#2563eb",
    "middleware": "#d97706",
    "framework": "#7c3aed",
    "app": "#7c3aed",
    "router": "#db2777",
    "handler": "#059669",
    "service": "#0891b2",
    "data": "#64748b",
}
PROTOCOL_COLOR = "#ea580c"
ERROR_COLOR = "#dc2626"
MUTED = "#6b7280"

#: The text styles, once, instead of on every ``<text>``.
STYLE = (
    "text{font-size:11px;fill:#111827}"
    ".halo{stroke:#ffffff;stroke-width:3px;paint-order:stroke}"
    ".small{font-size:10px;fill:" + MUTED + "}"
    ".lane{font-size:11px;font-weight:bold;text-anchor:middle}"
    ".kind{font-size:9px;fill:" + MUTED + ";text-anchor:middle}"
    ".time{font-size:10px;fill:" + MUTED + ";text-anchor:end}"
    ".note{font-size:10px;fill:#713f12}"
    ".headline{font-size:13px;font-weight:bold}"
    # Arrows and their labels, by kind: a call, a return, an error, a protocol event, bytes.
    ".call{stroke:#111827;marker-end:url(#arrow-call)}"
    ".ret{stroke:" + MUTED + ";stroke-dasharray:5 3;marker-end:url(#arrow-call)}"
    ".err{stroke:" + ERROR_COLOR + ";stroke-dasharray:5 3;marker-end:url(#arrow-error)}"
    ".proto{stroke:" + PROTOCOL_COLOR + ";marker-end:url(#arrow-protocol)}"
    ".wire{stroke:" + "#2563eb" + ";stroke-width:2.5px;marker-end:url(#arrow-wire)}"
    ".self{stroke-dasharray:2 2}"
    "text.ret{fill:" + MUTED + "}text.err{fill:" + ERROR_COLOR + "}"
    "text.proto{fill:" + PROTOCOL_COLOR + "}text.wire{fill:#2563eb}"
    "text.ret,text.err,text.proto,text.wire,text.call{stroke:#ffffff;stroke-width:3px;paint-order:stroke;"
    "marker-end:none;stroke-dasharray:none}"
    # Activation bars, in the colour of their lane's kind.
    + "".join(
        f".bar-{kind}{{fill:{color};fill-opacity:.25;stroke:{color}}}"
        for kind, color in COLORS.items()
    )
)


@dataclass
class Row:
    """One line of the diagram: a step beginning, or a span returning."""

    time: float
    step: Step
    leave: bool


@dataclass
class Layout:
    """Where things go: the lanes' centres, the width, the text room."""

    names: list[str]
    lane_width: float
    width: float

    def x(self, name: str) -> float:
        return GUTTER + self.lane_width * self.names.index(name) + self.lane_width / 2

    def room(self, left: float) -> float:
        """Return the pixels from ``left`` to the right edge."""
        return self.width - RIGHT - left


def rows_of(trace: Trace) -> list[Row]:
    """Return the diagram's rows in time order.

    A span that stays in its lane and calls nothing shown is drawn on one
    row (a loop); every other span gets a second row where it returns.
    """
    parents = {step.parent for step in trace.steps if step.parent is not None}
    rows = [Row(step.start, step, False) for step in trace.steps]
    for step in trace.steps:
        if step.kind == SPAN and step.end is not None and not single_row(step, parents):
            rows.append(Row(step.end, step, True))
    rows.sort(
        key=lambda row: (
            row.time,
            row.leave,
            -row.step.depth if row.leave else row.step.depth,
            row.step.index,
        )
    )
    return rows


def single_row(step: Step, parents: set[int]) -> bool:
    return step.source == step.lane and step.index not in parents


def text(
    x: float, y: float, content: str, css: str = "", *, color: str | None = None, halo: bool = False
) -> str:
    """Return one ``<text>`` element; ``css`` names classes of :data:`STYLE`."""
    classes = " ".join(part for part in (css, "halo" if halo else "") if part)
    attributes = f' class="{classes}"' if classes else ""
    if color is not None:
        attributes += f' fill="{color}"'
    return f'<text x="{x:.0f}" y="{y:.0f}"{attributes}>{escape(content)}</text>'


def fit(content: str, room: float, char: float = CHAR) -> str:
    """Cut a label to the characters that fit in ``room`` pixels."""
    limit = max(int(room / char), 4)
    return content if len(content) <= limit else content[: limit - 1] + "…"


def wrap(content: str, room: float, *, lines: int = MAX_LINES, char: float = CHAR) -> list[str]:
    """Break a label into at most ``lines`` lines that fit ``room`` pixels.

    The last line is cut with "…" if the label is longer.
    """
    limit = max(int(room / char), 8)
    parts = textwrap.wrap(content, limit, break_long_words=True, break_on_hyphens=False) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = (
            fit(parts[-1] + " …", room, char)
            if len(parts[-1]) < limit - 1
            else parts[-1][: limit - 1] + "…"
        )
    return parts


def lane_title_lines(title: str, room: float) -> list[str]:
    """Split a lane title into at most two lines: at a dot or a capital, else by width."""
    if len(title) * CHAR <= room:
        return [title]
    for separator in (".", " "):
        if separator in title:
            head, _, tail = title.partition(separator)
            return [fit(head + (separator if separator == "." else ""), room), fit(tail, room)]
    capitals = [index for index, char in enumerate(title) if char.isupper() and index > 0]
    if capitals:
        middle = min(capitals, key=lambda index: abs(index - len(title) / 2))
        return [fit(title[:middle], room), fit(title[middle:], room)]
    return wrap(title, room, lines=2)


def describe(trace: Trace) -> tuple[str, str]:
    """Return the diagram's title and description: its text alternative."""
    titles = [lane.title for lane in trace.lanes] or trace.lane_order()
    spans = len(trace.spans())
    title = (
        f"Sequence diagram: {trace.method} {trace.target} -> {trace.reason} "
        f"({trace.stage}, {trace.transport})"
    )
    description = (
        f"Lanes from left to right: {', '.join(titles)}. {len(trace.steps)} steps, {spans} of them "
        f"calls, over {trace.total:.3f} ms; time runs down."
    )
    return title, description


def render_svg(trace: Trace) -> str:
    """Return the sequence diagram of ``trace`` as SVG text, at most :data:`MAX_WIDTH` wide."""
    names = [lane.name for lane in trace.lanes] or trace.lane_order()
    kinds = {lane.name: lane.kind for lane in trace.lanes}
    titles = {lane.name: lane.title for lane in trace.lanes}
    lane_width = min(LANE_WIDTH, (MAX_WIDTH - GUTTER - RIGHT) / max(len(names), 1))
    layout = Layout(names, lane_width, GUTTER + lane_width * len(names) + RIGHT)
    width = max(layout.width, 360.0)
    layout.width = width
    headline = wrap(trace.headline, width - 24, lines=2, char=7.8)
    top = 16 + LINE * len(headline) + 8
    rows = rows_of(trace)
    drawn = [draw_row(row, layout) for row in rows]
    # Each row is as tall as its label: a few lines above its arrow.
    positions: list[float] = []
    cursor = top + HEADER + 10
    for lines, _ in drawn:
        height = max(ROW, LINE * lines + 9)
        positions.append(cursor + height - 7)
        cursor += height
    height = cursor + ROW + 24
    row_of_enter = {row.step.index: position for position, row in enumerate(rows) if not row.leave}
    row_of_leave = {row.step.index: position for position, row in enumerate(rows) if row.leave}
    title, description = describe(trace)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" role="img" '
        f"aria-label={quoteattr(title)}>",
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(description)}</desc>",
        f"<style>{STYLE}</style>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        "<defs>"
        + "".join(
            f'<marker id="arrow-{key}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for key, color in (
                ("call", "#111827"),
                ("protocol", PROTOCOL_COLOR),
                ("wire", COLORS["server"]),
                ("error", ERROR_COLOR),
            )
        )
        + "</defs>",
        f"<g><title>{escape(trace.headline)}</title>",
        *[
            text(12, 16 + LINE * (index + 1) - 2, line, "headline")
            for index, line in enumerate(headline)
        ],
        "</g>",
    ]
    # Lanes: a header box and a dashed lifeline each.
    for name in names:
        x = layout.x(name)
        color = COLORS.get(kinds.get(name, "app"), COLORS["app"])
        lane_title = titles.get(name, name)
        title_lines = lane_title_lines(lane_title, lane_width - 12)
        out.append(f"<g><title>{escape(lane_title)} ({escape(kinds.get(name, ''))})</title>")
        out.append(
            f'<rect x="{x - lane_width / 2 + 3:.1f}" y="{top}" width="{lane_width - 6:.1f}" '
            f'height="{HEADER - 6}" rx="6" fill="{color}" fill-opacity="0.12" stroke="{color}"/>'
        )
        first = top + (15 if len(title_lines) == 2 else 19)
        out += [
            text(x, first + 12 * index, line, "lane", color=color)
            for index, line in enumerate(title_lines)
        ]
        out.append(
            text(x, top + HEADER - 10, fit(kinds.get(name, ""), lane_width - 8, 5.4), "kind")
        )
        out.append("</g>")
        out.append(
            f'<line x1="{x:.1f}" y1="{top + HEADER - 6}" x2="{x:.1f}" y2="{height - 24:.0f}" '
            f'stroke="#cbd5e1" stroke-dasharray="4 4"/>'
        )
    out.append(text(GUTTER - 6, top + HEADER + 6, "ms", "time"))
    # Activation bars under everything else.
    parents = {step.parent for step in trace.steps if step.parent is not None}
    for step in trace.steps:
        if step.kind != SPAN or step.lane not in names:
            continue
        start = positions[row_of_enter[step.index]]
        end = (
            positions[row_of_leave[step.index]]
            if step.index in row_of_leave
            else (start + ROW * 0.5 if single_row(step, parents) else positions[-1] + ROW / 2)
        )
        offset = 4 * same_lane_depth(trace, step)
        kind = kinds.get(step.lane, "app")
        out.append(
            f'<rect x="{layout.x(step.lane) - 4 + offset:.0f}" y="{start:.0f}" width="8" '
            f'height="{max(end - start, 4):.0f}" class="bar-{kind if kind in COLORS else "app"}"/>'
        )
    # Rows.
    for position, (row, (_, draw)) in enumerate(zip(rows, drawn, strict=True)):
        y = positions[position]
        parts = draw(y)
        if parts:  # one line of SVG per row: a notebook stores each line as a string of its own
            out.append(text(GUTTER - 6, y + 4, f"{row.time:.3f}", "time") + "".join(parts))
    out.append(
        text(
            12,
            height - 8,
            fit(
                "Times in ms from the first recorded step; the tracer's own cost "
                "is included. Hover an arrow for its full text.",
                width - 24,
                SMALL_CHAR,
            ),
            "small",
        )
    )
    out.append("</svg>")
    return "\n".join(out)


def same_lane_depth(trace: Trace, step: Step) -> int:
    """Return how many enclosing spans share the step's lane (to nest bars)."""
    count = 0
    parent = step.parent
    while parent is not None:
        above = trace.steps[parent]
        if above.kind == SPAN and above.lane == step.lane:
            count += 1
        parent = above.parent
    return count


def draw_row(row: Row, layout: Layout) -> tuple[int, Callable[[float], list[str]]]:
    """Return how many label lines a row needs, and a function drawing it at a given y."""
    step = row.step
    if step.lane not in layout.names or step.source not in layout.names:
        return 1, lambda y: []
    x1, x2 = layout.x(step.source), layout.x(step.lane)
    if step.kind == NOTE:

        def draw_note(y: float) -> list[str]:
            return note(step, y, x2, layout)

        return 1, draw_note
    if row.leave:
        # A call that came from the client (a connection accepted) returns
        # to no one on the client side: its end is drawn on its own lane.
        x1, x2 = x2, (x2 if step.source == CLIENT else x1)
        label = step.error or step.result
        css = "err" if step.error else "ret"
        full = f"{step.title} returned {label}" if label else f"{step.title} returned"
        took = f"  ({step.duration:.3f} ms)" if step.duration is not None else ""
        label = (label + took) if label else took.strip()
    elif step.kind == SPAN:
        label = f"{step.title}{step.detail}"
        full = label
        css = "call"
    else:
        label = f"{step.title}  {step.detail}".strip()
        full = label
        css = "wire" if step.kind == WIRE else "proto"
    line_css = css + (" self" if css == "proto" and step.source == step.lane else "")
    left = x1 + 34 if x1 == x2 else min(x1, x2) + 8
    # Near the right edge, start the label further left (over the lifelines,
    # which its white halo keeps readable) rather than wrap it into a column.
    left = max(min(left, layout.width - RIGHT - MIN_ROOM), 4.0)
    lines = wrap(label, layout.room(left))
    # The whole text as a tooltip, where the label had to be cut.
    cut = " ".join(lines).replace(" ", "") != label.replace(" ", "") or full != label

    def draw(y: float) -> list[str]:
        parts = [f"<g><title>{escape(full)}</title>"] if cut else []
        if x1 == x2:
            # A call within one lane: a small loop to the right of the lifeline.
            parts.append(
                f'<path d="M{x1 + 4:.0f},{y - 6:.0f} h24 v10 h-20" fill="none" class="{line_css}"/>'
            )
        else:
            start, end = (x1 + 5, x2 - 5) if x2 > x1 else (x1 - 5, x2 + 5)
            parts.append(
                f'<line x1="{start:.0f}" y1="{y:.0f}" x2="{end:.0f}" y2="{y:.0f}" '
                f'class="{line_css}"/>'
            )
        base = y - 4 if x1 != x2 else y - 8
        for index, line in enumerate(lines):
            parts.append(text(left, base - LINE * (len(lines) - 1 - index), line, css))
        if cut:
            parts.append("</g>")
        return parts

    return len(lines), draw


def note(step: Step, y: float, x: float, layout: Layout) -> list[str]:
    """Return a note box beside a lane: something a layer saw."""
    full = f"{step.title}: {step.detail}"
    room = layout.room(x + 10) - 8
    label = fit(full, room, SMALL_CHAR)
    width = len(label) * SMALL_CHAR + 10
    return [
        f"<g><title>{escape(full)}</title>",
        f'<rect x="{x + 6:.1f}" y="{y - 11:.1f}" width="{width:.1f}" height="16" rx="3" '
        f'fill="#fef9c3" stroke="#ca8a04"/>',
        text(x + 11, y + 1, label, "note"),
        "</g>",
    ]


class Diagram:
    """A rendered diagram as a notebook output: ``image/svg+xml`` and an accessible ``text/html``.

    nbconvert's HTML export turns a bare ``image/svg+xml`` output into an
    ``<img>`` without alt text; given a ``text/html`` form it uses that:
    the same SVG inline, named by its ``<title>`` and ``aria-label``.
    """

    def __init__(self, svg: str) -> None:
        self.svg = svg

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg, "text/html": self.svg}

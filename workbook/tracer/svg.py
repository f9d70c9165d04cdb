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

The left column gives each row's time in milliseconds. The SVG uses no
script, no external font and no CSS file, so a notebook and a code host
both show it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from workbook.tracer.model import CLIENT, NOTE, SPAN, WIRE, Step, Trace

LANE_WIDTH = 180
GUTTER = 78
ROW = 24
TOP = 44
HEADER = 40
CHAR = 6.6  # width of one character at font-size 11, monospace
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


@dataclass
class Row:
    """One line of the diagram: a step beginning, or a span returning."""

    time: float
    step: Step
    leave: bool


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
    rows.sort(key=lambda row: (row.time, row.leave, -row.step.depth if row.leave else row.step.depth,
                               row.step.index))
    return rows


def single_row(step: Step, parents: set[int]) -> bool:
    return step.source == step.lane and step.index not in parents


def text(x: float, y: float, content: str, *, size: int = 11, anchor: str = "start",
         color: str = "#111827", weight: str = "normal", halo: bool = True) -> str:
    halo_style = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if halo else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}" font-weight="{weight}"{halo_style}>{escape(content)}</text>')


def fit(content: str, room: float) -> str:
    """Cut a label to the characters that fit in ``room`` pixels."""
    limit = max(int(room / CHAR), 4)
    return content if len(content) <= limit else content[: limit - 1] + "…"


def render_svg(trace: Trace) -> str:
    """Return the sequence diagram of ``trace`` as SVG text."""
    names = [lane.name for lane in trace.lanes] or trace.lane_order()
    kinds = {lane.name: lane.kind for lane in trace.lanes}
    titles = {lane.name: lane.title for lane in trace.lanes}
    x_of = {name: GUTTER + LANE_WIDTH * position + LANE_WIDTH / 2 for position, name in enumerate(names)}
    rows = rows_of(trace)
    width = GUTTER + LANE_WIDTH * len(names) + 140
    body_top = TOP + HEADER + 16
    height = body_top + ROW * (len(rows) + 1) + 30
    row_of_enter = {row.step.index: position for position, row in enumerate(rows) if not row.leave}
    row_of_leave = {row.step.index: position for position, row in enumerate(rows) if row.leave}

    def y(position: int) -> float:
        return body_top + ROW * position + ROW * 0.6

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        '<defs>'
        + "".join(
            f'<marker id="arrow-{key}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for key, color in (("call", "#111827"), ("protocol", PROTOCOL_COLOR),
                               ("wire", COLORS["server"]), ("error", ERROR_COLOR)))
        + "</defs>",
        text(12, 22, trace.headline, size=13, weight="bold", halo=False),
    ]
    # Lanes: a header box and a dashed lifeline each.
    for name in names:
        x = x_of[name]
        color = COLORS.get(kinds.get(name, "app"), COLORS["app"])
        out.append(f'<rect x="{x - LANE_WIDTH / 2 + 6:.1f}" y="{TOP}" width="{LANE_WIDTH - 12}" '
                   f'height="{HEADER - 6}" rx="6" fill="{color}" fill-opacity="0.12" stroke="{color}"/>')
        out.append(text(x, TOP + 15, fit(titles.get(name, name), LANE_WIDTH - 20), size=12,
                        anchor="middle", weight="bold", color=color, halo=False))
        out.append(text(x, TOP + 28, kinds.get(name, ""), size=10, anchor="middle", color="#6b7280", halo=False))
        out.append(f'<line x1="{x:.1f}" y1="{TOP + HEADER - 6}" x2="{x:.1f}" y2="{height - 24}" '
                   f'stroke="#cbd5e1" stroke-dasharray="4 4"/>')
    out.append(text(GUTTER - 8, body_top - 2, "ms", size=10, anchor="end", color="#6b7280", halo=False))
    # Activation bars under everything else.
    parents = {step.parent for step in trace.steps if step.parent is not None}
    for step in trace.steps:
        if step.kind != SPAN or step.lane not in x_of:
            continue
        start = y(row_of_enter[step.index])
        end = y(row_of_leave[step.index]) if step.index in row_of_leave else (
            start + ROW * 0.5 if single_row(step, parents) else y(len(rows)))
        offset = 5 * same_lane_depth(trace, step)
        color = COLORS.get(kinds.get(step.lane, "app"), COLORS["app"])
        out.append(f'<rect x="{x_of[step.lane] - 5 + offset:.1f}" y="{start:.1f}" width="10" '
                   f'height="{max(end - start, 4):.1f}" fill="{color}" fill-opacity="0.25" stroke="{color}"/>')
    # Rows.
    for position, row in enumerate(rows):
        out += draw_row(row, y(position), x_of)
    out.append(text(12, height - 8, "Times in ms from the first recorded step; the tracer's own "
                    "cost is included.", size=10, color="#6b7280", halo=False))
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


def draw_row(row: Row, y: float, x_of: dict[str, float]) -> list[str]:
    """Return the SVG elements of one row: time, arrow, label."""
    step = row.step
    if step.lane not in x_of or step.source not in x_of:
        return []
    parts = [text(GUTTER - 8, y + 4, f"{row.time:.3f}", size=10, anchor="end", color="#6b7280", halo=False)]
    x1, x2 = x_of[step.source], x_of[step.lane]
    if row.leave:
        # A call that came from the client (a connection accepted) returns
        # to no one on the client side: its end is drawn on its own lane.
        x1, x2 = x2, (x2 if step.source == CLIENT else x1)
        label = step.error or step.result
        color, marker = (ERROR_COLOR, "error") if step.error else ("#6b7280", "call")
        dash = ' stroke-dasharray="5 3"'
        full = f"{step.title} returned {label}" if label else f"{step.title} returned"
        took = f"  ({step.duration:.3f} ms)" if step.duration is not None else ""
        label = (label + took) if label else took.strip()
    elif step.kind == SPAN:
        label = f"{step.title}{step.detail}"
        full = label
        color, marker, dash = "#111827", "call", ""
    elif step.kind == NOTE:
        return parts + note(step, y, x_of[step.lane])
    else:
        label = f"{step.title}  {step.detail}".strip()
        full = label
        kind = "wire" if step.kind == WIRE else "protocol"
        color = COLORS["server"] if step.kind == WIRE else PROTOCOL_COLOR
        marker, dash = kind, ' stroke-width="2.5"' if step.kind == WIRE else ""
        if step.source == step.lane:
            dash = ' stroke-dasharray="2 2"'
    parts.append(f"<g><title>{escape(full)}</title>")
    if x1 == x2:
        # A call within one lane: a small loop to the right of the lifeline.
        parts.append(f'<path d="M{x1 + 5:.1f},{y - 6:.1f} h26 v10 h-22" fill="none" stroke="{color}"'
                     f'{dash} marker-end="url(#arrow-{marker})"/>')
        parts.append(text(x1 + 36, y + 2, fit(label, LANE_WIDTH * 1.2), color=color))
    else:
        start, end = (x1 + 6, x2 - 6) if x2 > x1 else (x1 - 6, x2 + 6)
        parts.append(f'<line x1="{start:.1f}" y1="{y:.1f}" x2="{end:.1f}" y2="{y:.1f}" stroke="{color}"'
                     f'{dash} marker-end="url(#arrow-{marker})"/>')
        left = min(x1, x2)
        room = max(abs(x2 - x1) - 14, LANE_WIDTH * 1.6)
        parts.append(text(left + 10, y - 4, fit(label, room), color=color))
    parts.append("</g>")
    return parts


def note(step: Step, y: float, x: float) -> list[str]:
    """Return a note box beside a lane: something a layer saw."""
    label = fit(f"{step.title}: {step.detail}", LANE_WIDTH * 1.6)
    width = len(label) * CHAR + 12
    return [
        f"<g><title>{escape(step.title + ': ' + step.detail)}</title>",
        f'<rect x="{x + 10:.1f}" y="{y - 11:.1f}" width="{width:.1f}" height="16" rx="3" '
        f'fill="#fef9c3" stroke="#ca8a04"/>',
        text(x + 16, y + 1, label, size=10, color="#713f12", halo=False),
        "</g>",
    ]

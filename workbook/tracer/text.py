"""Render a trace as a text timeline, one line per step, for a terminal.

    POST /api/products -> 200 OK   [06_roob, in process, 0.912 ms]

         T+ms     took  step
        0.000           server: environ  24 keys: REQUEST_METHOD='POST' ...
        0.031    0.850  server → ErrorHandlerMiddleware: ErrorHandlerMiddleware.__call__(environ, …)
        0.044    0.790    ErrorHandlerMiddleware → framework: Roob.__call__(environ, start_response)
        ...
                            ↳ matched '/api/products' -> ProductCreatController

``T+ms`` is when the step began, ``took`` how long a call lasted (until
it returned, or until its generator or coroutine finished). Indentation
is nesting: a step sits under the call it happened in. A ``↳`` line says
what a call returned or raised.
"""

from __future__ import annotations

import contextlib
import gzip
import textwrap
from typing import TYPE_CHECKING

from workbook.tracer.http import dechunk
from workbook.tracer.model import NOTE, SPAN, WIRE, Step, Trace, bytes_text

if TYPE_CHECKING:
    from workbook.tracer.beside import SideBySide

ARROW = "→"


def step_line(step: Step) -> str:
    """Return the words of one step, without time or indentation."""
    where = step.lane if step.source == step.lane else f"{step.source} {ARROW} {step.lane}"
    marker = {NOTE: "· ", WIRE: "⇢ "}.get(step.kind, "")
    if step.kind == SPAN:
        return f"{where}: {step.title}{step.detail}"
    return f"{where}: {marker}{step.title}  {step.detail}".rstrip()


def outcome_line(step: Step) -> str:
    """Return what a span returned or raised, or an empty string."""
    if step.error:
        return f"✗ {step.error}"
    if step.result:
        return f"↳ {step.result}"
    if step.kind == SPAN and step.end is None:
        return "… still running when the trace ended"
    return ""


def clip(text: str, width: int) -> str:
    """Cut a line to ``width`` characters, marking the cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render_timeline(trace: Trace, *, width: int = 100, details: bool = True) -> str:
    """Return the whole timeline: headline, one line per step, the response."""
    lines = [trace.headline, ""]
    # A layer the table names but the code no longer has would silently
    # thin the trace: say so first, in full (never cut at the width).
    if trace.missing_layers:
        lines += [f"! {missing.sentence()}" for missing in trace.missing_layers] + [""]
    lines.append(f"{'T+ms':>9} {'took':>8}  step")
    for step in trace.steps:
        indent = "  " * step.depth
        took = "" if step.kind != SPAN or step.duration is None else f"{step.duration:8.3f}"
        lines.append(clip(f"{step.start:9.3f} {took:>8}  {indent}{step_line(step)}", width))
        outcome = outcome_line(step) if details else ""
        if outcome:
            lines.append(clip(f"{'':9} {'':8}  {indent}    {outcome}", width))
    lines += ["", response_summary(trace), *printed_lines(trace)]
    return "\n".join(lines)


def printed_lines(trace: Trace, limit: int | None = None) -> list[str]:
    """Return what the app printed during the request, as an indented block (or nothing).

    With ``limit``, at most that many lines, then how many more there are.
    """
    lines = trace.printed.strip().splitlines()
    if not lines:
        return []
    shown = lines if limit is None else lines[:limit]
    block = ["", "the app printed (stdout and stderr) during the request:"]
    block += ["    " + line for line in shown]
    if len(shown) < len(lines):
        block.append(f"    … {len(lines) - len(shown)} more lines (all in trace.printed)")
    return block


def response_summary(trace: Trace) -> str:
    """Return the response in one line: status, headers, body size and start.

    A body that is not text is named, not dumped: ``167 bytes of gzip
    (412 B once unzipped): [{"id": 1, ...``.
    """
    count = len(trace.response_headers)
    return (
        f"response: {trace.reason}, {count} header{'s' if count != 1 else ''}, "
        f"{body_preview(trace.response_body, header(trace.response_headers, 'content-encoding'))}"
    )


def header(headers: list[tuple[str, str]], name: str) -> str:
    """Return the value of a header (case-insensitive), or an empty string."""
    return next((value for key, value in headers if key.lower() == name), "")


def is_text(data: bytes) -> bool:
    """Return True if ``data`` reads as UTF-8 text (line breaks and tabs allowed)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(char.isprintable() or char in "\r\n\t" for char in text)


def body_preview(body: bytes, encoding: str = "", limit: int = 80) -> str:
    """Describe a body in one line: its size and its start, or what kind of bytes it is.

    >>> body_preview(b"hello")
    '5 B body: hello'
    >>> import gzip; body_preview(gzip.compress(b"hi", mtime=0), "gzip")
    '22 bytes of gzip (2 B once unzipped): hi'
    """
    if "gzip" in encoding.lower():
        try:
            plain = gzip.decompress(body)
        except (OSError, EOFError):  # not whole gzip after all: say so
            return f"{len(body)} bytes of gzip (truncated or invalid)"
        return f"{len(body)} bytes of gzip ({len(plain)} B once unzipped): " + clip_bytes(
            plain, limit
        )
    if body and not is_text(body[: limit * 4]):
        return f"{len(body)} bytes of binary data"
    return f"{len(body)} B body: " + clip_bytes(body, limit)


def clip_bytes(data: bytes, limit: int) -> str:
    """Return the first ``limit`` bytes as readable text, marking a cut."""
    return bytes_text(data[:limit]) + ("…" if len(data) > limit else "")


def render_wire(trace: Trace, *, limit: int = 2048) -> str:
    """Return the bytes that crossed the socket, both ways, as readable text.

    The head is shown line by line with its ``\\r\\n``; a body that is
    not text (gzip, say) is shown as escaped bytes rather than as noise.
    """
    if not trace.request_bytes and not trace.response_bytes:
        return "(in process: no bytes crossed a socket)"
    parts = []
    for title, data in (
        ("client → server", trace.request_bytes),
        ("server → client", trace.response_bytes),
    ):
        head, found, body = data[:limit].partition(b"\r\n\r\n")
        lines = [line + "\\r\\n" for line in head.decode("latin-1").split("\r\n")]
        if found:
            lines.append("\\r\\n")
            fields = [
                (name.strip(), value.strip())
                for name, _, value in (
                    line.partition(":") for line in head.decode("latin-1").split("\r\n")[1:]
                )
            ]
            encoding = header(fields, "content-encoding")
            if "chunked" in header(fields, "transfer-encoding").lower() and not is_text(body):
                with contextlib.suppress(
                    ValueError
                ):  # cut at the limit: keep the chunks as they are
                    body = dechunk(body)
                lines.append("(chunked) " + body_lines(body, encoding=encoding)[0])
            else:
                lines += body_lines(body, encoding=encoding)
        more = f"\n    … {len(data) - limit} more bytes" if len(data) > limit else ""
        shown = "\n".join("    " + line for line in lines if line)
        parts.append(f"{title} ({len(data)} B):\n{shown}{more}")
    return "\n\n".join(parts)


def body_lines(body: bytes, width: int = 128, *, encoding: str = "") -> list[str]:
    """Return a body as lines: text as it reads, anything else named by its kind and size.

    A gzip body is ``(167 bytes of gzip (412 B once unzipped): ...)``, not
    a page of ``\\x8b`` escapes; a chunked one is shown with its chunk lines.
    """
    if "gzip" in encoding.lower() or not is_text(body):
        # Chunked framing around binary data: name the bytes inside the chunks.
        return [f"({body_preview(body, encoding, limit=width)})"]
    text = body.decode("utf-8")
    return [
        line.replace("\r", "\\r").replace("\n", "\\n") for line in text.splitlines(keepends=True)
    ]


def render_summary(trace: Trace) -> str:
    """Return the decisions, the errors and the response of a trace, in time order."""
    steps = trace.steps
    events: list[tuple[float, str]] = []
    decisions = [step for step in steps if step.kind == SPAN and "match" in step.data]
    # A router that tries routes one by one decides "no" many times: the
    # decision is the route that matched, or else the last "no".
    chosen = [step for step in decisions if step.data["match"] != "none"] or decisions[-1:]
    for step in chosen:
        events.append(
            (step.end or step.start, f"decided   {step.lane}: {step.title} -> {step.result}")
        )
    kinds = {lane.name: lane.kind for lane in trace.lanes}
    for step in steps:
        if (
            step.kind == SPAN
            and kinds.get(step.lane) == "handler"
            and step.source != step.lane
            and not step.title.endswith("__init__")
        ):
            events.append((step.start, f"handled   {step.lane}: {step.title}"))
        if step.kind == SPAN and step.error:
            end = step.end if step.end is not None else step.start
            # Raised here: no call inside it let this same error out (a layer
            # that turns one exception into another raises the new one).
            if not any(child.error == step.error for child in trace.children(step)):
                events.append(
                    (
                        end,
                        f"raised    {step.lane}: {step.title}: "
                        f"{step.error.removeprefix('raised ')}",
                    )
                )
            parent = steps[step.parent] if step.parent is not None else None
            if parent is None:
                events.append((end, "caught    nowhere: the exception reached the server"))
            elif not parent.error:
                events.append((end, f"caught    {parent.lane}: {parent.title}"))
        elif step.title in {"start_response", "send http.response.start"}:
            events.append((step.start, f"answered  {step.source}: {step.title}  {step.detail}"))
        elif step.kind == NOTE and step.title == "500":
            events.append((step.start, f"answered  server: {step.detail}"))
    lines = [trace.headline] + [
        "  " + text for _, text in sorted(events, key=lambda event: event[0])
    ]
    if trace.status is None:
        lines.append("  no HTTP response came back")
    return "\n".join(lines + printed_lines(trace, limit=SUMMARY_PRINTED_LINES))


#: A summary shows the first lines the app printed (a traceback's first frames).
SUMMARY_PRINTED_LINES = 4


# ── A stage beside its production counterpart ────────────────────────────────


def milliseconds(value: float | None) -> str:
    """Return ``0.123`` for a time in ms, ``—`` where a side has no such layer."""
    return "—" if value is None else f"{value:.3f}"


def map_rows(result: SideBySide) -> list[tuple[str, str, str, str, str, str]]:
    """Return the map table's rows: our layer, theirs, same, they also, our ms, their ms."""
    return [
        (
            row.our_layer,
            row.their_layer,
            row.same or "—",
            row.they_also or "—",
            milliseconds(result.ours.row_ms(row.ours)),
            milliseconds(result.theirs.row_ms(row.theirs)),
        )
        for row in result.comparison.rows
    ]


def cost_line(result: SideBySide) -> str:
    """Return the tracer's cost on each side: the request in process, untraced and traced."""
    parts = [
        f"{measured.side.name}: {measured.untraced_ms:.3f} ms untraced, "
        f"{measured.traced_ms:.3f} ms traced"
        for measured in (result.ours, result.theirs)
    ]
    request = result.comparison.cost or result.comparison.request
    return (
        f"Tracer cost ({request.method} {request.target} in process, median): "
        + "; ".join(parts)
        + ". Every Python call pays for the trace hook, shown or not, so the layer times are "
        "inflated by about the same factor on both sides: compare them with each other, "
        "not with the untraced time."
    )


def render_beside(result: SideBySide, *, width: int = 120) -> str:
    """Return both timelines and the map table, as a terminal shows them."""
    comparison = result.comparison
    ours, theirs = result.ours, result.theirs
    rule = "─" * min(width, 100)
    lines = [
        f"{ours.side.name} beside {theirs.side.name}: {comparison.request.method} "
        f"{comparison.request.target} ({result.transport}, {len(ours.traces)} traces each)",
        "",
    ]
    for measured in (ours, theirs):
        lines += [rule, f"{measured.side.name}", rule, measured.trace.timeline(width=width), ""]
    lines += [
        rule,
        "The map: our layer beside theirs (self time in ms, the least of the traces)",
        rule,
    ]
    for our_layer, their_layer, same, they_also, our_ms, their_ms in map_rows(result):
        lines.append(clip(f"{our_ms:>8} ms  {'ours:':<11}{our_layer}", width))
        lines.append(clip(f"{their_ms:>8} ms  {'theirs:':<11}{their_layer}", width))
        for name, words in (("same:", same), ("they also:", they_also)):
            lines += textwrap.wrap(
                words,
                max(width, 40),
                initial_indent=f"{'':14}{name:<11}",
                subsequent_indent=" " * 25,
            )
        lines.append("")
    lines.append(cost_line(result))
    return "\n".join(lines)


def render_map_markdown(result: SideBySide) -> str:
    """Return the map table as Markdown, with the tracer's cost below it."""
    ours, theirs = result.ours.side.name, result.theirs.side.name
    lines = [
        f"| {ours} | {theirs} | the same | what {theirs} does that we do not "
        f"| {ours} ms | {theirs} ms |",
        "|---|---|---|---|--:|--:|",
    ]
    for row in map_rows(result):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n\n" + cost_line(result)

"""Render a trace as a text timeline, one line per step, for a terminal.

    POST /api/products -> 200 OK   [06_roob, in process, 0.912 ms]

         T+ms     took  step
        0.000           server: environ  24 keys: REQUEST_METHOD='POST' ...
        0.031    0.850  server → ErrorHandlerMiddleware: ErrorHandlerMiddleware.__call__(environ, start_response)
        0.044    0.790    ErrorHandlerMiddleware → framework: Roob.__call__(environ, start_response)
        ...
                            ↳ matched '/api/products' -> ProductCreatController

``T+ms`` is when the step began, ``took`` how long a call lasted (until
it returned, or until its generator or coroutine finished). Indentation
is nesting: a step sits under the call it happened in. A ``↳`` line says
what a call returned or raised.
"""

from __future__ import annotations

from workbook.tracer.model import NOTE, SPAN, WIRE, Step, Trace, bytes_text

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
    lines = [trace.headline, "", f"{'T+ms':>9} {'took':>8}  step"]
    for step in trace.steps:
        indent = "  " * step.depth
        took = "" if step.kind != SPAN or step.duration is None else f"{step.duration:8.3f}"
        lines.append(clip(f"{step.start:9.3f} {took:>8}  {indent}{step_line(step)}", width))
        outcome = outcome_line(step) if details else ""
        if outcome:
            lines.append(clip(f"{'':9} {'':8}  {indent}    {outcome}", width))
    lines += ["", response_summary(trace)]
    return "\n".join(lines)


def response_summary(trace: Trace) -> str:
    """Return the response in one line: status, headers, body size and start."""
    body = trace.response_body
    preview = bytes_text(body[:80]) + ("…" if len(body) > 80 else "")
    count = len(trace.response_headers)
    return (f"response: {trace.reason}, {count} header{'s' if count != 1 else ''}, "
            f"{len(body)} B body: {preview}")


def render_wire(trace: Trace, *, limit: int = 2048) -> str:
    """Return the bytes that crossed the socket, both ways, as readable text.

    The head is shown line by line with its ``\\r\\n``; a body that is
    not text (gzip, say) is shown as escaped bytes rather than as noise.
    """
    if not trace.request_bytes and not trace.response_bytes:
        return "(in process: no bytes crossed a socket)"
    parts = []
    for title, data in (("client → server", trace.request_bytes), ("server → client", trace.response_bytes)):
        head, found, body = data[:limit].partition(b"\r\n\r\n")
        lines = [line + "\\r\\n" for line in head.decode("latin-1").split("\r\n")]
        if found:
            lines.append("\\r\\n")
            lines += body_lines(body)
        more = f"\n    … {len(data) - limit} more bytes" if len(data) > limit else ""
        shown = "\n".join("    " + line for line in lines if line)
        parts.append(f"{title} ({len(data)} B):\n{shown}{more}")
    return "\n\n".join(parts)


def body_lines(body: bytes, width: int = 128) -> list[str]:
    """Return a body as lines: text as it reads, anything else as escaped bytes."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(char.isprintable() or char in "\r\n\t" for char in text):
        return [line.replace("\r", "\\r").replace("\n", "\\n")
                for line in text.splitlines(keepends=True)]
    # Cut the bytes, not their escaped text, so no "\\x8b" is split in two.
    step = max(width // 4, 8)
    return [f"(binary, {len(body)} B, shown escaped)"] + [
        bytes_text(body[index:index + step]) for index in range(0, len(body), step)]


def render_summary(trace: Trace) -> str:
    """Return the decisions, the errors and the response of a trace, in time order."""
    steps = trace.steps
    events: list[tuple[float, str]] = []
    decisions = [step for step in steps if step.kind == SPAN and "match" in step.data]
    # A router that tries routes one by one decides "no" many times: the
    # decision is the route that matched, or else the last "no".
    chosen = [step for step in decisions if step.data["match"] != "none"] or decisions[-1:]
    for step in chosen:
        events.append((step.end or step.start, f"decided   {step.lane}: {step.title} -> {step.result}"))
    kinds = {lane.name: lane.kind for lane in trace.lanes}
    for step in steps:
        if (step.kind == SPAN and kinds.get(step.lane) == "handler" and step.source != step.lane
                and not step.title.endswith("__init__")):
            events.append((step.start, f"handled   {step.lane}: {step.title}"))
        if step.kind == SPAN and step.error:
            end = step.end if step.end is not None else step.start
            # Raised here: no call inside it let this same error out (a layer
            # that turns one exception into another raises the new one).
            if not any(child.error == step.error for child in trace.children(step)):
                events.append((end, f"raised    {step.lane}: {step.title}: {step.error.removeprefix('raised ')}"))
            parent = steps[step.parent] if step.parent is not None else None
            if parent is None:
                events.append((end, "caught    nowhere: the exception reached the server"))
            elif not parent.error:
                events.append((end, f"caught    {parent.lane}: {parent.title}"))
        elif step.title in {"start_response", "send http.response.start"}:
            events.append((step.start, f"answered  {step.source}: {step.title}  {step.detail}"))
        elif step.kind == NOTE and step.title == "500":
            events.append((step.start, f"answered  server: {step.detail}"))
    lines = [trace.headline] + ["  " + text for _, text in sorted(events, key=lambda event: event[0])]
    if trace.status is None:
        lines.append("  no HTTP response came back")
    return "\n".join(lines)

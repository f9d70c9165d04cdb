"""``python -m workbook trace``: trace one request through a stage's layers.

    python -m workbook trace 6                          # the stage's sample request
    python -m workbook trace 2 GET /books/7             # any request
    python -m workbook trace 5 POST /tasks --body '{"title": "x"}'
    python -m workbook trace 1 --wire                   # over a real socket, bytes shown
    python -m workbook trace 6 --json > trace.json      # the trace as JSON
    python -m workbook trace 4 --svg trace.svg          # and its sequence diagram

``make trace-N`` runs the first form. A request is sent in process unless
``--wire`` is given; then the stage's own server (or uvicorn) runs in a
thread on a free loopback port and the request travels as bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
from pathlib import Path

from workbook.tracer.http import Request
from workbook.tracer.profiles import profile, stage_tracer
from workbook.tracer.text import render_wire


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser."""
    command = argparse.ArgumentParser(
        prog="python -m workbook trace",
        description="Trace one request through every layer of a stage's example app.",
    )
    command.add_argument("stage", help="the stage: 1-6 or its folder name (06_roob)")
    command.add_argument("method", nargs="?", help="the request method (default: the stage's sample request)")
    command.add_argument("target", nargs="?", help="the path and query, e.g. /books/7?x=1")
    command.add_argument("--body", help="the request body (JSON gets Content-Type: application/json)")
    command.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                         help="a request header; repeat for more")
    command.add_argument("--wire", action="store_true",
                         help="send the request over a real socket to the stage's server")
    command.add_argument("--json", action="store_true", help="print the trace as JSON")
    command.add_argument("--svg", type=Path, metavar="FILE", help="also write the sequence diagram")
    command.add_argument("--width", type=int, default=0, help="cut lines at this width (default: the terminal's)")
    return command


def build_request(options: argparse.Namespace) -> Request | None:
    """Return the request the options describe, or None for the stage's sample one."""
    if options.method is None:
        if options.body is not None or options.header:
            raise ValueError("--body and --header need METHOD and PATH")
        return None
    if options.target is None:
        raise ValueError("give both METHOD and PATH, e.g. GET /books")
    headers = []
    for line in options.header:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"--header {line!r}: write it as 'Name: value'")
        headers.append((name.strip(), value.strip()))
    if options.body is not None and not any(name.lower() == "content-type" for name, _ in headers):
        with contextlib.suppress(ValueError):
            json.loads(options.body)
            headers.append(("Content-Type", "application/json"))
    return Request.make(options.method, options.target, headers=headers, body=options.body)


def main(command: str, args: list[str]) -> int:
    """Run ``python -m workbook trace ARGS``; return the exit status."""
    options = parser().parse_args(args)
    try:
        chosen = profile(options.stage)
        request = build_request(options) or chosen.request
    except (ValueError, LookupError) as error:
        print(f"trace: {error}", file=sys.stderr)
        return 2
    # An app may print (bare's startup hook does): keep stdout for the trace.
    with contextlib.redirect_stdout(sys.stderr if options.json else sys.stdout):
        try:
            tracer = stage_tracer(chosen.stage)
        except LookupError as error:
            print(f"trace: {error}", file=sys.stderr)
            return 2
        # One untraced request first: a process's first request pays for
        # imports, caches and (stage 06) creating its database.
        warmup = chosen.warmup
        with tracer:  # closing it runs an ASGI app's lifespan shutdown
            tracer.send(warmup.method, warmup.target, headers=warmup.headers, body=warmup.body)
            if options.wire:
                with tracer.serve() as server:
                    trace = server.trace_request(request)
            else:
                trace = tracer.trace_request(request)
    if options.svg is not None:
        options.svg.write_text(trace.svg(), encoding="utf-8")
    if options.json:
        print(trace.to_json())
        return 0
    width = options.width or max(shutil.get_terminal_size((120, 40)).columns, 80)
    print(f"Stage {chosen.stage}: {chosen.question}\n")
    print(trace.timeline(width=width))
    if options.wire:
        print("\n" + render_wire(trace))
    if options.svg is not None:
        print(f"\nsequence diagram written to {options.svg}")
    return 0

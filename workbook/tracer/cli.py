"""``python -m workbook trace``: trace one request through a stage's layers.

    python -m workbook trace 6                          # the stage's sample request
    python -m workbook trace 2 GET /books/7             # any request
    python -m workbook trace 5 POST /tasks --body '{"title": "x"}'
    python -m workbook trace 1 --wire                   # over a real socket, bytes shown
    python -m workbook trace 6 --json > trace.json      # the trace as JSON
    python -m workbook trace 4 --svg trace.svg          # and its sequence diagram
    python -m workbook trace 1 --beside                 # beside gunicorn: both traces, the map
    python -m workbook trace 1 --beside wsgiref         # beside another counterpart
    python -m workbook trace 2 --stage-dir workspace/02_router   # a learner's copy

``make trace-N`` runs the first form (``make trace-N BESIDE=1`` the
``--beside`` one). Stages 01 and 04 teach the server, so their request
travels over a socket by default: the stage's own server runs in a thread
on a free loopback port and the request travels as bytes, through the
parser and the environ (or scope) building. The other stages' requests are
sent in process unless ``--wire`` is given; ``--in-process`` skips the
socket for 01 and 04 too. What the app prints (an access-log line, a
startup message) is shown after the trace, never inside it.

``--stage-dir`` traces another copy of the stage (a learner's
``workspace/02_router``), as the grader's ``--stage-dir`` tests one. If the
copy renamed a function the stage's layer table names, the trace opens
with a ``! layer not found: ...`` line for each, and ``--json`` lists them
under ``missing_layers``: a thinner trace never passes for a whole one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

from workbook.stages import STAGE_DIR_VARIABLE
from workbook.tracer.core import silenced
from workbook.tracer.http import Request
from workbook.tracer.profiles import StageProfile, profile, stage_tracer
from workbook.tracer.text import map_rows, render_wire


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser."""
    command = argparse.ArgumentParser(
        prog="python -m workbook trace",
        description="Trace one request through every layer of a stage's example app.",
    )
    command.add_argument("stage", help="the stage: 1-6 or its folder name (06_roob)")
    command.add_argument(
        "method", nargs="?", help="the request method (default: the stage's sample request)"
    )
    command.add_argument("target", nargs="?", help="the path and query, e.g. /books/7?x=1")
    command.add_argument(
        "--body", help="the request body (JSON gets Content-Type: application/json)"
    )
    command.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header; repeat for more",
    )
    transport = command.add_mutually_exclusive_group()
    transport.add_argument(
        "--wire",
        action="store_true",
        default=None,
        help="send the request over a real socket to the stage's server "
        "(the default for stages 1 and 4)",
    )
    transport.add_argument(
        "--in-process", dest="wire", action="store_false", help="call the app in process, no socket"
    )
    command.add_argument(
        "--beside",
        nargs="?",
        const="",
        metavar="SYSTEM",
        help="also trace the production system the stage mirrors (gunicorn, "
        "Werkzeug, Paste, uvicorn, Starlette, Flask) and print the layer map",
    )
    command.add_argument(
        "--stage-dir",
        type=Path,
        metavar="PATH",
        help="trace this copy of the stage (its folder name, e.g. 02_router, says which)",
    )
    command.add_argument("--json", action="store_true", help="print the trace as JSON")
    command.add_argument("--svg", type=Path, metavar="FILE", help="also write the sequence diagram")
    command.add_argument(
        "--width", type=int, default=0, help="cut lines at this width (default: the terminal's)"
    )
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


def choose_copy(folder: Path, stage: str) -> None:
    """Make ``folder`` the copy of ``stage`` under trace (``WORKBOOK_STAGE_DIR``).

    Raises ValueError if it is not a folder named for the stage.
    """
    if not folder.is_dir():
        raise ValueError(f"--stage-dir {folder}: no such folder")
    if folder.resolve().name != stage:
        raise ValueError(
            f"--stage-dir {folder}: the folder must be named {stage} (the stage it stands in for)"
        )
    os.environ[STAGE_DIR_VARIABLE] = str(folder.resolve())


def main(command: str, args: list[str]) -> int:
    """Run ``python -m workbook trace ARGS``; return the exit status."""
    options = parser().parse_args(args)
    try:
        chosen = profile(options.stage)
        request = build_request(options) or chosen.request
        if options.stage_dir is not None:
            choose_copy(options.stage_dir, chosen.stage)
    except (ValueError, LookupError) as error:
        print(f"trace: {error}", file=sys.stderr)
        return 2
    if options.beside is not None:
        return main_beside(options, chosen)
    wire = chosen.wire if options.wire is None else options.wire
    # The app's own output (bare's startup line, stage 03's access log) is
    # kept apart: the warm-up's is dropped; the traced request's is in
    # trace.printed, which the timeline shows under the response.
    with silenced():
        try:
            tracer = stage_tracer(chosen.stage)
        except LookupError as error:
            print(f"trace: {error}", file=sys.__stderr__)
            return 2
        # One untraced request first: a process's first request pays for
        # imports, caches and (stage 06) creating its database.
        warmup = chosen.warmup
        with tracer:  # closing it runs an ASGI app's lifespan shutdown
            tracer.send(warmup.method, warmup.target, headers=warmup.headers, body=warmup.body)
            if wire:
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
    if wire:
        print("\n" + render_wire(trace))
    if options.svg is not None:
        print(f"\nsequence diagram written to {options.svg}")
    return 0


def main_beside(options: argparse.Namespace, chosen: StageProfile) -> int:
    """Run ``trace N --beside [SYSTEM]``: the stage and its counterpart, and the map."""
    from workbook.tracer.beside import beside

    if options.method is not None:
        print(
            "trace: --beside sends the stage's own comparison request; leave out METHOD and PATH",
            file=sys.stderr,
        )
        return 2
    try:
        result = beside(chosen.stage, options.beside or None, wire=options.wire)
    except LookupError as error:
        print(f"trace: {error}", file=sys.stderr)
        return 2
    if options.json:
        print(
            json.dumps(
                {
                    "ours": result.ours.trace.to_dict(),
                    "theirs": result.theirs.trace.to_dict(),
                    "map": [
                        dict(
                            zip(
                                ("ours", "theirs", "same", "they_also", "ours_ms", "theirs_ms"),
                                row,
                                strict=True,
                            )
                        )
                        for row in map_rows(result)
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    width = options.width or max(shutil.get_terminal_size((120, 40)).columns, 80)
    print(f"Stage {chosen.stage}: {chosen.question}\n")
    print(result.text(width=width))
    if options.svg is not None:
        ours, theirs = (
            options.svg,
            options.svg.with_name(f"{options.svg.stem}-beside{options.svg.suffix}"),
        )
        ours.write_text(result.ours.trace.svg(), encoding="utf-8")
        theirs.write_text(result.theirs.trace.svg(), encoding="utf-8")
        print(f"\nsequence diagrams written to {ours} and {theirs}")
    return 0

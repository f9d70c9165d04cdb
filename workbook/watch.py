"""``make watch-N``: re-grade your copy of stage N every time you save a file.

The loop of exercise courses (rustlings, exercism's CLI): write, save, see
at once where you stand. On start and after every save of a ``.py`` file
under ``workspace/NN_name/`` (watched with watchfiles), this grades the
copy the same way ``make grade-N`` does, through the grader's command line
(``python -m workbook grade N FOLDER --json FILE``), keeps the report as
the stage's latest grade (``workspace/.grades/NN_name.json``, which
``make progress`` reads), and prints a short view of it:

- one line per exercise: passing, failing or not started;
- for the first exercise that does not pass yet: its failing tests (the
  rule, expected vs got, the request as curl) and its hint;
- when nothing could run at all (a syntax error while you type): the error.

Ctrl-C quits.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from workbook.progress import (
    ASCII_MARKS,
    MARKS,
    State,
    can_draw,
    exercise_state,
    load_grade,
    newest_source,
    save_grade,
)
from workbook.stages import REPO, WORKSPACE, stage_name, stage_number

#: Milliseconds of quiet after a change before grading: an editor's
#: save-as-rename or a "save all" is one change, not five.
DEBOUNCE_MS = 400
SHOWN_FAILURES = 2
CLEAR_SCREEN = "\033[2J\033[H"
#: How often (ms) the watcher reports a round without changes.
WATCHER_ROUND_MS = 500
#: Seconds the grader gets to stop its test run after Ctrl-C.
STOP_GRACE = 15.0


def grade_command(number: int, folder: Path, report: Path, only: str | None) -> list[str]:
    """Return the grader's command line that grades ``folder`` and writes ``report``."""
    command = [
        sys.executable,
        "-m",
        "workbook",
        "grade",
        str(number),
        str(folder),
        "--json",
        str(report),
    ]
    return command + (["--only", only] if only else [])


def grade(
    number: int, folder: Path, workspace: Path, only: str | None
) -> tuple[dict[str, Any] | None, str]:
    """Grade the copy once through the grader's CLI.

    Return (JSON report or None, its console output).

    The report is also kept as the stage's latest grade, for ``make progress``.
    """
    name = stage_name(number)
    with tempfile.TemporaryDirectory(prefix="wire-up-watch-") as scratch:
        report_path = Path(scratch) / f"{name}.json"
        process = subprocess.Popen(
            grade_command(number, folder, report_path, only),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output, _ = process.communicate()
        except KeyboardInterrupt:
            # The grader got the same Ctrl-C: let it stop its test run (and the
            # servers the tests started) before this process goes.
            try:
                process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise
        if not report_path.exists():
            return None, output
        save_grade(name, json.loads(report_path.read_text(encoding="utf-8")), workspace)
    return load_grade(name, workspace), output


# ── What the learner sees ────────────────────────────────────────────────────


def hints(number: int) -> dict[str, str]:
    """Return each exercise's hint, from the reference code's exercise regions."""
    from workbook.grader.runner import Suite

    try:
        return {region.id: region.hint for region in Suite.of(number).regions()}
    except Exception:  # a hint is a help, never a reason for the watch to stop
        return {}


def describe_failure(failure: dict[str, Any]) -> list[str]:
    """Return a failing test as a few indented lines: rule, expected vs got, request."""
    lines = [f"    ✗ {failure.get('test', '?')}"]
    if failure.get("rule"):
        lines.append(f"      rule:     {failure['rule']}")
    if failure.get("expected") is not None or failure.get("got") is not None:
        lines.append(f"      expected: {failure.get('expected')}")
        lines.append(f"      got:      {failure.get('got')}")
    elif failure.get("message"):
        message = str(failure["message"]).strip().splitlines()
        lines.append(f"      {message[0] if message else ''}"[:300])
    if failure.get("request"):
        lines.append(f"      request:  {failure['request']}")
    return lines


def render(
    number: int,
    report: dict[str, Any] | None,
    output: str,
    *,
    run: int,
    hint_of: dict[str, str],
    fancy: bool = True,
) -> str:
    """Return the short view of one grade (see the module docstring)."""
    marks = MARKS if fancy else ASCII_MARKS
    stamp = time.strftime("%H:%M:%S")
    name = stage_name(number)
    if report is None:
        tail = "\n".join(output.strip().splitlines()[-15:])
        return f"[{stamp}] grade #{run} of {name}: the grader wrote no report.\n{tail}"
    exercises = [record for record in report.get("exercises", []) if record["id"] != "stage"]
    states = [(record, exercise_state(record)) for record in exercises]
    passing = sum(state is State.PASSING for _, state in states)
    lines = [f"[{stamp}] grade #{run} of {name}: {passing}/{len(exercises)} exercises passing"]
    if report.get("status") == "error":
        lines.append(f"  Nothing could run: {report.get('note') or 'see the errors below'}")
        for error in report.get("load_errors", [])[:3]:
            lines.append(f"    {error.get('file')}: {str(error.get('message', '')).strip()[-600:]}")
        return "\n".join(lines)
    for record, state in states:
        lines.append(
            f"  {marks[state]} {record['id']:<5} {record.get('title', ''):<40} {state.value}"
        )
    unfinished = next(
        ((record, state) for record, state in states if state is not State.PASSING), None
    )
    if unfinished is None:
        stage_bucket = next(
            (record for record in report.get("exercises", []) if record["id"] == "stage"), None
        )
        if stage_bucket and stage_bucket.get("failures"):
            lines += [
                "",
                f"Every exercise passes; {len(stage_bucket['failures'])} whole-stage test(s) fail:",
            ]
            for failure in stage_bucket["failures"][:SHOWN_FAILURES]:
                lines += describe_failure(failure)
        else:
            lines += ["", "Every test passes. `make progress` shows the course map."]
        return "\n".join(lines)
    record, state = unfinished
    failures = record.get("failures", [])
    lines += [
        "",
        f"Next: exercise {record['id']}, {record.get('title', '')} ({state.value}; "
        f"{len(record.get('passed', []))}/{record.get('tests', 0)} tests pass)",
    ]
    if record.get("file"):
        lines.append(f"  in {record['file']}")
    if state is State.FAILING:
        for failure in failures[:SHOWN_FAILURES]:
            lines += describe_failure(failure)
        if len(failures) > SHOWN_FAILURES:
            lines.append(
                f"    ... and {len(failures) - SHOWN_FAILURES} more "
                f"(make grade-{number} shows them all)"
            )
    hint = record.get("hint") or hint_of.get(record["id"])
    if hint:
        lines.append(f"  Hint: {hint}")
    return "\n".join(lines)


def show(text: str, stream: TextIO) -> None:
    if stream.isatty():
        stream.write(CLEAR_SCREEN)
    stream.write(text + "\n")
    stream.flush()


# ── The loop ─────────────────────────────────────────────────────────────────


def watch(
    number: int,
    folder: Path,
    workspace: Path,
    only: str | None,
    *,
    once: bool = False,
    stream: TextIO = sys.stdout,
) -> int:
    """Grade now, then again after every save of a .py file in ``folder``, until Ctrl-C.

    "Watching ..." is printed only once the file watcher runs (its first
    empty round), and a save made before that, while the first grade ran,
    is caught by comparing file times: no save is ever missed.
    """
    from watchfiles import PythonFilter
    from watchfiles import watch as changes_in

    fancy = can_draw(stream)
    hint_of = hints(number)
    run = 0

    def regrade() -> None:
        nonlocal run
        run += 1
        report, output = grade(number, folder, workspace, only)
        show(render(number, report, output, run=run, hint_of=hint_of, fancy=fancy), stream)

    def announce() -> None:
        stream.write(f"\nWatching {folder} for saves (Ctrl-C quits) ...\n")
        stream.flush()

    try:
        before_first = newest_source(folder)
        regrade()
        if once:
            return 0
        watching = False
        for changes in changes_in(
            folder,
            watch_filter=PythonFilter(),
            debounce=DEBOUNCE_MS,
            rust_timeout=WATCHER_ROUND_MS,
            yield_on_timeout=True,
            raise_interrupt=True,
        ):
            if not changes and watching:
                continue
            if not changes:  # the watcher's first round: it runs now
                watching = True
                if newest_source(folder) <= before_first:
                    announce()
                    continue
            regrade()
            announce()
    except KeyboardInterrupt:
        stream.write("\nStopped watching.\n")
        stream.flush()
    return 0


def main(command: str, args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook watch",
        description="Re-grade your copy of a stage on every save; Ctrl-C quits.",
    )
    parser.add_argument("stage", help="stage number (1-6) or folder name")
    parser.add_argument(
        "--workspace",
        type=Path,
        default=WORKSPACE,
        help="the folder holding your stage copies (default: workspace/)",
    )
    parser.add_argument("--only", metavar="IDS", help="grade only these exercises, e.g. 2.1,2.2")
    parser.add_argument("--once", action="store_true", help="grade once and stop (no watching)")
    options = parser.parse_args(args)
    # Ctrl-C always quits, even when this process was started with SIGINT
    # ignored (a background job of a non-interactive shell is).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        number = stage_number(options.stage)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    folder = options.workspace / stage_name(number)
    if not folder.is_dir():
        parser.exit(
            2,
            f"error: there is no {folder} to watch: make exercise-{number} "
            f"writes your starter there first\n",
        )
    return watch(number, folder.resolve(), options.workspace, options.only, once=options.once)

"""``python -m workbook exercise N`` and ``python -m workbook grade ...``.

For the learner::

    python -m workbook exercise 2 [--force]    # make exercise-2 [FORCE=1]
    python -m workbook grade 2                 # make grade-2
    python -m workbook grade --all             # make grade

For the instructor::

    python -m workbook grade 2 PATH --json report.json
    python -m workbook grade 2 --batch SUBMISSIONS/ --csv grades.csv [--json all.json]

Exit status: 0 when every test passes (batch: when every submission was
graded), 1 when some fail, 2 when there was nothing to grade or the command
was wrong. The grader never shows its own traceback; set WORKBOOK_DEBUG=1
to see one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbook.grader import runner
from workbook.grader import sandbox as sandboxing
from workbook.grader.cutter import cut_problems, write_copy
from workbook.grader.regions import Region, RegionError, scan
from workbook.grader.report import (
    Report,
    Style,
    build_report,
    markdown_summary,
    render,
    to_csv,
    to_json,
)
from workbook.grader.runner import (
    DEFAULT_CPU_TIMEOUT,
    DEFAULT_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
    Suite,
    grade_run,
)
from workbook.grader.sandbox import Limits
from workbook.progress import save_grade
from workbook.stages import STAGES, WORKSPACE

if TYPE_CHECKING:  # the progress bar is for batches: a learner's grade does not import tqdm
    from tqdm import tqdm


class Problem(Exception):
    """Something the user can fix; printed as one plain message."""


def interrupted(signum: int, frame: object) -> None:
    """Treat SIGTERM like Ctrl-C, so running children are stopped and sandboxes removed."""
    raise KeyboardInterrupt


def main(command: str, args: list[str]) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupted)
    try:
        if command == "exercise":
            return exercise_command(args)
        if command == "grade":
            return grade_command(args)
        raise Problem(f"unknown grader command {command!r}")
    except Problem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except RegionError as error:
        print(f"error: {error}\n(this is a fault in the course, not in your work)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the grader must not greet a learner with a traceback
        if os.environ.get("WORKBOOK_DEBUG"):
            traceback.print_exc()
        print(
            f"internal grader error: {type(error).__name__}: {error}\n"
            f"(set WORKBOOK_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return 3


def shown(path: Path) -> str:
    """Return a path relative to the current folder when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def suite_of(stage: str) -> Suite:
    try:
        return Suite.of(stage)
    except ValueError as error:
        raise Problem(str(error)) from None


# ── exercise ─────────────────────────────────────────────────────────────────


def exercise_command(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook exercise",
        description="Write a stage's starter (its exercises cut out) into workspace/.",
    )
    parser.add_argument("stage", help="stage number (1-6) or folder name")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing workspace copy (the old one is kept in workspace/.backup/)",
    )
    options = parser.parse_args(args)
    suite = suite_of(options.stage)
    target = make_starter(suite, WORKSPACE, force=options.force)
    print(next_steps(suite, target))
    return 0


def make_starter(suite: Suite, workspace: Path, *, force: bool = False) -> Path:
    """Write the starter of a stage into ``workspace/NN_name`` and return its path.

    An existing copy is the learner's work: it is replaced only with
    ``force``, and then moved to ``workspace/.backup/`` rather than deleted.
    """
    regions = suite.regions()
    if not regions:
        raise Problem(f"stage {suite.name} has no exercises marked yet")
    problems = cut_problems(suite.reference, regions)
    if problems:
        raise RegionError("\n  ".join(["the exercises cannot be cut cleanly:", *problems]))
    target = workspace / suite.name
    number = suite.number
    if target.exists() and not force:
        raise Problem(
            f"{shown(target)} already exists, and it may hold your work; it was left as it is.\n"
            f"  Grade it:        make grade-{number}\n"
            f"  Start it over:   make exercise-{number} FORCE=1   "
            f"(the old copy moves to {shown(workspace / '.backup')}/)"
        )
    workspace.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{suite.name}-", dir=workspace) as scratch:
        fresh = Path(scratch) / suite.name
        write_copy(suite.reference, fresh, regions)
        if target.exists():
            backup = workspace / ".backup" / f"{suite.name}-{time.strftime('%Y%m%d-%H%M%S')}"
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(target), str(backup))
            print(f"Moved your previous copy to {shown(backup)}")
        fresh.rename(target)
    return target


def next_steps(suite: Suite, target: Path) -> str:
    """Return what the learner does next: where each exercise is, how to grade."""
    regions, _ = scan(target)
    number = suite.number
    width = max(len(region.title) for region in regions)
    lines = [
        f"Wrote your starter for stage {suite.name} to {shown(target)}/ "
        f"({len(regions)} exercises cut out).",
        "",
        "Write the exercises in order; each one is marked in the code:",
    ]
    for region in regions:
        lines.append(
            f"  {region.id:<5} {region.title:<{width}}  "
            f"{shown(target / region.path)}:{region.start}"
        )
    lines += [
        "",
        f"The task text and a hint sit in each region; {shown(suite.reference / 'README.md')} "
        f'explains them (section "Exercises").',
        f"Grade your copy:   make grade-{number}",
        f"One exercise:      .venv/bin/python -m workbook grade {number} --only {regions[0].id}",
    ]
    return "\n".join(lines)


# ── grade ────────────────────────────────────────────────────────────────────


def grade_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbook grade",
        description="Grade a copy of a stage with the stage's own test suite.",
        epilog="Without PATH, grades your copy in workspace/. Exit 0 only when every test passes.",
    )
    parser.add_argument("stage", nargs="?", help="stage number (1-6) or folder name")
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="grade this folder (a copy of the stage, any name) instead of workspace/",
    )
    parser.add_argument(
        "--all", action="store_true", help="grade every stage started in workspace/"
    )
    parser.add_argument(
        "--batch",
        type=Path,
        metavar="DIR",
        help="grade every submission folder in DIR (needs --csv and/or --json)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the report(s) as JSON")
    parser.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="with --batch: one row per submission, one column per exercise",
    )
    parser.add_argument("--only", metavar="IDS", help="grade only these exercises, e.g. 2.1,2.2")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help="stop any single test after S seconds: a test blocked for ever "
        f"(default {DEFAULT_TIMEOUT:g}; 0 disables both per-test clocks)",
    )
    parser.add_argument(
        "--cpu-timeout",
        type=float,
        default=DEFAULT_CPU_TIMEOUT,
        metavar="S",
        help="also stop a test once it used S seconds of CPU time: an endless loop "
        f"(default {DEFAULT_CPU_TIMEOUT:g}; 0 disables)",
    )
    parser.add_argument(
        "--total-timeout",
        type=float,
        default=DEFAULT_TOTAL_TIMEOUT,
        metavar="S",
        help=f"stop the whole run after S seconds (default {DEFAULT_TOTAL_TIMEOUT:g})",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=None,
        metavar="N",
        help="split one submission's run into N child processes run at once "
        f"(default: {runner.MAX_SHARDS} or the cores there are if fewer; 1 with --batch)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="explain every failing test")
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="with --batch: grade N submissions at a time (default: one per core)",
    )
    sandbox = parser.add_mutually_exclusive_group()
    sandbox.add_argument(
        "--sandbox",
        dest="sandbox",
        action="store_true",
        default=None,
        help="run the submission under bubblewrap (the default with --batch)",
    )
    sandbox.add_argument(
        "--no-sandbox",
        dest="sandbox",
        action="store_false",
        help="run without the sandbox (trusted code only)",
    )
    parser.add_argument(
        "--summary",
        type=Path,
        metavar="FILE",
        default=None,
        help="append a Markdown table of the grades to FILE "
        "(default: $GITHUB_STEP_SUMMARY when it is set)",
    )
    return parser


def grade_command(args: list[str]) -> int:
    parser = grade_parser()
    options = parser.parse_args(args)
    if options.all:
        if options.stage or options.batch or options.path:
            parser.error("--all grades your workspace; give no stage, PATH or --batch with it")
        return grade_all(options)
    if not options.stage:
        parser.error("give a stage number (e.g. grade 2), or --all")
    suite = suite_of(options.stage)
    only_ids(options, suite)  # a wrong id is reported before any grading starts
    if options.batch:
        if options.path:
            parser.error("give either PATH or --batch DIR, not both")
        if not (options.csv or options.json):
            parser.error("--batch needs --csv FILE and/or --json FILE")
        return grade_batch(suite, options)
    if options.csv:
        parser.error("--csv goes with --batch DIR")
    if options.path:
        return grade_submission(suite, options)
    return grade_workspace(suite, options)


def only_ids(options: argparse.Namespace, suite: Suite) -> set[str] | None:
    if not options.only:
        return None
    wanted = {part.strip() for part in options.only.split(",") if part.strip()}
    known = {region.id for region in suite.regions()}
    unknown = sorted(wanted - known)
    if unknown:
        raise Problem(
            f"stage {suite.name} has no exercise {', '.join(unknown)}; "
            f"its exercises are {', '.join(sorted(known)) or 'none yet'}"
        )
    return wanted


def sandbox_limits(options: argparse.Namespace, *, default: bool) -> Limits | None:
    """Return the sandbox's limits when the run is sandboxed, checking bwrap works first."""
    wanted = default if options.sandbox is None else options.sandbox
    if not wanted:
        return None
    try:
        sandboxing.check()
    except sandboxing.SandboxUnavailable as error:
        raise Problem(str(error)) from None
    return Limits(cpu_seconds=int(options.total_timeout) + 60 if options.total_timeout else 3600)


def grade(
    suite: Suite,
    folder: Path,
    submission: str,
    options: argparse.Namespace,
    *,
    progress: bool = False,
    sandbox: Limits | None = None,
    batch: bool = False,
) -> Report:
    """Grade one folder and return the report (``batch``: one of many graded at once)."""
    if not folder.is_dir():
        raise Problem(f"{shown(folder)} is not a folder")
    regions = suite.regions()
    only = only_ids(options, suite)
    if only is not None:
        regions = [region for region in regions if region.id in only]
    show = Progress() if progress and sys.stdout.isatty() else None
    try:
        run = grade_run(
            suite,
            folder,
            timeout=options.timeout,
            cpu_timeout=options.cpu_timeout,
            total_timeout=options.total_timeout,
            only=only,
            progress=show,
            sandbox=sandbox,
            shards=runner.shard_count(options.shards, batch=batch),
        )
    finally:
        if show:
            show.clear()
    return build_report(suite.name, submission, regions, run, learner_locations(folder, regions))


def learner_locations(folder: Path, regions: list[Region]) -> dict[str, str]:
    """Return where each exercise sits in the graded copy, for display.

    The line comes from the copy's own markers; if the learner removed them,
    the file alone is named.
    """
    found = {region.id: region for region in scan(folder)[0]}
    return {
        region.id: (
            f"{shown(folder / found[region.id].path)}:{found[region.id].start}"
            if region.id in found
            else shown(folder / region.path)
        )
        for region in regions
    }


class Progress:
    """Print "ran 12/34 tests" on one terminal line while the suite runs."""

    def __call__(self, finished: int, collected: int) -> None:
        print(f"\r  ran {finished}/{collected} tests ", end="", flush=True)

    def clear(self) -> None:
        print("\r" + " " * 40 + "\r", end="", flush=True)


def grade_workspace(suite: Suite, options: argparse.Namespace) -> int:
    folder = WORKSPACE / suite.name
    if not folder.is_dir():
        raise Problem(
            f"you have not started stage {suite.name} yet: "
            f"make exercise-{suite.number} writes your starter to {shown(folder)}/"
        )
    print(f"Grading {shown(folder)} ...", flush=True)
    report = grade(
        suite,
        folder,
        suite.name,
        options,
        progress=True,
        sandbox=sandbox_limits(options, default=False),
    )
    show_report(report, folder, suite, options)
    save_grade(suite.name, to_json(report), WORKSPACE)  # the latest grade, for make progress
    return 0 if report.all_passed() else 1


def show_report(report: Report, folder: Path, suite: Suite, options: argparse.Namespace) -> None:
    """Print one graded submission's report; write its JSON and job summary if asked."""
    print(
        render(
            report,
            graded_path=shown(folder),
            suite_path=shown(suite.tests),
            style=Style(sys.stdout),
            verbose=options.verbose,
        )
    )
    if options.json:
        write_json(options.json, to_json(report))
        print(f"Wrote {shown(options.json)}")
    write_summary(options, [report], suite)


def grade_all(options: argparse.Namespace) -> int:
    started = [Suite.of(name) for name in STAGES.values() if (WORKSPACE / name).is_dir()]
    if not started:
        raise Problem(
            f"nothing to grade: {shown(WORKSPACE)}/ holds no stage yet; "
            f"start one with make exercise-1"
        )
    results = []
    for suite in started:
        code = grade_workspace(suite, options)
        results.append((suite, code))
    print("Summary")
    for suite, code in results:
        print(f"  {suite.name:<14} {'all tests pass' if code == 0 else 'some tests fail'}")
    return 0 if all(code == 0 for _, code in results) else 1


def grade_submission(suite: Suite, options: argparse.Namespace) -> int:
    folder: Path = options.path
    report = grade(
        suite,
        folder,
        folder.resolve().name,
        options,
        sandbox=sandbox_limits(options, default=False),
    )
    show_report(report, folder, suite, options)
    return 0 if report.all_passed() else 1


def grade_batch(suite: Suite, options: argparse.Namespace) -> int:
    """Grade every submission folder, ``--jobs`` at a time, each in its own sandbox.

    Exit status 0 only when every submission was graded (its tests may
    fail); 1 when any was stopped, errored or tampered with.
    """
    root: Path = options.batch
    if not root.is_dir():
        raise Problem(f"{shown(root)} is not a folder of submissions")
    submissions = sorted(
        path for path in root.iterdir() if path.is_dir() and not path.name.startswith((".", "_"))
    )
    if not submissions:
        raise Problem(f"{shown(root)} holds no submission folders")
    regions = suite.regions()
    if options.only:
        wanted = only_ids(options, suite) or set()
        regions = [region for region in regions if region.id in wanted]
    limits = sandbox_limits(options, default=True)
    jobs = max(1, options.jobs or os.cpu_count() or 1)
    print(
        f"Grading {len(submissions)} submissions of stage {suite.name}, {jobs} at a time, "
        f"{'each in a sandbox' if limits else 'WITHOUT the sandbox'}",
        flush=True,
    )
    reports: dict[Path, Report] = {}
    began = time.monotonic()
    spans: dict[Path, tuple[float, float]] = {}  # seconds since the batch began: start, end

    def graded(folder: Path) -> Report:
        start = time.monotonic() - began
        try:
            return grade(suite, folder, folder.name, options, sandbox=limits, batch=True)
        finally:
            spans[folder] = (start, time.monotonic() - began)

    from tqdm import tqdm  # imports importlib.metadata: 0.14 s a one-folder grade never needs

    bar = tqdm(
        total=len(submissions),
        unit="submission",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        dynamic_ncols=True,
    )
    pool = ThreadPoolExecutor(max_workers=jobs)
    stop_asked = threading.Event()
    try:
        with bar, stop_signals_set(stop_asked):
            grade_all_of(pool, graded, submissions, reports, spans, bar, stop_asked)
    except KeyboardInterrupt:
        # Ctrl-C and SIGTERM reach this thread only: drop the submissions not started,
        # stop the runs in progress (their sandboxes go with them), then give up.
        pool.shutdown(wait=False, cancel_futures=True)
        runner.stopping.set()
        raise
    finally:
        pool.shutdown(wait=True)
        runner.stopping.clear()
    ordered = [reports[folder] for folder in submissions]
    print(f"Graded {len(submissions)} submissions in {time.monotonic() - began:.1f} s")
    if options.csv:
        options.csv.parent.mkdir(parents=True, exist_ok=True)
        options.csv.write_text(to_csv(ordered, regions), encoding="utf-8")
        print(f"Wrote {shown(options.csv)}")
    if options.json:
        write_json(options.json, [to_json(report) for report in ordered])
        print(f"Wrote {shown(options.json)}")
    write_summary(options, ordered, suite)
    troubled = [report for report in ordered if report.status != "graded"]
    for report in troubled:
        print(f"  {report.submission}: {report.status}: {report.note or ''}")
    return 0 if not troubled else 1


@contextlib.contextmanager
def stop_signals_set(stop_asked: threading.Event) -> Iterator[None]:
    """While in the block, Ctrl-C (SIGINT) and SIGTERM only set ``stop_asked``.

    A KeyboardInterrupt raised by a signal lands wherever this thread happens
    to be, and one that lands in a finalizer or a weakref callback is printed
    and dropped ("Exception ignored in ..."): the batch then graded on, queue
    and all. A handler that only sets a flag cannot be lost; the batch's loop
    raises KeyboardInterrupt itself, at a point of its choosing. Outside the
    main thread (where signals cannot be handled) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def ask_to_stop(signum: int, frame: object) -> None:
        stop_asked.set()

    previous = {number: signal.signal(number, ask_to_stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def grade_all_of(
    pool: ThreadPoolExecutor,
    graded: Callable[[Path], Report],
    submissions: list[Path],
    reports: dict[Path, Report],
    spans: dict[Path, tuple[float, float]],
    bar: tqdm[Any],
    stop_asked: threading.Event,
) -> None:
    """Grade every submission on the pool; print each one's line as it is done.

    The wait for the next one wakes every half second to look at
    ``stop_asked`` (set by Ctrl-C or SIGTERM, see :func:`stop_signals_set`);
    raises KeyboardInterrupt once it is set.
    """
    futures = {pool.submit(graded, folder): folder for folder in submissions}
    pending = set(futures)
    while pending:
        if stop_asked.is_set():
            raise KeyboardInterrupt
        done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        for future in done:
            folder, report = futures[future], future.result()
            reports[folder] = report
            score = "—" if report.score is None else f"{round(report.score * 100)}%"
            start, end = spans[folder]
            bar.write(
                f"[{len(reports)}/{len(submissions)}] {folder.name:<24} "
                f"{report.passed}/{report.graded} exercise tests  {score}  {report.status}"
                f"  ({end - start:.1f} s, from {start:.1f} s to {end:.1f} s)",
                file=sys.stdout,
            )
            bar.update(1)


def write_summary(options: argparse.Namespace, reports: list[Report], suite: Suite) -> None:
    """Append the grade table to ``--summary`` or ``$GITHUB_STEP_SUMMARY`` (Markdown)."""
    target = options.summary or (
        Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY") else None
    )
    if target is None:
        return
    with target.open("a", encoding="utf-8") as stream:
        stream.write(markdown_summary(reports))


def write_json(path: Path | None, data: object) -> None:
    if path is None:
        return
    # Written beside the target, then renamed over it: a reader (make progress, say)
    # sees the old report or the new one, never half of one.
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as stream:
        stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    os.replace(stream.name, path)

"""How fast the grader is: ``python -m workbook.grader.bench``.

Two measurements, each against a goal (timing goals live here, never in a
timed test):

``loop`` (default)
    ``python -m workbook grade N PATH`` on each stage's full starter, the
    command ``make grade-N`` runs, wall time per stage (median of
    ``--rounds``). Goals on a 2-core machine: <= 3 s for stages 1-4,
    <= 6 s for stages 5-6. Also prints the slowest test of the reference's
    run per stage, which sizes the default per-test timeout.

``batch``
    ``python -m workbook grade 2 --batch DIR`` on a class of stage-02
    submissions: 3 starters, 3 finished, one with an endless loop in
    exercise 2.2, one that does not parse (``--class-size`` repeats that
    mix). Goals: 8 submissions <= 90 s, 30 <= 180 s on 2 cores.

The load average before each run is printed beside it: on a shared
machine, a number taken under load says little about the grader.

    .venv/bin/python -m workbook.grader.bench                 # loop, every stage
    .venv/bin/python -m workbook.grader.bench loop --stages 2,5 --rounds 3
    git worktree add /tmp/before 12f7f27      # the grader before this work, for a pair
    .venv/bin/python -m workbook.grader.bench loop --compare-with /tmp/before
    .venv/bin/python -m workbook.grader.bench batch --class-size 8
    .venv/bin/python -m workbook.grader.bench batch --class-size 30 --no-sandbox
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbook.grader.cutter import copy_stage, write_copy
from workbook.grader.runner import Suite, grade_run
from workbook.stages import REPO, STAGES

LOOP_GOALS = {1: 3.0, 2: 3.0, 3: 3.0, 4: 3.0, 5: 6.0, 6: 6.0}
BATCH_GOALS = {8: 90.0, 30: 180.0}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def timed(command: list[str], cwd: Path = REPO) -> float:
    started = time.monotonic()
    subprocess.run(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return time.monotonic() - started


def loop(stages: list[int], rounds: int, other: Path | None = None) -> int:
    """Time ``grade N PATH`` on each stage's starter; return 1 if a goal was missed.

    With ``other`` (the root of another checkout, e.g. ``git worktree add
    /tmp/before COMMIT``), its grader is timed too, turn about with this one,
    so both see the same load: a before/after pair.
    """
    missed = 0
    print(
        f"{'stage':<15}{'median s':>9}{'goal s':>8}  {'rounds':<24}"
        f"{'other s' if other else ''}  slowest reference test (p95 of all)"
    )
    with tempfile.TemporaryDirectory(prefix="wire-up-bench-") as scratch:
        for number in stages:
            suite = Suite.of(number)
            starter = Path(scratch) / suite.name
            write_copy(suite.reference, starter, suite.regions())
            command = [sys.executable, "-m", "workbook", "grade", str(number), str(starter)]
            before = load()
            times, others = [], []
            for _ in range(rounds):
                if other is not None:
                    others.append(timed(command, cwd=other))
                times.append(timed(command))
            median = statistics.median(times)
            run = grade_run(suite, suite.reference)
            durations = sorted(test.duration for test in run.tests)
            slowest = max(run.tests, key=lambda test: test.duration)
            p95 = durations[int(0.95 * (len(durations) - 1))]
            goal = LOOP_GOALS[number]
            verdict = "ok" if median <= goal else "MISSED"
            missed += median > goal
            shown = ", ".join(f"{value:.1f}" for value in times)
            compared = f"{statistics.median(others):>7.1f}" if others else ""
            print(
                f"{suite.name:<15}{median:>9.1f}{goal:>8.0f}  {shown:<24}{compared}  "
                f"{slowest.duration:.2f} s {slowest.name} ({p95:.2f} s)  [{verdict}; {before}]",
                flush=True,
            )
    return 1 if missed else 0


def make_class(root: Path, size: int) -> None:
    """Write ``size`` stage-02 submissions: the issue's mix of 8, repeated."""
    suite = Suite.of(2)
    regions = suite.regions()
    kinds = ["starter", "starter", "starter", "finished", "finished", "finished", "loop", "broken"]
    for index in range(size):
        kind = kinds[index % len(kinds)]
        folder = root / f"{index:02d}-{kind}"
        if kind == "starter":
            write_copy(suite.reference, folder, regions)
        else:
            copy_stage(suite.reference, folder)
        if kind == "loop":  # exercise 2.2 never ends: the trie walk spins
            marker = next(region for region in regions if region.id == "2.2")
            router = folder / marker.path
            text = router.read_text()
            lines = text.splitlines(keepends=True)
            indent = lines[marker.start - 1][
                : len(lines[marker.start - 1]) - len(lines[marker.start - 1].lstrip())
            ]
            lines.insert(marker.start, f"{indent}while True:\n{indent}    pass\n")
            router.write_text("".join(lines))
        if kind == "broken":
            request = folder / "wsgirouter" / "request.py"
            request.write_text(request.read_text() + "\ndef broken(:\n")


def batch(size: int, jobs: int | None, sandbox: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="wire-up-bench-class-") as scratch:
        root = Path(scratch) / "class"
        make_class(root, size)
        command = [
            sys.executable,
            "-m",
            "workbook",
            "grade",
            "2",
            "--batch",
            str(root),
            "--csv",
            str(Path(scratch) / "grades.csv"),
        ]
        command += ["--jobs", str(jobs)] if jobs else []
        command += [] if sandbox else ["--no-sandbox"]
        before = load()
        seconds = timed(command)
        print((Path(scratch) / "grades.csv").read_text())
    goal = BATCH_GOALS.get(size)
    verdict = "" if goal is None else ("ok" if seconds <= goal else "MISSED")
    print(
        f"batch of {size} stage-02 submissions{' (sandboxed)' if sandbox else ''}: {seconds:.1f} s"
        f"{f' (goal {goal:.0f} s: {verdict})' if goal else ''}  [{before}]"
    )
    return 1 if goal is not None and seconds > goal else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook.grader.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("what", nargs="?", choices=("loop", "batch"), default="loop")
    parser.add_argument("--stages", default=",".join(str(number) for number in STAGES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--class-size", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--no-sandbox", action="store_true")
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="CHECKOUT",
        help="loop: also time the grader of another checkout, turn about",
    )
    options = parser.parse_args(argv)
    if options.what == "loop":
        return loop(
            [int(part) for part in options.stages.split(",")], options.rounds, options.compare_with
        )
    if not options.no_sandbox and not shutil.which("bwrap"):
        parser.error("the batch is sandboxed by default and needs bwrap; or give --no-sandbox")
    return batch(options.class_size, options.jobs, not options.no_sandbox)


if __name__ == "__main__":
    sys.exit(main())

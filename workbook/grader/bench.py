"""How fast the grader is: ``python -m workbook.grader.bench``.

Two measurements, each against a goal (timing goals live here, never in a
timed test):

``loop`` (default)
    ``python -m workbook grade N PATH`` on each stage's full starter, the
    command ``make grade-N`` runs: wall time and CPU time (the grader and
    every process it started) per stage, median of ``--rounds``. Goals on a
    2-core machine: <= 3 s for stages 1-4, <= 6 s for stages 5-6. Also
    grades the reference and prints its slowest tests by wall and by CPU
    time (and the 95th percentiles), which size the per-test timeouts
    (``--no-reference`` skips that).

``batch``
    ``python -m workbook grade 2 --batch DIR`` on a class of stage-02
    submissions: 3 starters, 3 finished, one with an endless loop in
    exercise 2.2, one that does not parse (``--class-size`` repeats that
    mix). Goals: 8 submissions <= 90 s, 30 <= 180 s on 2 cores.

``weights``
    Grade each stage's reference and starter (one child process each) and
    write the seconds each test file took, the mean of the two, to
    ``workbook/grader/shard_weights.json``: what splits one grade's files
    between its shards (``runner.split_files``). Run it after adding a
    test file or a slow test; a file missing from the table is weighed by
    its count of tests.

The load average before and after each run is printed beside it: on a
shared machine, a wall time taken under load says little about the
grader; its CPU time says more. The batch's CPU time is read from a cgroup
of its own where the benchmark may make one (as root): a sandboxed run's
processes are reaped inside their PID namespace, and their CPU time never
reaches the benchmark's ``RUSAGE_CHILDREN``. The batch prints when each
submission started and ended, so the run's critical path can be read off.

    .venv/bin/python -m workbook.grader.bench                 # loop, every stage
    .venv/bin/python -m workbook.grader.bench loop --stages 2,5 --rounds 3
    git worktree add /tmp/before d05bcdf      # the grader before this work, for a pair
    .venv/bin/python -m workbook.grader.bench loop --compare-with /tmp/before
    .venv/bin/python -m workbook.grader.bench batch --class-size 8
    .venv/bin/python -m workbook.grader.bench batch --class-size 30 --no-sandbox
    .venv/bin/python -m workbook.grader.bench weights --rounds 3 [--stages 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from workbook.grader.cutter import copy_stage, write_copy
from workbook.grader.runner import SHARD_WEIGHTS, Suite, grade_run, suite_files
from workbook.stages import REPO, STAGES

LOOP_GOALS = {1: 3.0, 2: 3.0, 3: 3.0, 4: 3.0, 5: 6.0, 6: 6.0}
BATCH_GOALS = {8: 90.0, 30: 180.0}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


@dataclass(frozen=True)
class Timing:
    """One command's cost: wall seconds, and CPU seconds (user + system) of it and its children."""

    wall: float
    cpu: float
    everything: bool = True  # False: the CPU time of a sandbox's inner processes is missing


def timed(
    command: list[str],
    cwd: Path = REPO,
    output: IO[bytes] | None = None,
    *,
    sandboxed: bool = False,
) -> Timing:
    """Run ``command``; return its wall time and the CPU time of it and all it started.

    ``output`` receives its standard output (else it is dropped).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with CpuGroup() as group:
        subprocess.run(
            command,
            cwd=cwd,
            stdout=output or subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            check=False,
            preexec_fn=group.join,
        )
        used = group.seconds()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if used is not None:
        return Timing(wall, used)
    # Without a cgroup, processes reaped inside a sandbox's PID namespace are not counted.
    return Timing(wall, cpu, everything=not sandboxed)


def read_words(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


class CpuGroup:
    """A CPU-accounting cgroup for one command, where one can be made (root, cgroup v1 or v2).

    It counts every process the command starts, inside a sandbox's PID
    namespace too. ``seconds()`` is None where there is no such cgroup.
    """

    def __init__(self) -> None:
        self.path: Path | None = None
        self.version = 0

    def __enter__(self) -> CpuGroup:
        candidates = ((Path("/sys/fs/cgroup/cpuacct"), 1), (Path("/sys/fs/cgroup"), 2))
        for root, version in candidates:
            usable = (
                (root / "cpuacct.usage").exists()
                if version == 1
                else "cpu" in read_words(root / "cgroup.subtree_control")
            )
            if not usable:
                continue
            path = root / f"wire-up-bench-{os.getpid()}-{time.monotonic_ns()}"
            try:
                path.mkdir()
            except OSError:
                continue
            self.path, self.version = path, version
            break
        return self

    def join(self) -> None:
        """Move the calling process into the group (the child, before exec)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        try:
            if self.version == 1:
                return int((self.path / "cpuacct.usage").read_text()) / 1e9
            for line in (self.path / "cpu.stat").read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "usage_usec":
                    return int(value) / 1e6
        except (OSError, ValueError):
            pass
        return None

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            for _ in range(100):  # the last processes may still be leaving
                try:
                    self.path.rmdir()
                    return
                except OSError:
                    time.sleep(0.05)


def loop(stages: list[int], rounds: int, other: Path | None = None, reference: bool = True) -> int:
    """Time ``grade N PATH`` on each stage's starter; return 1 if a goal was missed.

    Wall time is what the goal is about; the CPU time (of the grader and
    everything it started) says what the run cost on a loaded machine,
    where wall time mostly measures the others' work.

    With ``other`` (the root of another checkout, e.g. ``git worktree add
    /tmp/before COMMIT``), its grader is timed too, turn about with this one,
    so both see the same load: a before/after pair. With ``reference``, the
    reference is graded too, and its slowest tests (wall and CPU) printed:
    what sizes the per-test timeouts.
    """
    missed = 0
    print(
        f"{'stage':<15}{'wall s':>7}{'cpu s':>7}{'goal s':>7}  {'rounds (wall/cpu)':<30}"
        f"{'other wall/cpu' if other else ''}"
    )
    with tempfile.TemporaryDirectory(prefix="wire-up-bench-") as scratch:
        for number in stages:
            suite = Suite.of(number)
            starter = Path(scratch) / suite.name
            write_copy(suite.reference, starter, suite.regions())
            command = [sys.executable, "-m", "workbook", "grade", str(number), str(starter)]
            before = load()
            times: list[Timing] = []
            others: list[Timing] = []
            for _ in range(rounds):
                if other is not None:
                    others.append(timed(command, cwd=other))
                times.append(timed(command))
            wall = statistics.median(timing.wall for timing in times)
            cpu = statistics.median(timing.cpu for timing in times)
            goal = LOOP_GOALS[number]
            verdict = "ok" if wall <= goal else "MISSED"
            missed += wall > goal
            shown = ", ".join(f"{timing.wall:.1f}/{timing.cpu:.1f}" for timing in times)
            compared = (
                f"{statistics.median(t.wall for t in others):.1f}/"
                f"{statistics.median(t.cpu for t in others):.1f}"
                if others
                else ""
            )
            print(
                f"{suite.name:<15}{wall:>7.1f}{cpu:>7.1f}{goal:>7.0f}  {shown:<30}{compared}"
                f"  [{verdict}; before: {load_text(before)}; after: {load()}]",
                flush=True,
            )
            if reference:
                print(f"  {slowest_tests(suite)}", flush=True)
    return 1 if missed else 0


def load_text(text: str) -> str:
    return text.removesuffix(f" on {os.cpu_count()} cores")


def slowest_tests(suite: Suite) -> str:
    """Grade the reference (no CPU clock) and name its slowest tests, by wall and by CPU time."""
    run = grade_run(suite, suite.reference, timeout=120, cpu_timeout=0)
    if not run.tests:
        return "reference: no tests ran"
    walls = sorted(test.duration for test in run.tests)
    cpus = sorted(test.cpu for test in run.tests)
    by_wall = max(run.tests, key=lambda test: test.duration)
    by_cpu = max(run.tests, key=lambda test: test.cpu)
    p95 = int(0.95 * (len(run.tests) - 1))
    failed = sum(test.outcome == "failed" for test in run.tests)
    return (
        f"reference ({len(run.tests)} tests, {failed} failed): "
        f"slowest wall {by_wall.duration:.2f} s {by_wall.name} (p95 {walls[p95]:.2f} s); "
        f"slowest CPU {by_cpu.cpu:.2f} s {by_cpu.name} (p95 {cpus[p95]:.2f} s)"
    )


def weights(stages: list[int], rounds: int) -> int:
    """Write the per-file seconds of each stage's suite to :data:`SHARD_WEIGHTS`.

    Seconds are test durations (setup + call + teardown, wall) as graded,
    the mean of the reference's run and the starter's (a learner's copy
    moves from one to the other), the median of ``rounds`` such pairs: on
    a shared machine one run's seconds are noisy. Stages not asked for keep
    their entries.
    """
    try:
        table = json.loads(SHARD_WEIGHTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        table = {}
    with tempfile.TemporaryDirectory(prefix="wire-up-bench-") as scratch:
        for number in stages:
            suite = Suite.of(number)
            starter = Path(scratch) / suite.name
            write_copy(suite.reference, starter, suite.regions())
            files = {
                path.relative_to(REPO).as_posix(): path.relative_to(suite.tests).as_posix()
                for path in suite_files(suite)
            }
            samples: dict[str, list[float]] = {name: [] for name in files.values()}
            tests = dict.fromkeys(files.values(), 0)
            for _ in range(rounds):
                seconds = dict.fromkeys(files.values(), 0.0)
                for folder in (suite.reference, starter):
                    counts = dict.fromkeys(files.values(), 0)
                    for test in grade_run(suite, folder, shards=1).tests:
                        name = files.get(test.nodeid.partition("::")[0])
                        if name is not None:
                            seconds[name] += test.duration / 2
                            counts[name] += 1
                    tests = {name: max(tests[name], counts[name]) for name in tests}
                for name, value in seconds.items():
                    samples[name].append(value)
            medians = {name: statistics.median(values) for name, values in samples.items()}
            table[suite.name] = {
                name: {"seconds": round(medians[name], 2), "tests": tests[name]}
                for name in files.values()
            }
            heaviest = sorted(medians.items(), key=lambda item: -item[1])[:3]
            print(
                f"{suite.name}: {sum(medians.values()):.1f} s in {len(files)} files; heaviest "
                + ", ".join(f"{name} {value:.1f} s" for name, value in heaviest),
                flush=True,
            )
    SHARD_WEIGHTS.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"Wrote {SHARD_WEIGHTS.relative_to(REPO)}")
    return 0


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
        with tempfile.TemporaryFile() as output:
            timing = timed(command, output=output, sandboxed=sandbox)
            output.seek(0)
            print(output.read().decode("utf-8", errors="replace").rstrip())
        print((Path(scratch) / "grades.csv").read_text())
    seconds = timing.wall
    goal = BATCH_GOALS.get(size)
    verdict = "" if goal is None else ("ok" if seconds <= goal else "MISSED")
    print(
        f"batch of {size} stage-02 submissions{' (sandboxed)' if sandbox else ''}: {seconds:.1f} s"
        f"{f', {timing.cpu:.1f} s of CPU' if timing.everything else ''}"
        f"{f' (goal {goal:.0f} s: {verdict})' if goal else ''}"
        f"  [before: {before}; after: {load()}]"
    )
    return 1 if goal is not None and seconds > goal else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook.grader.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("what", nargs="?", choices=("loop", "batch", "weights"), default="loop")
    parser.add_argument("--stages", default=",".join(str(number) for number in STAGES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--class-size", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--no-sandbox", action="store_true")
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="loop: do not grade the reference for its slowest tests",
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="CHECKOUT",
        help="loop: also time the grader of another checkout, turn about",
    )
    options = parser.parse_args(argv)
    if options.what == "loop":
        return loop(
            [int(part) for part in options.stages.split(",")],
            options.rounds,
            options.compare_with,
            reference=not options.no_reference,
        )
    if options.what == "weights":
        return weights([int(part) for part in options.stages.split(",")], options.rounds)
    if not options.no_sandbox and not shutil.which("bwrap"):
        parser.error("the batch is sandboxed by default and needs bwrap; or give --no-sandbox")
    return batch(options.class_size, options.jobs, not options.no_sandbox)


if __name__ == "__main__":
    sys.exit(main())

"""``make progress``: the course map, with each exercise's state from your latest grades.

Every grade of a workspace copy (``make grade-N``, ``make grade``, ``make
watch-N``) leaves its JSON report (the grader's ``wire-up/grade/1`` schema,
see ``workbook/grader/README.md``) in ``workspace/.grades/NN_name.json``.
This command reads those files, never grades anything itself, and prints
each stage with a bar and each exercise with one of three states:

- **not started**: its tests fail only on the untouched stub
  (``NotImplementedError("exercise N.k: ...")``), or the stage has no copy
  in ``workspace/`` yet;
- **failing**: written, but some of its tests fail;
- **passing**: every one of its tests passes.

An exercise whose stage was never graded shows as *not graded*. The
exercise list comes from the reference stage, so a new exercise shows up
even before your next grade.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from workbook.stages import STAGES, WORKSPACE

GRADES_FOLDER = ".grades"
BAR_WIDTH = 20


class State(Enum):
    """Where one exercise stands, by the latest grade of its stage."""

    NOT_STARTED = "not started"
    FAILING = "failing"
    PASSING = "passing"
    NOT_GRADED = "not graded"


MARKS = {State.PASSING: "✓", State.FAILING: "✗", State.NOT_STARTED: "·", State.NOT_GRADED: "?"}
ASCII_MARKS = {
    State.PASSING: "+",
    State.FAILING: "x",
    State.NOT_STARTED: ".",
    State.NOT_GRADED: "?",
}


# ── Where the latest grades live ─────────────────────────────────────────────


def grade_path(stage_name: str, workspace: Path = WORKSPACE) -> Path:
    """Return where the latest grade of a stage is kept: ``workspace/.grades/NN_name.json``."""
    return workspace / GRADES_FOLDER / f"{stage_name}.json"


def save_grade(stage_name: str, report: dict[str, Any], workspace: Path = WORKSPACE) -> Path:
    """Keep ``report`` (the grader's JSON) as the latest grade of a stage; return its path.

    Written to a temporary file first and renamed, so a reader never sees half a file.
    """
    path = grade_path(stage_name, workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def load_grade(stage_name: str, workspace: Path = WORKSPACE) -> dict[str, Any] | None:
    """Return the latest grade of a stage, or None if there is none (or it is unreadable)."""
    try:
        grade: dict[str, Any] = json.loads(
            grade_path(stage_name, workspace).read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return None
    return grade


# ── States ───────────────────────────────────────────────────────────────────


def exercise_state(record: dict[str, Any] | None) -> State:
    """Return an exercise's state from its record in a grade report (None: not in the report)."""
    if record is None or not record.get("tests"):
        return State.NOT_GRADED
    passed, failures = record.get("passed", []), record.get("failures", [])
    if not failures and not record.get("failed"):
        return State.PASSING if passed else State.NOT_GRADED
    if (
        not passed
        and failures
        and all(failure.get("not_written") == record["id"] for failure in failures)
    ):
        return State.NOT_STARTED
    return State.FAILING


@dataclass
class ExerciseProgress:
    id: str
    title: str
    state: State
    passed: int = 0
    tests: int = 0


@dataclass
class StageProgress:
    """One stage's row of the course map."""

    number: int
    name: str
    started: bool  # a copy exists in workspace/
    graded_at: float | None = None  # when the latest grade was written (epoch seconds)
    changed_since: bool = False  # a .py file of the copy is newer than the grade
    exercises: list[ExerciseProgress] = field(default_factory=list)

    @property
    def passing(self) -> int:
        return sum(exercise.state is State.PASSING for exercise in self.exercises)

    def first_unfinished(self) -> ExerciseProgress | None:
        return next(
            (exercise for exercise in self.exercises if exercise.state is not State.PASSING), None
        )


def exercise_titles(number: int) -> list[tuple[str, str]]:
    """Return the (id, title) of each exercise of a stage, from the reference code."""
    from workbook.grader.runner import Suite  # the grader's own view of the exercises

    return [(region.id, region.title) for region in Suite.of(number).regions()]


def newest_source(folder: Path) -> float:
    """Return the modification time of the newest .py file in a folder (0 if none)."""
    return max(
        (path.stat().st_mtime for path in folder.rglob("*.py") if "__pycache__" not in path.parts),
        default=0.0,
    )


def stage_progress(number: int, workspace: Path = WORKSPACE) -> StageProgress:
    """Return a stage's progress from its copy in ``workspace`` and its latest grade."""
    name = STAGES[number]
    copy = workspace / name
    progress = StageProgress(number, name, started=copy.is_dir())
    report = load_grade(name, workspace) if progress.started else None
    records = {record["id"]: record for record in (report or {}).get("exercises", [])}
    if report is not None:
        progress.graded_at = grade_path(name, workspace).stat().st_mtime
        progress.changed_since = newest_source(copy) > progress.graded_at
    for exercise_id, title in exercise_titles(number):
        record = records.get(exercise_id)
        if not progress.started:
            state = State.NOT_STARTED
        else:
            state = exercise_state(record)
        passed = len(record.get("passed", [])) if record else 0
        tests = int(record.get("tests", 0)) if record else 0
        progress.exercises.append(ExerciseProgress(exercise_id, title, state, passed, tests))
    return progress


def course_progress(workspace: Path = WORKSPACE) -> list[StageProgress]:
    """Return every stage's progress, in course order."""
    return [stage_progress(number, workspace) for number in sorted(STAGES)]


# ── Text ─────────────────────────────────────────────────────────────────────


def can_draw(stream: TextIO) -> bool:
    """Return True if the stream's encoding has the bar and mark characters."""
    try:
        "█░✓✗·".encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def bar(done: int, total: int, *, fancy: bool = True, width: int = BAR_WIDTH) -> str:
    """Return a progress bar: ``bar(3, 4, width=8)`` is ``"██████░░"``."""
    filled = round(width * done / total) if total else 0
    full, empty = ("█", "░") if fancy else ("#", "-")
    return full * filled + empty * (width - filled)


def when(stamp: float, now: float) -> str:
    """Return how long ago a grade was written: ``"just now"``, ``"5 min ago"``, ..."""
    seconds = max(0.0, now - stamp)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return time.strftime("%Y-%m-%d", time.localtime(stamp))


def render(stages: list[StageProgress], *, fancy: bool = True, now: float | None = None) -> str:
    """Return the course map as text: a bar per stage, a line per exercise of a started stage."""
    now = time.time() if now is None else now
    marks = MARKS if fancy else ASCII_MARKS
    lines = ["Wire Up: your progress (from the latest grades in workspace/.grades/)", ""]
    for stage in stages:
        total = len(stage.exercises)
        meter = bar(stage.passing, total, fancy=fancy)
        head = f"{stage.name:<14} {meter} {stage.passing}/{total} passing"
        if not stage.started:
            lines.append(f"{head}   not started: make exercise-{stage.number}")
            continue
        if stage.graded_at is None:
            lines.append(f"{head}   not graded yet: make grade-{stage.number}")
        else:
            note = f"graded {when(stage.graded_at, now)}"
            if stage.changed_since:
                note += f", changed since: make grade-{stage.number}"
            lines.append(f"{head}   {note}")
        for exercise in stage.exercises:
            counts = (
                f" ({exercise.passed}/{exercise.tests} tests)"
                if exercise.state is State.FAILING
                else ""
            )
            lines.append(
                f"  {marks[exercise.state]} {exercise.id:<5} {exercise.title:<40} "
                f"{exercise.state.value}{counts}"
            )
    lines += ["", next_step(stages)]
    return "\n".join(lines)


def next_step(stages: list[StageProgress]) -> str:
    """Return one line saying what to do next: finish a started stage, or start the next one."""
    for stage in stages:
        unfinished = stage.first_unfinished() if stage.started else None
        if unfinished is not None:
            return (
                f"Next: exercise {unfinished.id} ({unfinished.title}): "
                f"make watch-{stage.number} re-grades it on every save"
            )
    for stage in stages:
        if not stage.started:
            return f"Next: make exercise-{stage.number}, then make watch-{stage.number}"
    return "Every exercise passes. Well done."


def main(command: str, args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook progress",
        description="Print the course map with each exercise's state from your latest grades.",
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        default=WORKSPACE,
        help="the folder holding your stage copies (default: workspace/)",
    )
    options = parser.parse_args(args)
    print(render(course_progress(options.workspace), fancy=can_draw(sys.stdout)))
    return 0

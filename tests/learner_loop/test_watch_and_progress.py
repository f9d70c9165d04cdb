"""`make watch-N` and `make progress`: the learner's loop of save, re-grade, see where you stand.

The watch test is end to end: a real ``python -m workbook watch`` on a
starter copy in a temporary workspace, a file saved, the re-grade seen on
its output, then Ctrl-C.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from workbook import progress, watch
from workbook.grader.cutter import write_copy
from workbook.grader.runner import Suite
from workbook.progress import State, exercise_state
from workbook.stages import REPO
from workbook.testing import ProcessOutput, stop_process, wait_for_text, wait_until

STAGE = 2
NAME = "02_router"


def record(
    exercise_id: str, *, passed: int = 0, failed: int = 0, stub: bool = False
) -> dict[str, Any]:
    """Return one exercise's record as the grader's JSON report has it."""
    failures = [
        {
            "test": f"t{n}",
            "rule": "a rule",
            "expected": "1",
            "got": "2",
            "not_written": exercise_id if stub else None,
        }
        for n in range(failed)
    ]
    return {
        "id": exercise_id,
        "title": f"Exercise {exercise_id}",
        "file": "wsgirouter/router.py",
        "tests": passed + failed,
        "passed": [f"p{n}" for n in range(passed)],
        "failed": [f"t{n}" for n in range(failed)],
        "failures": failures,
    }


# ── The states ───────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("exercise", "state"),
    [
        (record("2.1", passed=6), State.PASSING),
        (record("2.1", failed=6, stub=True), State.NOT_STARTED),
        (record("2.1", passed=2, failed=4), State.FAILING),
        (record("2.1", failed=3), State.FAILING),  # written, every test fails
        (None, State.NOT_GRADED),
    ],
    ids=["passing", "stub", "some-fail", "all-fail", "absent"],
)
def test_each_exercise_state_comes_from_its_tests(
    exercise: dict[str, Any] | None, state: State
) -> None:
    """Passing: every test passes; not started: only the stub fails; failing: anything else."""
    assert exercise_state(exercise) is state


def test_progress_shows_a_bar_per_stage_and_each_exercise_state(tmp_path: Path) -> None:
    """The course map: started stages list their exercises with states; others say how to start."""
    (tmp_path / NAME).mkdir()
    ids = [region.id for region in Suite.of(STAGE).regions()]
    report = {
        "schema": "wire-up/grade/1",
        "stage": NAME,
        "status": "graded",
        "exercises": [
            record(ids[0], passed=6),
            record(ids[1], passed=1, failed=2),
            *(record(i, failed=4, stub=True) for i in ids[2:]),
        ],
    }
    progress.save_grade(NAME, report, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "workbook", "progress", "--workspace", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    stage_line = next(line for line in lines if line.startswith(NAME))
    assert f"1/{len(ids)} passing" in stage_line and "graded just now" in stage_line
    states = {line.split()[1]: line for line in lines if line.startswith("  ")}
    assert states[ids[0]].endswith("passing")
    assert states[ids[1]].endswith("failing (1/3 tests)")
    assert all(states[i].endswith("not started") for i in ids[2:])
    assert any(
        line.startswith("01_raw_wsgi") and "not started: make exercise-1" in line for line in lines
    )
    assert lines[-1].startswith(f"Next: exercise {ids[1]}") and f"make watch-{STAGE}" in lines[-1]


def test_bar_fills_in_proportion() -> None:
    """The bar has one cell per 1/width of the exercises that pass."""
    assert (progress.bar(3, 4, width=8), progress.bar(0, 4, width=4, fancy=False)) == (
        "██████░░",
        "----",
    )


def test_watch_shows_the_first_unfinished_exercise_with_its_failures_and_hint() -> None:
    """Short view: a line per exercise, then the first one not passing, expected vs got, hint."""
    report = {
        "status": "graded",
        "exercises": [
            record("2.1", passed=6),
            record("2.2", passed=1, failed=3),
            record("2.3", failed=2, stub=True),
        ],
    }
    text = watch.render(STAGE, report, "", run=3, hint_of={"2.2": "recurse on the child"})
    assert "grade #3 of 02_router: 1/3 exercises passing" in text
    assert "Next: exercise 2.2, Exercise 2.2 (failing; 1/4 tests pass)" in text
    assert "expected: 1" in text and "got:      2" in text and "... and 1 more" in text
    assert text.endswith("Hint: recurse on the child")


def test_watch_shows_why_nothing_could_run() -> None:
    """A copy that does not even import (a syntax error mid-edit) shows the error, not a score."""
    report = {
        "status": "error",
        "note": "no test ran: the suite collected nothing",
        "load_errors": [
            {"file": "tests/02_router/test_app.py", "message": "SyntaxError: invalid syntax"}
        ],
        "exercises": [],
    }
    text = watch.render(STAGE, report, "", run=1, hint_of={})
    assert "Nothing could run" in text and "SyntaxError: invalid syntax" in text


# ── End to end ───────────────────────────────────────────────────────────────


@pytest.mark.timeout(240)
def test_watch_regrades_on_save_and_quits_on_ctrl_c(tmp_path: Path) -> None:
    """Saving a file re-grades the copy: the stubbed exercise, once written, shows as passing."""
    suite = Suite.of(STAGE)
    first = suite.regions()[0]
    copy = tmp_path / NAME
    write_copy(suite.reference, copy, suite.regions(), stubbed={first.id})
    command = [
        sys.executable,
        "-m",
        "workbook",
        "watch",
        str(STAGE),
        "--workspace",
        str(tmp_path),
        "--only",
        first.id,
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    output = ProcessOutput(process.stdout)  # type: ignore[arg-type]
    try:
        seen = wait_for_text(output.text, "Watching", timeout=120)
        assert f"{first.id:<5} {first.title}" in seen and "not started" in seen
        assert f"Next: exercise {first.id}" in seen and f"Hint: {first.hint}" in seen

        # The learner writes the exercise (here: the reference's code) and saves.
        (copy / first.path).write_text(
            (suite.reference / first.path).read_text(encoding="utf-8"), encoding="utf-8"
        )
        seen = wait_for_text(output.text, "grade #2", timeout=120)
        seen = wait_for_text(output.text, "Every test passes", timeout=120)
        assert "1/1 exercises passing" in seen.split("grade #2", 1)[1]
        saved = json.loads((tmp_path / ".grades" / f"{NAME}.json").read_text(encoding="utf-8"))
        assert (
            exercise_state(next(r for r in saved["exercises"] if r["id"] == first.id))
            is State.PASSING
        )

        wait_until(lambda: output.text().count("Watching") == 2, what="watching again", timeout=30)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=30) == 0
        assert output.read().decode().rstrip().endswith("Stopped watching.")
    finally:
        stop_process(process)
        output.finish()


def test_watch_without_a_copy_says_how_to_start(tmp_path: Path) -> None:
    """Watching a stage with no copy in the workspace is a clear error, exit 2."""
    done = subprocess.run(
        [sys.executable, "-m", "workbook", "watch", "3", "--workspace", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "make exercise-3 writes your starter" in done.stderr


# ── On the grader's own reports ──────────────────────────────────────────────

GRADER_FIXTURES = REPO / "tests" / "grader" / "fixtures"


def test_states_read_from_a_real_grader_report() -> None:
    """The golden report (90.1 right, 90.2 wrong, 90.3 not written) shows all three states."""
    report = json.loads((GRADER_FIXTURES / "golden" / "alice.json").read_text(encoding="utf-8"))
    states = {entry["id"]: exercise_state(entry) for entry in report["exercises"]}
    assert (states["90.1"], states["90.2"], states["90.3"]) == (
        State.PASSING,
        State.FAILING,
        State.NOT_STARTED,
    )


@pytest.mark.timeout(120)
def test_grading_the_workspace_keeps_the_latest_grade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make grade-N` leaves its JSON report in workspace/.grades/, where progress reads it."""
    from workbook.grader import cli

    suite = Suite(
        "90_greeter", GRADER_FIXTURES / "90_greeter", GRADER_FIXTURES / "suite_90_greeter"
    )
    shutil.copytree(GRADER_FIXTURES / "submissions" / "alice", tmp_path / suite.name)
    monkeypatch.setattr(cli, "WORKSPACE", tmp_path)
    options = cli.grade_parser().parse_args(["90"])
    assert cli.grade_workspace(suite, options) == 1  # alice has not finished
    saved = progress.load_grade(suite.name, tmp_path)
    assert saved is not None and saved["submission"] == suite.name
    assert exercise_state(next(e for e in saved["exercises"] if e["id"] == "90.1")) is State.PASSING

"""Turn a run's outcomes into a grade: per exercise, as text, JSON or CSV.

The JSON report (schema ``wire-up/grade/2``) is documented in
``workbook/grader/README.md``. It holds no timings and no absolute paths, so
grading the same submission twice gives the same file. The headline score
is the exercises' alone; the whole-stage tests (no exercise tag) are
reported beside it, under their own name.
"""

from __future__ import annotations

import csv
import io
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from workbook.grader.regions import Region
from workbook.grader.runner import Run, TestResult

SCHEMA = "wire-up/grade/2"
STAGE_BUCKET = "stage"
STAGE_TITLE = "Whole-stage tests (no exercise tag)"
SHOWN_FAILURES = 3


@dataclass
class Exercise:
    """One exercise's tests and score (or the stage bucket of untagged tests)."""

    id: str
    title: str
    file: str | None = None  # where the exercise is, inside the stage folder
    hint: str = ""
    location: str | None = None  # path:line for the learner (display only)
    tests: list[TestResult] = field(default_factory=list)

    def named(self, outcome: str) -> list[TestResult]:
        return [test for test in self.tests if test.outcome == outcome]

    @property
    def passed(self) -> int:
        return len(self.named("passed"))

    @property
    def failed(self) -> int:
        return len(self.named("failed"))

    @property
    def graded(self) -> int:
        """Return how many tests count toward the score (skipped ones do not)."""
        return self.passed + self.failed

    @property
    def score(self) -> float | None:
        return round(self.passed / self.graded, 3) if self.graded else None

    def unwritten(self) -> bool:
        """Return True when every failure is this exercise's own untouched stub."""
        failures = self.named("failed")
        return (
            bool(failures)
            and not self.passed
            and all(test.details.get("not_written") == self.id for test in failures)
        )


@dataclass
class Report:
    """A graded copy of one stage."""

    stage: str
    submission: str
    exercises: list[Exercise]
    run: Run
    note: str | None = None

    @property
    def tests(self) -> list[TestResult]:
        """Return every test of the run, the whole-stage ones included."""
        return [test for exercise in self.exercises for test in exercise.tests]

    @property
    def tasks(self) -> list[Exercise]:
        """Return the exercises, without the whole-stage bucket."""
        return [exercise for exercise in self.exercises if exercise.id != STAGE_BUCKET]

    @property
    def stage_tests(self) -> Exercise:
        return next(exercise for exercise in self.exercises if exercise.id == STAGE_BUCKET)

    @property
    def passed(self) -> int:
        """Return how many exercise tests passed (the headline count)."""
        return sum(exercise.passed for exercise in self.tasks)

    @property
    def graded(self) -> int:
        """Return how many exercise tests count toward the score."""
        return sum(exercise.graded for exercise in self.tasks)

    @property
    def score(self) -> float | None:
        """Return the headline score: the exercises' tests only; None when tampered."""
        if self.tampered:
            return None
        return round(self.passed / self.graded, 3) if self.graded else None

    @property
    def tampered(self) -> bool:
        return bool(self.run.tampered)

    @property
    def status(self) -> str:
        """Return ``tampered``, ``error`` (nothing ran), ``stopped`` or ``graded``.

        ``stopped``: the run overran its time.
        """
        if self.run.tampered:
            return "tampered"
        if not self.run.tests:
            return "error"
        return "stopped" if self.run.stopped else "graded"

    def all_passed(self) -> bool:
        """Return True when the run was graded and every test, whole-stage ones too, passed."""
        everything = [test for test in self.tests if test.outcome != "skipped"]
        return (
            self.status == "graded"
            and bool(everything)
            and all(test.outcome == "passed" for test in everything)
        )


def build_report(
    stage: str,
    submission: str,
    regions: list[Region],
    run: Run,
    locations: dict[str, str] | None = None,
) -> Report:
    """Sort a run's tests into the stage's exercises, in exercise order.

    Untagged tests go to the ``stage`` bucket; a test tagged with an id the
    stage does not have gets a bucket of its own, so nothing is lost.
    """
    exercises = {
        region.id: Exercise(
            region.id,
            region.title,
            region.path,
            region.hint,
            (locations or {}).get(region.id, region.location()),
        )
        for region in regions
    }
    stage_bucket = Exercise(STAGE_BUCKET, STAGE_TITLE)
    for test in run.tests:
        if test.exercise is None:
            stage_bucket.tests.append(test)
        else:
            exercises.setdefault(
                test.exercise, Exercise(test.exercise, "(no such exercise in the stage)")
            ).tests.append(test)
    note = None
    if run.tampered:
        note = "not graded: the run shows signs of tampering (see tampering)"
    elif run.stopped:
        note = run.stopped
    elif not run.tests:
        note = "no test ran: " + (run.problem() or "the suite collected nothing")
    return Report(stage, submission, [*exercises.values(), stage_bucket], run, note)


# ── JSON and CSV ─────────────────────────────────────────────────────────────

FAILURE_FIELDS = (
    "kind",
    "message",
    "expected",
    "got",
    "check",
    "where",
    "request",
    "server",
    "not_written",
)


def failure_record(test: TestResult) -> dict[str, Any]:
    record: dict[str, Any] = {"test": test.nodeid, "rule": test.rule}
    record.update({name: test.details.get(name) for name in FAILURE_FIELDS})
    return record


def exercise_record(exercise: Exercise, *, scored: bool = True) -> dict[str, Any]:
    return {
        "id": exercise.id,
        "title": exercise.title,
        "file": exercise.file,
        "tests": len(exercise.tests),
        "passed": [test.nodeid for test in exercise.named("passed")],
        "failed": [test.nodeid for test in exercise.named("failed")],
        "skipped": [test.nodeid for test in exercise.named("skipped")],
        "score": exercise.score if scored else None,
        "failures": [failure_record(test) for test in exercise.named("failed")],
    }


def counts(exercises: list[Exercise], score: float | None) -> dict[str, Any]:
    tests = [test for exercise in exercises for test in exercise.tests]
    passed = sum(test.outcome == "passed" for test in tests)
    failed = sum(test.outcome == "failed" for test in tests)
    return {
        "tests": len(tests),
        "passed": passed,
        "failed": failed,
        "skipped": len(tests) - passed - failed,
        "score": score,
    }


def to_json(report: Report) -> dict[str, Any]:
    """Return the report as the documented JSON structure (no timings, no absolute paths)."""
    scored = not report.tampered
    stage = report.stage_tests
    return {
        "schema": SCHEMA,
        "stage": report.stage,
        "submission": report.submission,
        "status": report.status,
        "note": report.note,
        "tampering": list(report.run.tampered),
        "contained": list(report.run.contained),
        "load_errors": [
            {"file": error["nodeid"], "message": error["message"]}
            for error in report.run.collect_errors
        ],
        "totals": counts(report.tasks, report.score),
        "stage_tests": exercise_record(stage, scored=scored),
        "exercises": [exercise_record(exercise, scored=scored) for exercise in report.tasks],
    }


def csv_columns(regions: list[Region]) -> list[str]:
    return [
        "submission",
        "status",
        *(region.id for region in regions),
        "score",
        "passed",
        "graded",
        "stage_tests_score",
        "stage_tests_passed",
        "stage_tests_graded",
        "note",
    ]


def csv_row(report: Report) -> dict[str, Any]:
    stage = report.stage_tests
    scored = not report.tampered
    row: dict[str, Any] = {
        "submission": report.submission,
        "status": report.status,
        "score": "" if report.score is None else report.score,
        "passed": report.passed,
        "graded": report.graded,
        "stage_tests_score": "" if stage.score is None or not scored else stage.score,
        "stage_tests_passed": stage.passed,
        "stage_tests_graded": stage.graded,
        "note": report.note or "",
    }
    for exercise in report.tasks:
        row[exercise.id] = "" if exercise.score is None or not scored else exercise.score
    return row


def to_csv(reports: list[Report], regions: list[Region]) -> str:
    """Return one CSV row per graded submission, one score column per exercise."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=csv_columns(regions), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for report in reports:
        writer.writerow(csv_row(report))
    return buffer.getvalue()


# ── Text, for the learner ────────────────────────────────────────────────────


class Style:
    """ANSI colors when writing to a terminal that wants them, plain text otherwise."""

    CODES = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.enabled = (
            hasattr(stream, "isatty")
            and stream.isatty()
            and "NO_COLOR" not in os.environ
            and os.environ.get("TERM") != "dumb"
        )

    def __call__(self, text: str, *names: str) -> str:
        if not self.enabled or not names:
            return text
        codes = ";".join(self.CODES[name] for name in names)
        return f"\033[{codes}m{text}\033[0m"


def render(
    report: Report,
    *,
    graded_path: str,
    suite_path: str,
    style: Style | None = None,
    verbose: bool = False,
) -> str:
    """Return the learner's report: a score table, then each failure explained.

    Places in the code are shown under ``graded_path``, so a terminal or an
    editor can open them.
    """
    style = style or Style(io.StringIO())
    lines = [
        style(f"Stage {report.stage}: {graded_path}", "bold")
        + style(f"   (tests: {suite_path})", "dim"),
        "",
    ]
    width = max(len(exercise.title) for exercise in report.exercises) + 2
    for exercise in report.tasks:
        lines.append(table_line(exercise, width, style))
    lines.append(
        style(
            f"  {'score':<6} {'(the exercises)':<{width}} {report.passed:>3}/{report.graded:<3}"
            f"{percent(report.score):>6}",
            "bold",
        )
    )
    if report.stage_tests.tests:
        lines.append(table_line(report.stage_tests, width, style))
    if report.tampered:
        lines += [
            "",
            style(
                "NOT GRADED: this run shows signs of tampering; no score is given.", "red", "bold"
            ),
        ]
        lines += [f"  - {problem}" for problem in report.run.tampered]
        return "\n".join(lines) + "\n"
    if report.note:
        lines += ["", style(f"Note: {report.note}.", "yellow")]
    for event in report.run.contained:
        lines += ["", style(f"Sandbox: {event}.", "yellow")]
    for error in report.run.collect_errors:
        lines += ["", style(f"Could not load {error['nodeid']}:", "red", "bold")]
        lines += [f"    {line}" for line in error["message"].splitlines()]
    failing = [exercise for exercise in report.exercises if exercise.failed]
    for exercise in failing:
        lines += ["", *explain(exercise, style, verbose, graded_path)]
    lines.append("")
    if report.all_passed():
        lines.append(style("Every test passes. Well done.", "green", "bold"))
    elif failing:
        first = failing[0]
        label = "the stage's own tests" if first.id == STAGE_BUCKET else f"exercise {first.id}"
        lines.append(f"Next: {label}. Fix one thing, grade again.")
    return "\n".join(lines) + "\n"


def percent(score: float | None) -> str:
    return "  —" if score is None else f"{round(score * 100)}%"


def table_line(exercise: Exercise, width: int, style: Style) -> str:
    counts = f"{exercise.passed:>3}/{exercise.graded:<3}"
    if not exercise.graded:
        mark, color = "no tests", "yellow"
    elif exercise.failed == 0:
        mark, color = "✔", "green"
    elif exercise.unwritten():
        mark, color = "✘ not written yet", "red"
    else:
        mark, color = "✘", "red"
    title = exercise.title if exercise.id != STAGE_BUCKET else STAGE_TITLE
    score = percent(exercise.score)
    return f"  {exercise.id:<6} {title:<{width}} {counts}{score:>6}  {style(mark, color)}"


def explain(exercise: Exercise, style: Style, verbose: bool, root: str) -> list[str]:
    """Return the failures of one exercise, each with rule, expected/got and request.

    Failures that only hit an unwritten exercise's stub are summed up in one
    line: the learner's next step is that exercise, not each of its tests.
    """
    heading = (
        "Whole-stage tests"
        if exercise.id == STAGE_BUCKET
        else f"Exercise {exercise.id}: {exercise.title}"
    )
    lines = [style(heading, "bold")]
    if exercise.location and exercise.id != STAGE_BUCKET:
        lines.append(style(f"  write it in {exercise.location}", "dim"))
    failures = exercise.named("failed")
    stubbed = [test for test in failures if test.details.get("not_written")]
    others = [test for test in failures if not test.details.get("not_written")]
    shown = others if verbose else others[:SHOWN_FAILURES]
    if stubbed and not shown:
        shown = stubbed[:1]
    for test in shown:
        lines += explain_test(test, style, root)
    hidden = [test for test in others if test not in shown]
    if hidden:
        lines.append(
            style(f"  … and {len(hidden)} more failing test(s) (--verbose shows all)", "dim")
        )
    waiting = [test for test in stubbed if test not in shown]
    if waiting:
        counts: dict[str, int] = {}
        for test in waiting:
            counts[test.details["not_written"]] = counts.get(test.details["not_written"], 0) + 1
        named = ", ".join(
            f"{exercise_id} ({count})" for exercise_id, count in sorted(counts.items())
        )
        prefix = "… and " if shown else ""
        lines.append(
            f"  {prefix}{len(waiting)} more test(s) stop at an exercise not written yet: {named}"
        )
    if exercise.hint:
        lines.append(style(f"  hint: {exercise.hint}", "yellow"))
    return lines


def explain_test(test: TestResult, style: Style, root: str) -> list[str]:
    details = test.details
    lines = [f"  {style('✘', 'red')} {test.name}"]
    if details.get("kind") == "not_loaded":
        return [lines[0] + style("   (could not be loaded, see above)", "dim")]
    if test.rule:
        lines.append(f"      rule:     {test.rule}")
    if details.get("check"):
        lines.append(f"      check:    {details['check']}")
    if details.get("expected") is not None:
        lines.append(f"      expected: {details['expected']}")
        lines.append(f"      got:      {details['got']}")
    elif details.get("got"):
        lines.append(f"      got:      {details['got']}")
        if details.get("where"):
            lines.append(f"      at:       {root}/{details['where']}")
    if details.get("message") and details.get("message") not in {
        details.get("got"),
        f"expected {details.get('expected')}, got {details.get('got')}",
        f"{details.get('got')} (at {details.get('where')})",
    }:
        message = str(details["message"]).splitlines()
        lines.append(f"      why:      {message[0]}")
        lines += [f"                {line}" for line in message[1:]]
    own = details.get("not_written")
    if own and details.get("kind") != "not_written":
        lines.append(f"      note:     the code stopped at exercise {own}'s stub (not written yet)")
    if details.get("request"):
        lines.append(f"      request:  {details['request']}")
        start = start_command(details.get("server"), root)
        if start:
            lines.append(
                "      try it:   the test's server is gone; start the same one on your copy,"
            )
            lines.append("                then send the request above from a second terminal:")
            lines.append(f"                {start}")
    return lines


def start_command(server: dict[str, Any] | None, root: str) -> str | None:
    """Return the shell command that starts a test's server on the learner's copy.

    ``server`` is the failure's ``server`` record (argv with ``{python}``,
    ``{venv}/NAME`` and ``{stage}`` placeholders); the command runs from the
    current folder, as the grade command did, and serves ``root``.
    """
    if not server or not server.get("argv"):
        return None
    python = Path(sys.executable)
    relative = Path(os.path.relpath(python.parent, Path(root).resolve()))
    if (server.get("cwd") or "{stage}") != "{stage}":
        return None  # a server of the test's own making, in a folder that is gone
    folder = root
    words = []
    for part in server["argv"]:
        part = str(part).replace("{python}", str(relative / python.name))
        part = part.replace("{venv}", str(relative)).replace("{stage}", ".")
        words.append(shlex.quote(part))
    return f"(cd {shlex.quote(folder)} && PYTHONPATH=. {' '.join(words)})"


# ── Markdown, for a CI job summary ───────────────────────────────────────────


def markdown_cell(text: str) -> str:
    """Return text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_summary(reports: list[Report]) -> str:
    """Return each report as a Markdown section: the per-exercise table, then the stage tests.

    Written to ``$GITHUB_STEP_SUMMARY`` on GitHub Actions, where it shows on
    the run's summary page.
    """
    lines: list[str] = []
    for report in reports:
        headline = (
            f"{report.passed}/{report.graded} exercise tests, {percent(report.score).strip()}"
            if not report.tampered
            else "not graded (tampering)"
        )
        lines += [
            f"### Stage {report.stage}: {markdown_cell(report.submission)} — {headline}",
            "",
            f"Status: **{report.status}**"
            + (f" — {markdown_cell(report.note)}" if report.note else ""),
            "",
            "| exercise | title | passed | score | |",
            "|---|---|---:|---:|---|",
        ]
        for exercise in [*report.tasks, report.stage_tests]:
            if exercise.id == STAGE_BUCKET and not exercise.tests:
                continue
            score = None if report.tampered else exercise.score
            if not exercise.graded:
                mark = "no tests"
            elif exercise.failed == 0:
                mark = "✔"
            elif exercise.unwritten():
                mark = "✘ not written yet"
            else:
                mark = "✘"
            title = STAGE_TITLE if exercise.id == STAGE_BUCKET else exercise.title
            label = "stage tests" if exercise.id == STAGE_BUCKET else exercise.id
            lines.append(
                f"| {label} | {markdown_cell(title)} | {exercise.passed}/{exercise.graded} "
                f"| {percent(score).strip()} | {mark} |"
            )
        for problem in report.run.tampered:
            lines.append(f"\n- tampering: {markdown_cell(problem)}")
        lines.append("")
    return "\n".join(lines) + "\n"

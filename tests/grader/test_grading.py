"""The grader on its own fixture stage: scores, feedback, timeouts, reports, CLI.

``fixtures/90_greeter`` is a three-exercise stage whose suite never changes
under these tests; ``fixtures/submissions/`` holds a half-done submission
(``alice``: 90.1 right, 90.2 wrong, 90.3 not written) and a hung one
(``stuck``: 90.2 loops forever). Each test runs the grader's child pytest.

Set WORKBOOK_UPDATE_GOLDEN=1 to rewrite the golden report after an intended change.
"""

from __future__ import annotations

import _thread
import csv
import io
import json
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from workbook.grader import cli
from workbook.grader import sandbox as grader_sandbox
from workbook.grader.report import Style, build_report, render, start_command, to_json
from workbook.grader.runner import Run, Suite, collate, grade_run
from workbook.stages import REPO
from workbook.testing import server_process

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUITE = Suite("90_greeter", FIXTURES / "90_greeter", FIXTURES / "suite_90_greeter")
SUBMISSIONS = FIXTURES / "submissions"
GOLDEN = FIXTURES / "golden" / "alice.json"

pytestmark = pytest.mark.timeout(120)


def grade(folder: Path, **options: float) -> tuple[Run, dict]:
    run = grade_run(SUITE, folder, **options)
    return run, to_json(build_report(SUITE.name, folder.name, SUITE.regions(), run))


def by_id(report: dict) -> dict[str, dict]:
    return {exercise["id"]: exercise for exercise in report["exercises"]}


def copy_of(submission: str, tmp_path: Path, name: str | None = None) -> Path:
    target = tmp_path / (name or submission)
    shutil.copytree(SUBMISSIONS / submission, target)
    return target


def test_half_done_submission_report_matches_the_golden_file() -> None:
    """The JSON report of a known half-done submission is exactly the golden one."""
    _, report = grade(SUBMISSIONS / "alice")
    if os.environ.get("WORKBOOK_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert report == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_reference_passes_every_test() -> None:
    """The fixture stage's reference scores 100% in every exercise."""
    _, report = grade(SUITE.reference)
    assert [(exercise["id"], exercise["score"]) for exercise in report["exercises"]] == [
        ("90.1", 1.0),
        ("90.2", 1.0),
        ("90.3", 1.0),
    ]
    assert (report["totals"]["score"], report["stage_tests"]["score"]) == (1.0, 1.0)


def test_text_report_explains_each_failure_like_a_tutor() -> None:
    """The learner's report shows the rule, expected vs got, the request and the hint."""
    run = grade_run(SUITE, SUBMISSIONS / "alice")
    text = render(
        build_report(SUITE.name, "alice", SUITE.regions(), run),
        graded_path="alice",
        suite_path="suite",
    )
    for line in [
        "90.2   Build the greeting                      1/2     50%  ✘",
        "90.3   Answer a request                        0/3      0%  ✘ not written yet",
        'rule:     An excited greeting ends with "!" instead of ".".',
        "expected: 'Hello, Ada!'",
        "got:      'Hello, Ada.'",
        "got:      not written yet: exercise 90.3",
        "request:  curl -i 'http://127.0.0.1/hello?name=ada'",
        'hint: urllib.parse.parse_qs(environ["QUERY_STRING"]) gives {"name": ["ada"]}.',
        "Next: exercise 90.2.",
    ]:
        assert line in text
    assert "Traceback" not in text
    assert "\033[" not in text  # no colors when not writing to a terminal


def test_exception_in_the_submission_shows_where_it_was_raised(tmp_path: Path) -> None:
    """An exception from the learner's code is reported with its type, message and line."""
    folder = copy_of("alice", tmp_path)
    text_py = folder / "greeter" / "text.py"
    text_py.write_text(
        text_py.read_text().replace(
            'name = " ".join(part.capitalize() for part in raw.split())', "name = raw + 1"
        )
    )
    _, report = grade(folder)
    failure = by_id(report)["90.1"]["failures"][0]
    assert (failure["kind"], failure["got"], failure["where"]) == (
        "exception",
        'TypeError: can only concatenate str (not "int") to str',
        "greeter/text.py:12 in normalize_name",
    )


def test_hung_test_is_stopped_by_the_per_test_timeout() -> None:
    """A test stuck in an endless loop fails after --timeout seconds; the others still run."""
    run, report = grade(SUBMISSIONS / "stuck", timeout=2)
    exercises = by_id(report)
    assert (exercises["90.1"]["score"], exercises["90.2"]["score"]) == (1.0, 0.0)
    failure = exercises["90.2"]["failures"][0]
    assert (failure["kind"], failure["got"]) == (
        "timeout",
        "no result within 2 s, so the test was stopped",
    )
    assert failure["where"].startswith("greeter/text.py:")
    [skipped] = exercises["90.2"]["failures"][1:]
    assert (skipped["kind"], skipped["message"]) == (
        "not_run",
        "not run: exercise 90.2 timed out (in test_greeting_uses_the_normalized_name)",
    )
    assert report["status"] == "graded"
    assert report["stage_tests"]["score"] == 1.0


def test_overrunning_run_is_stopped_by_the_total_timeout() -> None:
    """With no per-test timeout, the whole run is stopped; unfinished tests score as failures.

    Where the stop lands depends on the machine: under load, 4 s may end
    the run before 90.1's tests or even before collection. Each test is
    then either done, stopped while it ran, or not run; never passed in 90.2.
    """
    run, report = grade(SUBMISSIONS / "stuck", timeout=0, total_timeout=4)
    stopped = "the grading run was stopped after 4 s"
    assert run.duration < 30
    assert (report["status"], report["note"]) == ("stopped", stopped)
    exercises = by_id(report)
    cut_short = {
        f"{stopped} while this test ran (an endless loop, or a server that never answers?)",
        f"not run: {stopped} before it",
    }
    assert exercises["90.2"]["score"] == 0.0
    assert {failure["message"] for failure in exercises["90.2"]["failures"]} <= cut_short
    assert {failure["message"] for failure in exercises["90.1"]["failures"]} <= cut_short


def test_stopped_run_marks_the_test_that_ran_and_the_tests_after_it() -> None:
    """A stop mid-run: tests done keep their outcome, the one running and the rest are failed."""
    nodeids = ["t.py::test_done", "t.py::test_stuck", "t.py::test_later"]
    records: list[dict[str, Any]] = [
        *({"event": "collected", "nodeid": nodeid} for nodeid in nodeids),
        {"event": "start", "nodeid": nodeids[0]},
        {"event": "result", "nodeid": nodeids[0], "outcome": "passed", "phase": "call"},
        {"event": "start", "nodeid": nodeids[1]},
    ]
    run = collate(records, stopped="stopped after 4 s", exit_status=-9, duration=4.0, output="")
    assert [(test.outcome, test.details.get("message")) for test in run.tests] == [
        ("passed", None),
        (
            "failed",
            "stopped after 4 s while this test ran "
            "(an endless loop, or a server that never answers?)",
        ),
        ("failed", "not run: stopped after 4 s before it"),
    ]


def test_run_stopped_before_collection_scores_every_test_not_run(tmp_path: Path) -> None:
    """A run stopped before its tests were collected marks each "not run", not "not loaded".

    The submission's import never returns, so the stop lands during start-up
    or collection, wherever a loaded machine has got to: pytest may exit on
    the signal itself (status 2) or be killed, and both read the same.
    """
    folder = copy_of("alice", tmp_path)
    text_py = folder / "greeter" / "text.py"
    text_py.write_text(text_py.read_text() + "\nwhile True:\n    pass\n")
    run, report = grade(folder, timeout=0, total_timeout=3)
    stopped = "the grading run was stopped after 3 s"
    assert (report["status"], report["note"], report["load_errors"]) == ("stopped", stopped, [])
    assert len(run.tests) == 9
    assert {test.details["message"] for test in run.tests} == {f"not run: {stopped} before it"}


def test_submission_that_cannot_load_scores_every_test_as_failed(tmp_path: Path) -> None:
    """A syntax error fails every test of the file, and the error is shown once, relative."""
    folder = copy_of("alice", tmp_path)
    text_py = folder / "greeter" / "text.py"
    text_py.write_text(text_py.read_text().replace("raw.split())", "raw.split()"))
    _, report = grade(folder)
    assert report["totals"] == {"tests": 8, "passed": 0, "failed": 8, "skipped": 0, "score": 0.0}
    assert report["stage_tests"]["failed"] == [
        "tests/grader/fixtures/suite_90_greeter/test_greeter.py::test_app_is_a_wsgi_callable"
    ]
    [error] = report["load_errors"]
    assert error["file"] == "tests/grader/fixtures/suite_90_greeter/test_greeter.py"
    assert 'File "greeter/text.py", line 12' in error["message"]
    assert "SyntaxError" in error["message"]
    assert str(tmp_path) not in json.dumps(report)


def test_only_grades_the_chosen_exercises() -> None:
    """--only runs just the tests tagged with the chosen exercises."""
    run, _ = grade_run(SUITE, SUBMISSIONS / "alice", only={"90.1"}), None
    assert {test.exercise for test in run.tests} == {"90.1"}
    assert len(run.tests) == 3


def test_starter_fails_each_exercise_as_not_written(tmp_path: Path) -> None:
    """The full starter imports, and each exercise's tests fail as "not written yet"."""
    starter = cli.make_starter(SUITE, tmp_path)
    run = grade_run(SUITE, starter)
    report = build_report(SUITE.name, "starter", SUITE.regions(), run)
    assert [exercise.unwritten() for exercise in report.exercises[:3]] == [True, True, True]
    assert report.exercises[-1].score == 1.0  # the untagged import check passes
    assert not run.collect_errors


def test_starter_never_overwrites_work_without_force(tmp_path: Path) -> None:
    """A second exercise command refuses; with --force the old copy moves to .backup/."""
    starter = cli.make_starter(SUITE, tmp_path)
    work = starter / "greeter" / "text.py"
    work.write_text(work.read_text() + "# my work\n")
    with pytest.raises(cli.Problem, match="already exists"):
        cli.make_starter(SUITE, tmp_path)
    assert work.read_text().endswith("# my work\n")
    cli.make_starter(SUITE, tmp_path, force=True)
    assert not work.read_text().endswith("# my work\n")
    [backup] = (tmp_path / ".backup").iterdir()
    assert (backup / "greeter" / "text.py").read_text().endswith("# my work\n")


def test_next_steps_name_each_exercise_with_its_file_and_line(tmp_path: Path) -> None:
    """After cutting, the learner is told where each exercise is and how to grade."""
    starter = cli.make_starter(SUITE, tmp_path)
    text = cli.next_steps(SUITE, starter)
    assert f"90.1  Normalize a name    {starter / 'greeter' / 'text.py'}:8" in text
    assert "make grade-90" in text


def test_batch_writes_one_csv_row_per_submission(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Batch mode grades each submission folder into one row with a column per exercise."""
    batch = tmp_path / "class"
    copy_of("alice", batch)
    shutil.copytree(SUITE.reference, batch / "bob")
    grades, reports = tmp_path / "grades.csv", tmp_path / "all.json"
    options = cli.grade_parser().parse_args(
        [
            "90",
            "--batch",
            str(batch),
            "--csv",
            str(grades),
            "--json",
            str(reports),
            "--timeout",
            "10",
            "--no-sandbox",
        ]
    )
    assert cli.grade_batch(SUITE, options) == 0
    rows = list(csv.DictReader(io.StringIO(grades.read_text())))
    assert [
        (
            row["submission"],
            row["90.1"],
            row["90.2"],
            row["90.3"],
            row["score"],
            row["stage_tests_score"],
        )
        for row in rows
    ] == [("alice", "1.0", "0.5", "0.0", "0.5", "1.0"), ("bob", "1.0", "1.0", "1.0", "1.0", "1.0")]
    assert [report["submission"] for report in json.loads(reports.read_text())] == ["alice", "bob"]
    out = capsys.readouterr().out
    assert "[2/2] " in out and " alice " in out and " bob " in out
    assert "Graded 2 submissions in " in out  # and each line says when it ran
    assert re.search(r" bob .*\(\d+\.\d s, from \d+\.\d s to \d+\.\d s\)", out)


def test_an_interrupted_batch_stops_its_runs_and_starts_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or SIGTERM) reaches only the batch's main thread: the run in progress, which
    hangs, is stopped, and the submissions still queued are never started."""
    batch = tmp_path / "class"
    for name in ("ann", "ben", "cy"):
        shutil.copytree(FIXTURES / "submissions" / "stuck", batch / name)
    started: list[str] = []
    running = threading.Event()
    real_grade = cli.grade

    def grade(suite: Suite, folder: Path, *args: Any, **kwargs: Any) -> Any:
        started.append(folder.name)
        running.set()
        return real_grade(suite, folder, *args, **kwargs)

    monkeypatch.setattr(cli, "grade", grade)
    options = cli.grade_parser().parse_args(
        [
            "90",
            "--batch",
            str(batch),
            "--csv",
            str(tmp_path / "grades.csv"),
            "--timeout",
            "0",  # the per-test clocks off: each run hangs until its total timeout
            "--total-timeout",
            "100",
            "--jobs",
            "1",
            "--no-sandbox",
        ]
    )

    def interrupt() -> None:
        if running.wait(60):
            _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        cli.grade_batch(SUITE, options)
    assert started == ["ann"]
    # Without the stop, the hung run would have lasted its 100 s, then two more.
    assert time.monotonic() - began < 90
    assert not (tmp_path / "grades.csv").exists()


def test_cli_names_a_missing_stage_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong stage number is one plain error line and exit status 2, no traceback."""
    assert cli.main("grade", ["9"]) == 2
    assert capsys.readouterr().err == "error: no stage 9: stages are [1, 2, 3, 4, 5, 6]\n"


def test_grading_an_unstarted_stage_says_how_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """make grade-N before make exercise-N tells the learner which command to run."""
    monkeypatch.setattr(cli, "WORKSPACE", tmp_path)
    assert cli.main("grade", ["2"]) == 2
    assert "make exercise-2 writes your starter" in capsys.readouterr().err
    assert cli.main("grade", ["--all"]) == 2
    assert "start one with make exercise-1" in capsys.readouterr().err


def test_instructor_json_from_the_command_matches_the_golden_file(tmp_path: Path) -> None:
    """grade STAGE PATH --json writes the same report for a folder of any name."""
    output = tmp_path / "report.json"
    options = cli.grade_parser().parse_args(
        ["90", str(SUBMISSIONS / "alice"), "--json", str(output)]
    )
    assert cli.grade_submission(SUITE, options) == 1
    assert json.loads(output.read_text()) == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_colors_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colors are used on a terminal, unless NO_COLOR is set; never in a pipe or file."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert Style(Terminal())("✔", "green") == "\033[32m✔\033[0m"
    assert Style(io.StringIO())("✔", "green") == "✔"
    monkeypatch.setenv("NO_COLOR", "1")
    assert Style(Terminal())("✔", "green") == "✔"


def test_failed_request_to_a_gone_server_comes_with_the_command_that_restarts_it(
    tmp_path: Path,
) -> None:
    """A failure's curl line names a port whose test server is gone; the report shows the
    command that starts the same server on the learner's copy, and that command works."""
    stage = Suite.of(2)
    servers = Suite(stage.name, stage.reference, stage.tests / "test_servers.py")
    starter = cli.make_starter(stage, tmp_path)
    run = grade_run(servers, starter)
    report = build_report(stage.name, "starter", stage.regions(), run)
    failing = next(
        test
        for test in report.stage_tests.named("failed")
        if test.details.get("server") and "[own]" in test.nodeid
    )
    start = start_command(failing.details["server"], str(starter))
    assert start is not None
    text = render(report, graded_path=str(starter), suite_path="tests/02_router")
    assert f"                {start}" in text
    port = failing.details["server"]["port"]
    assert f"--port {port}" in start and start.startswith(f"(cd {starter} && PYTHONPATH=. ")
    # exec: so that the stop signal reaches the server itself, not the shell
    command = start[1:-1].replace(" && PYTHONPATH=. ", " && export PYTHONPATH=. && exec ", 1)
    with server_process(["sh", "-c", command], port, cwd=tmp_path):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"GET /books HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert connection.recv(64).startswith(b"HTTP/1.1 ")


def test_missing_bwrap_is_a_clear_error_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asked for where bwrap is missing, the sandbox says how to install it."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(grader_sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        grader_sandbox.bwrap_path()


def test_step_summary_gets_the_per_exercise_table_in_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With $GITHUB_STEP_SUMMARY set (as on GitHub Actions), the grade is appended as Markdown."""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    options = cli.grade_parser().parse_args(["90", str(SUBMISSIONS / "alice")])
    assert cli.grade_submission(SUITE, options) == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n### Stage 90_greeter: alice — 4/8 exercise tests, 50%\n")
    for row in [
        "| exercise | title | passed | score | |",
        "| 90.1 | Normalize a name | 3/3 | 100% | ✔ |",
        "| 90.2 | Build the greeting | 1/2 | 50% | ✘ |",
        "| 90.3 | Answer a request | 0/3 | 0% | ✘ not written yet |",
        "| stage tests | Whole-stage tests (no exercise tag) | 1/1 | 100% | ✔ |",
    ]:
        assert row in text.splitlines()


def test_workflow_grades_every_push_with_make_grade() -> None:
    """The learners' workflow runs `make grade` on push (the summary comes from the grader)."""
    import yaml

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "grade.yml").read_text())
    assert "push" in workflow[True]  # YAML 1.1 reads the key `on` as True
    steps = workflow["jobs"]["grade"]["steps"]
    assert any("make grade" in step.get("run", "") for step in steps)


def test_a_later_test_looping_in_the_same_code_is_stopped_early(tmp_path: Path) -> None:
    """After one test times out in a loop, another test stuck in the same function is
    stopped within seconds, not after the whole per-test timeout."""
    folder = tmp_path / "looping"
    shutil.copytree(SUITE.reference, folder)
    shutil.copy(SUBMISSIONS / "stuck" / "greeter" / "text.py", folder / "greeter" / "text.py")
    run, report = grade(folder, timeout=8, cpu_timeout=0)  # the wall clock, for its message
    exercises = by_id(report)
    first = exercises["90.2"]["failures"][0]
    assert (first["kind"], first["got"]) == (
        "timeout",
        "no result within 8 s, so the test was stopped",
    )
    again = next(
        failure
        for failure in exercises["90.3"]["failures"]
        if failure["test"].endswith("test_get_hello_answers_the_greeting")
    )
    assert again["kind"] == "timeout"
    assert again["message"].startswith(
        "looping again where an earlier test timed out (greeter/text.py:"
    )
    hello = next(
        test for test in run.tests if test.nodeid.endswith("test_get_hello_answers_the_greeting")
    )
    assert hello.duration < 8
    assert exercises["90.3"]["score"] == 0.667  # its other tests, which do not loop, still ran

"""The timeout rules: an endless loop costs one timeout, not one per test, and grading goes on.

``fixtures/suite_90_greeter_loops`` grades ``submissions/stuck`` (greeting()
loops for ever) with tests that reach the loop in every way the real suites
do: first a hypothesis test of exercise 90.2 (hypothesis catches
``pytest.fail`` and would replay the loop while shrinking, with no alarm
left: the run then hung until the total timeout), then more 90.2 tests,
whole-stage tests and another hypothesis test that call the same code, and
last tests that do not loop at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.grader import plugin
from workbook.grader.report import build_report, render, to_json
from workbook.grader.runner import DEFAULT_CPU_TIMEOUT, DEFAULT_TIMEOUT, Run, Suite, grade_run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOOPS = Suite("90_greeter", FIXTURES / "90_greeter", FIXTURES / "suite_90_greeter_loops")
STUCK = FIXTURES / "submissions" / "stuck"
FIRST = "test_every_greeting_ends_with_a_full_stop"

pytestmark = pytest.mark.timeout(180)


def grade(
    folder: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cpu_timeout: float = DEFAULT_CPU_TIMEOUT,
    timeout_budget: float | None = None,
) -> tuple[Run, dict[str, Any]]:
    run = grade_run(
        LOOPS,
        folder,
        total_timeout=120,
        timeout=timeout,
        cpu_timeout=cpu_timeout,
        timeout_budget=timeout_budget,
    )
    return run, to_json(build_report(LOOPS.name, folder.name, LOOPS.regions(), run))


def failures(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return every failure of the report by test name (without the file)."""
    found = {}
    for exercise in [*report["exercises"], report["stage_tests"]]:
        for failure in exercise["failures"]:
            found[failure["test"].rpartition("::")[2]] = failure
    return found


def test_an_endless_loop_costs_one_timeout_and_grading_goes_on() -> None:
    """The first test in the loop times out (inside hypothesis); the exercise's other tests
    are not run; other tests that reach the loop are stopped early; the rest still pass."""
    run, report = grade(STUCK, timeout=6, cpu_timeout=0)
    assert (report["status"], report["note"]) == ("graded", None)  # never the total timeout
    failed = failures(report)
    assert (failed[FIRST]["kind"], failed[FIRST]["got"]) == (
        "timeout",
        "no result within 6 s, so the test was stopped",
    )
    assert failed[FIRST]["where"].startswith("greeter/text.py:")
    for name in ["test_greeting_names_the_person", "test_excited_greeting"]:
        assert (failed[name]["kind"], failed[name]["message"]) == (
            "not_run",
            f"not run: exercise 90.2 timed out (in {FIRST})",
        )
    looping_again = [
        "test_greeting_starts_with_hello[ada]",
        "test_greeting_starts_with_hello[grace]",
        "test_greeting_starts_with_hello[alan]",
        "test_greeting_never_ends_with_a_space",  # whole-stage, and hypothesis again
    ]
    for name in looping_again:
        assert failed[name]["kind"] == "timeout", name
        assert failed[name]["message"].startswith(
            "looping again where an earlier test timed out (greeter/text.py:"
        ), name
    # A server process stuck in the loop: each test waits for its client's timeout, and
    # after two such tests in one file, the file's other tests are not run.
    assert failed["test_the_greeting_server_answers[ada]"]["got"] == "TimeoutError: timed out"
    assert failed["test_the_greeting_server_answers[alan]"]["message"] == (
        "not run: 2 tests of test_waits.py timed out before it (a server stuck in an endless loop?)"
    )
    exercises = {exercise["id"]: exercise for exercise in report["exercises"]}
    assert exercises["90.1"]["score"] == 1.0  # its last tests ran after every loop, and passed
    assert any(test.endswith("::test_app_is_callable") for test in report["stage_tests"]["passed"])
    text = render(
        build_report(LOOPS.name, "stuck", LOOPS.regions(), run),
        graded_path="stuck",
        suite_path="suite",
    )
    assert "no result within 6 s, so the test was stopped" in text


def test_the_cpu_clock_stops_a_loop_before_the_wall_clock() -> None:
    """With a long wall timeout, the loop is stopped after the CPU time it used; later tests
    that loop in the same place are stopped early, as after a wall-clock timeout."""
    _, report = grade(STUCK, timeout=100, cpu_timeout=1)
    assert report["status"] == "graded"
    failed = failures(report)
    assert (failed[FIRST]["kind"], failed[FIRST]["got"]) == (
        "timeout",
        "no result after 1 s of CPU time, so the test was stopped",
    )
    assert failed["test_greeting_starts_with_hello[ada]"]["message"].startswith(
        "looping again where an earlier test timed out (greeter/text.py:"
    )


def test_the_exercise_whose_code_spun_is_not_run_further() -> None:
    """A test with no exercise tag spins in exercise 90.2's region: 90.2's own tests are then
    not run (each would only have looped again), and 90.1's still run and pass."""
    spins = Suite("90_greeter", LOOPS.reference, FIXTURES / "suite_90_greeter_spins")
    run = grade_run(spins, STUCK, total_timeout=120, timeout=100, cpu_timeout=1)
    report = to_json(build_report(spins.name, STUCK.name, spins.regions(), run))
    assert report["status"] == "graded"
    failed = failures(report)
    first = failed["test_a_greeting_is_text"]
    assert (first["kind"], first["got"]) == (
        "timeout",
        "no result after 1 s of CPU time, so the test was stopped",
    )
    assert first["where"].startswith("greeter/text.py:")
    for name in ["test_greeting_names_the_person", "test_excited_greeting"]:
        assert failed[name]["kind"] == "not_run", name
        assert failed[name]["message"] == (
            f"not run: exercise 90.2 loops ({first['where']}, "
            f"where test_a_greeting_is_text was stopped)"
        ), name
    exercises = {exercise["id"]: exercise for exercise in report["exercises"]}
    assert exercises["90.1"]["score"] == 1.0


def test_once_the_timeout_budget_is_spent_no_more_tests_run() -> None:
    """After the run spent its budget in tests that ran to a full timeout, every test left is
    not run, saying why (a loop met again and stopped early does not count against it)."""
    _, report = grade(STUCK, timeout=3, cpu_timeout=0, timeout_budget=1)
    assert report["status"] == "graded", report["tampering"]  # what was seen, if tampered
    failed = failures(report)
    assert failed[FIRST]["kind"] == "timeout"
    for name in ["test_greeting_starts_with_hello[ada]", "test_a_blank_name_is_world"]:
        assert failed[name]["kind"] == "not_run"
        assert failed[name]["message"].startswith(
            f"not run: the run's time for timeouts is spent (3 s in 1 test stopped by a "
            f"full timeout, the last {FIRST})"
        )


def test_reference_passes_the_loop_suite() -> None:
    """Without the loop, every test of the loop suite passes (the suite itself is sound)."""
    _, report = grade(LOOPS.reference)
    assert (report["totals"]["score"], report["stage_tests"]["score"]) == (1.0, 1.0)


def test_grading_settings_cap_a_hypothesis_test_and_keep_its_own() -> None:
    """The grader's hypothesis settings take effect: at most N examples, no database,
    derandomized, no explain phase; the deadline the test chose is kept."""
    calls = []

    @settings(max_examples=200, deadline=None)
    @given(st.integers())
    def test_counted(number: int) -> None:
        calls.append(number)

    class Item:
        obj = test_counted

    plugin.use_grading_settings(Item(), 7)  # type: ignore[arg-type]
    chosen = test_counted._hypothesis_internal_use_settings  # type: ignore[attr-defined]
    assert (chosen.max_examples, chosen.database, chosen.derandomize, chosen.deadline) == (
        7,
        None,
        True,
        None,
    )
    assert "explain" not in {phase.name for phase in chosen.phases}
    test_counted()
    assert 0 < len(calls) <= 7

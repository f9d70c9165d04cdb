"""One grade split across child processes (``runner.run_suite(shards=...)``).

``fixtures/suite_90_greeter_shards`` is the fixture stage's suite in three
files (one per exercise), so a run of it splits into two or three shards.
Its conftest makes a file's first test block for ever when
``WORKBOOK_FIXTURE_HANG`` names the file: a hung shard.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from workbook.grader import cli, runner
from workbook.grader.report import build_report, to_json
from workbook.grader.runner import Run, Suite, grade_run, run_suite, shard_count, split_files

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUITE = Suite("90_greeter", FIXTURES / "90_greeter", FIXTURES / "suite_90_greeter_shards")
ALICE = FIXTURES / "submissions" / "alice"
FILES = ["test_greetings.py", "test_names.py", "test_requests.py"]

pytestmark = pytest.mark.timeout(120)


def outcomes(run: Run) -> list[tuple[str, str, str | None, Any, Any]]:
    """Return what a grade rests on, per test, in the run's order."""
    return [
        (
            test.nodeid,
            test.outcome,
            test.phase,
            test.details.get("kind"),
            test.details.get("message"),
        )
        for test in run.tests
    ]


def file_of(nodeid: str) -> str:
    return nodeid.partition("::")[0].rpartition("/")[2]


def test_shards_hold_whole_files_of_the_suite_once() -> None:
    """Every test file of every stage goes to exactly one shard, in the suite's order."""
    for suite in [SUITE, *Suite.registered()]:
        files = runner.suite_files(suite)
        for count in (2, 3):
            shares = split_files(suite, count)
            assert len(shares) == min(count, len(files))
            flat = [path for share in shares for path in share or []]
            assert sorted(flat) == files
            for share in shares:
                assert share == sorted(share or [])


def test_shards_are_balanced_by_the_weights_table() -> None:
    """Longest first to the lightest shard: no shard outweighs another by more than its
    lightest file's weight (or by more than the heaviest file, which sits alone)."""
    for suite in Suite.registered():
        files = runner.suite_files(suite)
        weights = runner.file_weights(suite, files)
        loads = sorted(
            sum(weights[path] for path in share or []) for share in split_files(suite, 2)
        )
        assert loads[1] - loads[0] <= max(weights.values()) + 1e-9


def test_a_file_missing_from_the_table_is_weighed_by_its_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a table entry, a file weighs its count of tests times the stage's s/test.

    With one, its tests' seconds plus the grader's own per-test cost."""
    table = tmp_path / "weights.json"
    monkeypatch.setattr(runner, "SHARD_WEIGHTS", table)
    files = runner.suite_files(SUITE)
    assert runner.file_weights(SUITE, files) == dict(zip(files, [1.0, 1.0, 3.0], strict=True))
    seconds = 6.0 - 3 * runner.PER_TEST_SECONDS  # with the grader's cost: 6 s, 2 s a test
    table.write_text(
        json.dumps({SUITE.name: {"test_requests.py": {"seconds": seconds, "tests": 3}}}),
        encoding="utf-8",
    )
    assert runner.file_weights(SUITE, files) == pytest.approx(
        dict(zip(files, [2.0, 2.0, 6.0], strict=True))
    )


def test_the_shard_count_is_chosen_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """--shards wins; a batch runs one child per submission; else up to two, one per core."""
    assert shard_count(3) == 3
    assert shard_count(0) == 1
    assert shard_count(None, batch=True) == 1
    assert shard_count(None) == min(runner.MAX_SHARDS, len(os.sched_getaffinity(0)))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert shard_count(None) == 1


def test_the_command_line_passes_its_shard_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``grade N PATH`` shards by default, ``--shards 1`` does not, a batch never does."""
    seen: list[int] = []
    real = cli.grade_run

    def spy(*args: Any, **kwargs: Any) -> Run:
        seen.append(kwargs["shards"])
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "grade_run", spy)
    monkeypatch.setattr(cli.Suite, "of", classmethod(lambda cls, stage: SUITE))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert cli.main("grade", ["90", str(ALICE), "--no-sandbox"]) == 1
    assert cli.main("grade", ["90", str(ALICE), "--no-sandbox", "--shards", "1"]) == 1
    batch = tmp_path / "class"
    shutil.copytree(ALICE, batch / "alice")
    csv = tmp_path / "grades.csv"
    assert cli.main("grade", ["90", "--batch", str(batch), "--csv", str(csv), "--no-sandbox"]) == 0
    assert seen == [shard_count(None), 1, 1]


def test_a_sharded_run_gives_the_same_outcomes_as_one_child() -> None:
    """Split in two or three, a run scores every test as one child does, in the same order."""
    alone = grade_run(SUITE, ALICE, shards=1)
    assert [file_of(test.nodeid) for test in alone.tests] == sorted(
        file_of(test.nodeid) for test in alone.tests
    )
    assert {file_of(test.nodeid) for test in alone.tests} == set(FILES)
    report = to_json(build_report(SUITE.name, "alice", SUITE.regions(), alone))
    for shards in (2, 3):
        run = grade_run(SUITE, ALICE, shards=shards)
        assert outcomes(run) == outcomes(alone)
        assert (run.tampered, run.stopped, run.collect_errors) == ([], None, [])
        assert run.exit_status == alone.exit_status == 1
        assert run.output.count("── shard ") == shards
        assert to_json(build_report(SUITE.name, "alice", SUITE.regions(), run)) == report


def test_progress_counts_the_tests_of_every_shard() -> None:
    """The progress callback gets the sum over the shards, ending at all tests finished."""
    seen: list[tuple[int, int]] = []
    run = grade_run(SUITE, SUITE.reference, shards=2, progress=lambda *pair: seen.append(pair))
    assert [test.outcome for test in run.tests] == ["passed"] * 8
    # The last report may come before the last records: none is above what was collected.
    assert seen and all(finished <= collected for finished, collected in seen)
    assert max(collected for _, collected in seen) >= 8  # the tests and the canaries


def test_a_forged_shard_marks_the_whole_run_tampered(tmp_path: Path) -> None:
    """A forgery in code that only one shard's tests call is caught, and voids the grade."""
    folder = tmp_path / "alice"
    shutil.copytree(ALICE, folder)
    app = folder / "greeter" / "app.py"
    app.write_text(
        app.read_text().replace(
            '    raise NotImplementedError("exercise 90.3: Answer a request — see README")',
            "    import _pytest.reports as reports\n"
            "    made = reports.TestReport.__init__\n"
            "    def forged(self, *args, **kwargs):\n"
            "        made(self, *args, **kwargs)\n"
            '        self.outcome, self.longrepr = "passed", None\n'
            "    reports.TestReport.__init__ = forged\n"
            "    return []",
        )
    )
    run = grade_run(SUITE, folder, shards=3)
    assert run.tampered
    assert build_report(SUITE.name, "alice", SUITE.regions(), run).status == "tampered"
    # The other shards ran as usual.
    names = {test.name: test.outcome for test in run.tests}
    assert names["test_greetings.py::test_greeting[grace-True-Hello, Grace!]"] == ("failed")


def test_a_hung_shard_is_stopped_by_the_total_timeout_and_the_others_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One shard blocks for ever: the total timeout stops it; the other shard's scores stand."""
    monkeypatch.setenv("WORKBOOK_FIXTURE_HANG", "test_requests")
    began = time.monotonic()
    run = grade_run(SUITE, SUITE.reference, shards=2, timeout=0, total_timeout=15)
    assert time.monotonic() - began < 15 + 2 * runner.STOP_GRACE + 10
    assert run.stopped == "the grading run was stopped after 15 s"
    by_file: dict[str, list[str]] = {}
    for test in run.tests:
        by_file.setdefault(file_of(test.nodeid), []).append(
            test.outcome if test.outcome == "passed" else test.details["kind"]
        )
    assert by_file == {
        "test_greetings.py": ["passed"] * 2,
        "test_names.py": ["passed"] * 3,
        "test_requests.py": ["not_run"] * 3,
    }
    assert not run.tampered


def test_ctrl_c_stops_every_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``runner.stopping`` (a batch's Ctrl-C) ends the run and both shards' processes."""
    monkeypatch.setenv("WORKBOOK_FIXTURE_HANG", "test_greetings,test_names,test_requests")
    monkeypatch.setenv("WORKBOOK_FIXTURE_PIDS", str(tmp_path))
    shares = split_files(SUITE, 2)
    expected = {f"{(share or [])[0].stem}.pid" for share in shares}  # each shard's first file

    def interrupt() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if {path.name for path in tmp_path.glob("*.pid")} >= expected:
                break
            time.sleep(0.05)
        runner.stopping.set()

    threading.Thread(target=interrupt, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_suite(SUITE, SUITE.reference, shards=2, timeout=0, total_timeout=100)
    finally:
        runner.stopping.clear()
    pids = [int(path.read_text()) for path in tmp_path.glob("*.pid")]
    assert {path.name for path in tmp_path.glob("*.pid")} == expected
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_shard_that_ends_without_a_word_fails_its_files_tests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shard whose process exits before reporting leaves its files' tests failed, not gone."""
    monkeypatch.setenv("WORKBOOK_FIXTURE_EXIT", "test_requests")
    run = grade_run(SUITE, SUITE.reference, shards=2)
    kinds = {test.name: test.details.get("kind") for test in run.tests if test.outcome == "failed"}
    assert kinds == {
        "test_requests.py::test_get_hello_answers_the_greeting": "not_loaded",
        "test_requests.py::test_other_paths_are_not_found": "not_loaded",
        "test_requests.py::test_post_is_not_allowed": "not_loaded",
    }
    assert len(run.tests) == 8

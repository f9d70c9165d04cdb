"""The benchmark results travel as typed dataclasses, and ``results.json`` keeps its shape.

``workbook.bench.results`` holds what a run measured; these tests pin that a
committed ``results.json`` (written before the dataclasses existed) loads
and redraws, that a save and a load give back the same results, and that a
damaged file is refused with the name of the bad field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbook.bench import cli, report
from workbook.bench.results import (
    EndpointSummary,
    LoadRun,
    Results,
    RouterSize,
    SoakResult,
    from_json,
    load,
    to_json,
)
from workbook.stages import REPO

COMMITTED = REPO / "bench" / "results" / "results.json"


@pytest.fixture(scope="module")
def committed() -> Results:
    """The committed run of bench/results/, read as typed results."""
    return load(COMMITTED)


def test_the_committed_results_load_as_typed_dataclasses(committed: Results) -> None:
    """Every part of the committed file becomes its dataclass, down to each load run."""
    summary = next(iter(committed.scenarios["asgi"].targets.values())).endpoints["hello"]
    assert isinstance(summary, EndpointSummary) and isinstance(summary.runs[0], LoadRun)
    assert isinstance(committed.routers["bare"].sizes["1000"], RouterSize)
    assert all(isinstance(soak, SoakResult) for soak in committed.soak.values())
    assert committed.goals and all(goal.status for goal in committed.goals)


def test_a_save_and_a_load_give_back_the_same_results(committed: Results) -> None:
    """to_json then from_json is the identity on the results."""
    assert from_json(to_json(committed)) == committed


def test_the_json_keeps_the_keys_the_committed_file_has(committed: Results) -> None:
    """Saving adds keys (an explicit null error, a default part) but never drops one."""

    def keys(value: object, path: str = "") -> set[str]:
        if isinstance(value, dict):
            return {f"{path}/{key}" for key in value} | {
                found for key, item in value.items() for found in keys(item, f"{path}/{key}")
            }
        if isinstance(value, list) and value:
            return keys(value[0], f"{path}/0")
        return set()

    before = keys(json.loads(COMMITTED.read_text()))
    after = keys(json.loads(to_json(committed)))
    assert before - after == set()


def test_a_soak_that_could_not_run_loads_with_only_its_error() -> None:
    """An older file's soak entry with only label, server and error takes the defaults."""
    data = json.loads(COMMITTED.read_text())
    data["soak"]["bare"] = {"label": "bare", "server": "uvicorn", "error": "did not start"}
    results = from_json(json.dumps(data))
    assert (results.soak["bare"].error, results.soak["bare"].rss_growth) == ("did not start", None)
    goal = next(goal for goal in report.soak_goals(results) if "soak bare" in goal.goal)
    assert (goal.met, goal.measured) == (None, "did not start")


def test_a_field_of_the_wrong_type_is_refused_by_name() -> None:
    """A damaged file fails on load, naming the field, not deep inside a table."""
    data = json.loads(COMMITTED.read_text())
    data["routers"]["bare"]["sizes"]["10"]["hit_us"] = "fast"
    with pytest.raises(ValueError, match=r"routers\.bare\.sizes\.10\.hit_us"):
        from_json(json.dumps(data))


def test_report_redraws_the_committed_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`bench --report --out DIR` redraws the table from a results.json without measuring.

    The plots are left out here (matplotlib takes most of a minute on a busy
    machine); tests/bench/test_bench_quick.py checks that each one is drawn.
    """
    monkeypatch.setattr(report, "plot_all", lambda results, folder: [])
    (tmp_path / "results.json").write_text(COMMITTED.read_text())
    assert cli.main("bench", ["--report", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "RESULTS.md").read_text()
    assert "## Goals" in table and "## Router scaling (in process)" in table
    # The goals are evaluated again (a goal added since the run reads "not measured");
    # each goal the committed run measured gets the same ratio back.
    redrawn = {goal.goal: goal.ratio for goal in load(tmp_path / "results.json").goals}
    measured = {goal.goal: goal.ratio for goal in load(COMMITTED).goals if goal.ratio is not None}
    assert measured and all(redrawn[name] == ratio for name, ratio in measured.items())

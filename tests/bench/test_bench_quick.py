"""``bench --quick`` runs every scenario once, so the benchmark harness cannot rot.

One quick run (seconds, not minutes) is shared by the tests below; each
checks one promise of the harness: every server started, every endpoint
answered 200 with the right body, every load run parsed, every goal and
router was evaluated, and the table and plots were written. None of them
judges a goal: quick durations are far too short for that.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbook.bench.load import parse_report
from workbook.bench.report import PLOTS
from workbook.bench.results import Results, load
from workbook.bench.routers import ROUTERS
from workbook.bench.scenarios import SCENARIOS, SOAK_TARGETS
from workbook.stages import REPO

#: A bound on the whole ``bench --quick`` run (seconds), there only so that a hang
#: fails: about 60 s on a quiet 2-core machine, but 294 s at a load average of 20.
QUICK_TIMEOUT = 600

TARGETS = [(scenario.key, target.key) for scenario in SCENARIOS for target in scenario.targets]


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run ``python -m workbook bench --quick`` once; return the process and its folder."""
    folder = tmp_path_factory.mktemp("bench-quick")
    completed = subprocess.run(
        [sys.executable, "-m", "workbook", "bench", "--quick", "--out", str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT - 20,
    )
    return completed, folder


@pytest.fixture(scope="module")
def results(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> Results:
    """The quick run's results.json, read back as typed results (the read checks every field)."""
    completed, folder = quick_run
    path = folder / "results.json"
    assert path.exists(), f"no results.json; output:\n{completed.stdout}\n{completed.stderr}"
    return load(path)


@pytest.mark.timeout(QUICK_TIMEOUT)
def test_quick_run_reports_harness_ok(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """`bench --quick` exits 0 and says the harness works."""
    completed, _ = quick_run
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "bench --quick: harness OK" in completed.stdout


@pytest.mark.timeout(QUICK_TIMEOUT)
@pytest.mark.parametrize(("scenario", "target"), TARGETS, ids=[f"{s}-{t}" for s, t in TARGETS])
def test_every_target_served_every_endpoint(results: Results, scenario: str, target: str) -> None:
    """Every target started, answered each endpoint with 200; its load run completed requests."""
    measured = results.scenarios[scenario].targets[target]
    expected = list(results.scenarios[scenario].endpoints)
    assert sorted(measured.endpoints) == sorted(expected), measured.log_tail
    requests = {key: entry.runs[0].requests for key, entry in measured.endpoints.items()}
    assert all(count > 0 for count in requests.values()), requests


@pytest.mark.timeout(QUICK_TIMEOUT)
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="server CPU time is read from /proc")
def test_server_cpu_per_request_is_recorded(results: Results) -> None:
    """Each load run also records what a request cost the server in CPU time."""
    missing = [
        f"{scenario}/{target}/{endpoint}"
        for scenario, entry in results.scenarios.items()
        for target, measured in entry.targets.items()
        for endpoint, summary in measured.endpoints.items()
        if not summary.cpu_us_per_request
    ]
    assert missing == []


@pytest.mark.timeout(QUICK_TIMEOUT)
@pytest.mark.parametrize("target", [target.key for target in SOAK_TARGETS])
def test_soak_measures_memory_and_errors(results: Results, target: str) -> None:
    """The soak loads each target, and records its memory before and after."""
    soak = results.soak[target]
    assert soak.error is None
    assert soak.requests > 0
    assert soak.rss_after_warmup_kib > 0 and soak.rss_after_kib > 0


FRAMEWORKS = [(s, t) for s, t in TARGETS if s in {"asgi", "wsgi"}]


@pytest.mark.timeout(QUICK_TIMEOUT)
@pytest.mark.parametrize(
    ("scenario", "target"), FRAMEWORKS, ids=[f"{s}-{t}" for s, t in FRAMEWORKS]
)
def test_framework_cost_is_timed_in_process(results: Results, scenario: str, target: str) -> None:
    """Every framework app is also called in process, each endpoint answering 200."""
    entry = results.inprocess[scenario].targets[target]
    assert entry.error is None
    assert sorted(entry.endpoints) == sorted(results.scenarios[scenario].endpoints)


@pytest.mark.timeout(QUICK_TIMEOUT)
@pytest.mark.parametrize("router", [router.key for router in ROUTERS])
def test_router_scaling_times_every_size(results: Results, router: str) -> None:
    """Every router is timed at 10, 100 and 1,000 routes, hit and miss."""
    entry = results.routers[router]
    assert entry.error is None
    assert sorted(entry.sizes, key=int) == ["10", "100", "1000"]
    assert all(size.hit_us > 0 and size.miss_us > 0 for size in entry.sizes.values())


@pytest.mark.timeout(QUICK_TIMEOUT)
def test_multipart_parsers_are_timed(results: Results) -> None:
    """bare_forms' multipart parser and python-multipart are both timed on the same body."""
    targets = results.multipart.targets
    assert sorted(targets) == ["bare_forms", "python-multipart"]
    assert all(entry.error is None and (entry.mb_per_s or 0) > 0 for entry in targets.values())


@pytest.mark.timeout(QUICK_TIMEOUT)
def test_every_goal_gets_a_ratio(results: Results) -> None:
    """Each goal is evaluated to a number (met or not is for the full run to say)."""
    unmeasured = [goal.goal for goal in results.goals if goal.ratio is None]
    assert unmeasured == []


@pytest.mark.timeout(QUICK_TIMEOUT)
@pytest.mark.parametrize("name", ["RESULTS.md", *PLOTS])
def test_table_and_plots_are_written(
    quick_run: tuple[subprocess.CompletedProcess[str], Path], name: str
) -> None:
    """The Markdown table and every plot (a real PNG) land in the results folder."""
    _, folder = quick_run
    path = folder / name
    assert path.exists()
    if name.endswith(".png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert "## Goals" in path.read_text()


def test_wrk_report_line_is_parsed() -> None:
    """The JSON line printed by wrk/report.lua becomes a LoadResult in ms and req/s."""
    line = (
        'WRK_JSON {"requests": 5000, "duration_us": 2000000, "bytes": 1, '
        '"errors": {"connect": 0, "read": 1, "write": 0, "timeout": 2, "status": 3}, '
        '"latency_us": {"mean": 1500.0, "p50": 1000, "p75": 1200, "p90": 2000, '
        '"p99": 4000, "p99.9": 5000, "max": 9000}}'
    )
    result = parse_report("Running 2s test @ http://127.0.0.1:1/\n" + line + "\n")
    assert (result.rps, result.error_count, result.latency_ms["p99"]) == (2500.0, 6, 4.0)


def test_output_without_report_line_is_an_error() -> None:
    """A load client that printed no report is a clear error, not a zero."""
    with pytest.raises(ValueError, match="WRK_JSON"):
        parse_report("unable to connect to 127.0.0.1:1 Connection refused\n")

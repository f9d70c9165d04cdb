"""The benchmarks leave nothing in the temporary directory (`make bench-quick` did, each run)."""

from __future__ import annotations

import argparse
import gc
from pathlib import Path

import pytest

from workbook.bench import cli
from workbook.bench.load import Wrk


def test_bench_quick_removes_its_results_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --out, the quick run writes into a temporary folder that is removed when it ends."""
    used: list[Path] = []

    def fake_run(options: argparse.Namespace) -> int:
        used.append(options.out)
        (options.out / "results.json").write_text("{}")
        return 0

    monkeypatch.setattr(cli, "run", fake_run)
    assert cli.main("bench", ["--quick"]) == 0
    assert used and used[0].name.startswith("bench-quick-") and not used[0].exists()


def test_bench_quick_with_out_keeps_the_results(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--out DIR is the learner's folder: it is used as given and kept."""
    monkeypatch.setattr(cli, "run", lambda options: int(options.out != tmp_path))
    assert cli.main("bench", ["--quick", "--out", str(tmp_path)]) == 0
    assert tmp_path.is_dir()


def test_wrk_scripts_are_removed_with_the_client() -> None:
    """The Lua scripts wrk is given live in a folder removed with the client."""
    client = Wrk("wrk")
    folder = client.script(rotating=True).parent
    assert folder.is_dir()
    del client
    gc.collect()
    assert not folder.exists()

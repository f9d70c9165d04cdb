"""``trace N --beside``: each stage beside the production system it mirrors.

Two guards against a trace that silently thins out: every pattern of every
layer table (the stages' profiles, and both sides of each comparison) must
name code that exists, checked without running anything
(``workbook.tracer.resolve``, as every tracer checks its own table); and a
real run of each comparison must reach every layer its map names.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import sys
from pathlib import Path

import pytest

from workbook.stages import activate
from workbook.tracer.beside import (
    COMPARISONS,
    MapRow,
    Measured,
    NamedTable,
    beside,
    every_layer_table,
    self_times,
)
from workbook.tracer.cli import main
from workbook.tracer.layers import Layer
from workbook.tracer.profiles import prepared
from workbook.tracer.resolve import MissingLayer, missing_layers, resolve

EVERY_COMPARISON = [comparison for found in COMPARISONS.values() for comparison in found]
TABLES = every_layer_table()


@pytest.mark.parametrize("table", TABLES, ids=[table.name for table in TABLES])
def test_every_pattern_of_every_layer_table_names_a_function(table: NamedTable):
    """Each pattern of a layer table (a stage's, or a production system's at its pinned
    version) names a function of the reference code: a rename fails here, by name,
    instead of drawing a thinner trace. Checked as the tracer checks it, with the
    table's stage activated (stage 06 on its throwaway database)."""
    activate(table.stage.stage)
    with prepared(table.stage):
        importlib.import_module(table.stage.app.partition(":")[0])
        missing = missing_layers(table.layers)
    assert missing == [], "\n".join(entry.sentence() for entry in missing)


def test_the_tables_checked_include_the_comparisons_extra_layers():
    """The beside sides add layers of their own (stage 04's WebSocket server, gunicorn
    under stage 06): those are checked too, not only the stage profiles."""
    checked = {pattern for table in TABLES for layer in table.layers for pattern in layer.patterns}
    assert "rawasgi.websocket:accept_key" in checked
    assert {
        pattern
        for comparison in EVERY_COMPARISON
        for side in (comparison.ours, comparison.theirs)
        for layer in side.layers
        for pattern in layer.patterns
    } <= checked


def test_the_resolver_finds_nested_functions_and_refuses_a_rename():
    """resolve() sees what the recorder sees (co_qualname), and nothing that is not there."""
    assert resolve("wsgirouter.example:create_app.<locals>.get_book") == [
        "wsgirouter.example:create_app.<locals>.get_book"
    ]
    assert resolve("werkzeug.routing.map:MapAdapter.matches_renamed") == []


def test_the_resolver_reads_a_source_file_again_when_it_changes(tmp_path, monkeypatch):
    """A copy edited while the process runs (a learner renames a function between two
    traces in a notebook) is read again: the cache is per file and modification time."""
    module = tmp_path / "renamable_layer_module.py"
    module.write_text("def before():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert resolve("renamable_layer_module:before") == ["renamable_layer_module:before"]
    module.write_text("def after():\n    pass\n")
    changed = module.stat().st_mtime_ns + 1_000_000_000
    os.utime(module, ns=(changed, changed))
    assert resolve("renamable_layer_module:before") == []
    assert missing_layers([Layer("handler", "renamable_layer_module:before")]) == [
        MissingLayer("handler", "handler", "renamable_layer_module:before")
    ]


def test_a_module_without_a_source_file_is_not_reported_missing(monkeypatch):
    """A notebook's cells run in a __main__ with no file ("__main__:fail" in notebook 05):
    nothing can be read, so nothing is reported; a module no import can find is."""
    import types

    monkeypatch.setitem(sys.modules, "notebook_cells", types.ModuleType("notebook_cells"))
    assert missing_layers([Layer("handler", "notebook_cells:fail")]) == []
    assert missing_layers([Layer("handler", "no_such_stage_module:fail")]) == [
        MissingLayer("handler", "handler", "no_such_stage_module:fail")
    ]


def unmatched(measured: Measured, rows: tuple[MapRow, ...], side: str) -> list[str]:
    """Return the map patterns of one side that matched no span of its traces."""
    keys = {key for trace in measured.traces for key, _ in self_times(trace)}
    return [
        pattern
        for row in rows
        for pattern in getattr(row, side)
        if not any(fnmatch.fnmatchcase(key, pattern) for key in keys)
    ]


@pytest.mark.parametrize(
    "comparison", EVERY_COMPARISON, ids=[f"{c.stage}-{c.system}" for c in EVERY_COMPARISON]
)
def test_both_sides_answer_and_reach_every_layer_the_map_names(comparison):
    """The same request gets the same answer on both sides (a 2xx, or 101 for a WebSocket
    handshake), and each map row's layers show up in the trace."""
    result = beside(comparison.stage, comparison.system, repeat=1, cost_repeat=2)
    for measured in (result.ours, result.theirs):
        status = measured.trace.status or 0
        assert status == comparison.status or (comparison.status == 200 and 200 <= status < 300), (
            measured.trace.timeline(width=200)
        )
    assert unmatched(result.ours, comparison.rows, "ours") == []
    assert unmatched(result.theirs, comparison.rows, "theirs") == []
    assert result.ours.untraced_ms > 0 and result.theirs.traced_ms > 0


@pytest.mark.parametrize("stage", sorted(COMPARISONS))
def test_trace_beside_prints_both_timelines_and_the_map(stage, capsys):
    """`trace N --beside --in-process` prints our timeline, theirs, and the map table."""
    assert main("trace", [str(stage), "--beside", "--in-process", "--width", "200"]) == 0
    out = capsys.readouterr().out
    system = COMPARISONS[stage][0].system
    assert f"beside {system}:" in out and "in process" in out
    assert "The map: our layer beside theirs" in out and "Tracer cost" in out
    assert out.count(" -> 2") >= 2  # both headlines: a 2xx answer


def test_trace_beside_names_the_systems_it_knows(capsys):
    """An unknown counterpart is refused with the list of known ones."""
    assert main("trace", ["1", "--beside", "nginx"]) == 2
    assert "gunicorn, wsgiref" in capsys.readouterr().err


def test_the_map_table_renders_as_markdown():
    """The notebook's table: a header, one row per map row, the tracer's cost below."""
    result = beside(2, repeat=1, cost_repeat=2)
    lines = result.map_markdown().splitlines()
    assert lines[0].startswith("| stage 02 | Werkzeug |")
    assert len([line for line in lines if line.startswith("| ")]) == 1 + len(result.comparison.rows)
    assert lines[-1].startswith("Tracer cost")


HTTP_COMPARISONS = [comparison for comparison in EVERY_COMPARISON if comparison.status == 200]


@pytest.mark.parametrize(
    "comparison", HTTP_COMPARISONS, ids=[f"{c.stage}-{c.system}" for c in HTTP_COMPARISONS]
)
def test_the_other_transport_works_too(comparison):
    """An HTTP comparison runs in process and over a socket: here, the one not run by default."""
    result = beside(
        comparison.stage, comparison.system, wire=not comparison.wire, repeat=1, cost_repeat=1
    )
    assert result.transport == ("in process" if comparison.wire else "socket")
    for measured in (result.ours, result.theirs):
        assert 200 <= (measured.trace.status or 0) < 300, measured.trace.timeline(width=200)
    if not comparison.wire:
        assert result.theirs.trace.response_bytes.startswith(b"HTTP/1.1 2")


def test_beside_writes_both_diagrams_and_json(tmp_path, capsys):
    """--svg FILE writes ours to FILE, theirs beside it; --json prints both traces and the map."""
    from xml.etree import ElementTree

    target = tmp_path / "trace.svg"
    assert main("trace", ["2", "--beside", "--svg", str(target)]) == 0
    for path in (target, tmp_path / "trace-beside.svg"):
        assert ElementTree.parse(path).getroot().get("role") == "img"
    capsys.readouterr()
    assert main("trace", ["2", "--beside", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["ours"]["stage"], data["theirs"]["stage"]) == ("stage 02", "Werkzeug")
    assert data["map"][0]["theirs"].startswith("Map.bind_to_environ")


def test_the_resolver_leaves_stage_06_on_a_throwaway_database():
    """Importing the stages as the resolver's fixture does gives core a temporary database.

    Run in a fresh interpreter: in this process another suite (tests/06_roob)
    may have imported ``core`` first, which would make the check meaningless.
    """
    import subprocess
    import sys

    from workbook.stages import stage_dir

    script = (
        "import importlib, sys\n"
        "from workbook.stages import activate\n"
        "from workbook.tracer.profiles import PROFILES, prepared\n"
        "for profile in PROFILES.values():\n"
        "    activate(profile.stage)\n"
        "    with prepared(profile):\n"
        "        importlib.import_module(profile.app.partition(':')[0])\n"
        "print(sys.modules['core'].database.path.resolve())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    database = Path(done.stdout.strip().splitlines()[-1])
    assert stage_dir(6).resolve() not in database.parents, database

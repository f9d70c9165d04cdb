"""``trace N --beside``: each stage beside the production system it mirrors.

Two guards against a trace that silently thins out: every pattern of every
layer table (the stages' and the production systems') must name code that
exists, checked without running anything (``workbook.tracer.resolve``); and
a real run of each comparison must reach every layer its map names.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
from pathlib import Path

import pytest

from workbook.stages import activate
from workbook.tracer.beside import COMPARISONS, MapRow, Measured, beside, self_times
from workbook.tracer.cli import main
from workbook.tracer.profiles import PROFILES, prepared
from workbook.tracer.resolve import resolve

EVERY_COMPARISON = [comparison for found in COMPARISONS.values() for comparison in found]


def patterns(layers, *, external):
    return sorted(
        {pattern for layer in layers if layer.external == external for pattern in layer.patterns}
    )


PRODUCTION = sorted(
    {
        (pattern, comparison.system)
        for comparison in EVERY_COMPARISON
        for side in (comparison.ours, comparison.theirs)
        for pattern in patterns(side.layers, external=True)
    }
)
OURS = sorted(
    {
        pattern
        for profile in PROFILES.values()
        for pattern in patterns(profile.layers, external=False)
    }
    | {
        pattern
        for comparison in EVERY_COMPARISON
        for pattern in patterns(comparison.theirs.layers, external=False)
    }
)


@pytest.fixture(scope="module", autouse=True)
def every_stage_importable():
    """Put every reference stage on the path and import its app, as the tracer does.

    Finding ``core.product_controller`` imports the ``core`` package: it must
    happen inside the stage's ``prepared`` context, or ``core`` would keep
    the stage's own ``products.db`` for every later test in this process.
    """
    for profile in PROFILES.values():
        activate(profile.stage)
        with prepared(profile):
            importlib.import_module(profile.app.partition(":")[0])


@pytest.mark.parametrize(
    "pattern, system", PRODUCTION, ids=[f"{system}:{pattern}" for pattern, system in PRODUCTION]
)
def test_every_production_function_a_layer_table_names_exists_in_the_pinned_version(
    pattern, system
):
    """A production layer names functions of the installed (pinned) library: a rename fails here."""
    assert resolve(pattern), f"{pattern!r} ({system}) names no function in the installed version"


@pytest.mark.parametrize("pattern", OURS)
def test_every_pattern_naming_our_stage_functions_resolves_in_the_reference(pattern):
    """Each stage-code pattern of a layer table names a function of the reference stages."""
    assert resolve(pattern), f"{pattern!r} names no function in stages/ (renamed?)"


def test_the_resolver_finds_nested_functions_and_refuses_a_rename():
    """resolve() sees what the recorder sees (co_qualname), and nothing that is not there."""
    assert resolve("wsgirouter.example:create_app.<locals>.get_book") == [
        "wsgirouter.example:create_app.<locals>.get_book"
    ]
    assert resolve("werkzeug.routing.map:MapAdapter.matches_renamed") == []


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

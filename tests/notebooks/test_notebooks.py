"""The notebooks: one per stage, executed top to bottom, committed with their outputs.

Each notebook runs in a fresh kernel (the venv's ``python3`` kernel) through
``python -m workbook notebooks --check NAME`` in a child process, exactly as
``make notebooks`` runs it, but writing nothing back. The committed copies
are checked for what a reader on a code host needs: outputs present, no
errors, no paths of the machine that ran them, a size that loads quickly.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbook.notebooks import NOTEBOOKS, notebook_paths
from workbook.stages import REPO, STAGES

PATHS = notebook_paths()
NAMES = [path.stem for path in PATHS]
#: A notebook larger than this is slow to open on a code host.
MAX_BYTES = 300_000
#: Seconds for running all the notebooks: about 40 on an idle 2-core machine (each
#: notebook's "Beside" section traces a production system too), 100 with two busy
#: loops beside them.
RUN_TIMEOUT = 300


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def outputs_text(path) -> str:
    parts = []
    for cell in cells(path):
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            parts += ["".join(value) if isinstance(value, list) else str(value)
                      for value in output.get("data", {}).values()]
            parts += output.get("traceback", [])
    return "\n".join(parts)


def test_there_is_one_notebook_per_stage():
    """notebooks/ holds NN_name.ipynb for each of the six stages."""
    assert NAMES == sorted(STAGES.values())


@pytest.fixture(scope="module")
def fresh_run() -> subprocess.CompletedProcess[str]:
    """Run every notebook once, as ``make notebooks`` does, without writing them back."""
    return subprocess.run(
        [sys.executable, "-m", "workbook", "notebooks", "--check"],
        cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )


@pytest.mark.timeout(RUN_TIMEOUT + 10)
@pytest.mark.parametrize("name", NAMES)
def test_the_notebook_runs_top_to_bottom_in_a_fresh_kernel(fresh_run, name):
    """Every cell of the notebook executes without an error, offline, in a new kernel."""
    failure = next((part for part in fresh_run.stderr.split("FAIL  ")[1:] if part.startswith(name)), "")
    assert f"ran   notebooks/{name}.ipynb" in fresh_run.stdout, failure[-4000:] or fresh_run.stderr[-4000:]


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_the_committed_notebook_carries_the_outputs_of_a_full_run(path):
    """Every code cell was executed, in order, and none of them ended in an error."""
    code = [cell for cell in cells(path) if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in code] == list(range(1, len(code) + 1))
    errors = [output for cell in code for output in cell["outputs"] if output["output_type"] == "error"]
    assert errors == []


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_the_committed_notebook_shows_a_timeline_a_diagram_and_the_bytes(path):
    """The outputs hold a text timeline, an SVG sequence diagram and a socket trace."""
    kinds = {kind for cell in cells(path) for output in cell.get("outputs", [])
             for kind in output.get("data", {})}
    text = outputs_text(path)
    assert "image/svg+xml" in kinds
    assert "T+ms" in text and "client → server" in text


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_the_notebook_opens_with_the_chapters_question(path):
    """The first cell is markdown that states the chapter's question."""
    first = cells(path)[0]
    assert first["cell_type"] == "markdown" and "question" in "".join(first["source"])


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_the_committed_outputs_hold_no_machine_paths(path):
    """Outputs name files relative to the repo, never by this machine's absolute paths."""
    text = outputs_text(path)
    found = [marker for marker in (str(REPO), "/tmp/", "/home/", "/root/") if marker in text]
    assert found == []


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_the_committed_notebook_is_small_enough_to_read_online(path):
    """A committed notebook stays under 300 kB."""
    assert path.stat().st_size < MAX_BYTES


def test_the_notebooks_folder_is_the_one_the_runner_uses():
    """make notebooks runs the notebooks of this folder."""
    assert all(path.parent == NOTEBOOKS for path in PATHS)


def diagrams(path):
    """Return each diagram output's data: its SVG and the rest of its mime bundle."""
    return [output["data"] for cell in cells(path) for output in cell.get("outputs", [])
            if "image/svg+xml" in output.get("data", {})]


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_every_diagram_fits_the_column_and_has_a_text_alternative(path):
    """Each SVG is at most 900 px wide, says what it shows, and comes with an HTML form for nbconvert."""
    from xml.etree import ElementTree

    found = diagrams(path)
    assert found
    for data in found:
        svg = "".join(data["image/svg+xml"])
        root = ElementTree.fromstring(svg)
        assert float(root.get("width")) <= 900
        assert root.get("role") == "img" and root.get("aria-label", "").startswith("Sequence diagram")
        assert "".join(data.get("text/html", "")) == svg  # nbconvert renders this one, no bare <img>


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_the_warm_up_prints_nothing(path):
    """The set-up cell's warm-up request is silent: no log line in a stderr box."""
    first_code = next(cell for cell in cells(path) if cell["cell_type"] == "code")
    assert [output for output in first_code["outputs"] if output.get("name") == "stderr"] == []


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_no_cell_shows_a_stderr_box(path):
    """What the app prints during a traced request (an access-log line, a handler's traceback)
    is shown under its trace (trace.printed), never as a stderr box that reads as an error."""
    boxes = [
        "".join(output.get("text", ""))[:200]
        for cell in cells(path)
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr"
    ]
    assert boxes == []


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_the_notebook_ends_beside_its_production_counterpart(path):
    """A 'Beside <system>' section traces the production system and shows the map table."""
    headings = [cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                for cell in cells(path) if cell["cell_type"] == "markdown"]
    assert any(heading.startswith("## Beside ") for heading in headings)
    tables = [output["data"]["text/markdown"] for cell in cells(path) for output in cell.get("outputs", [])
              if "text/markdown" in output.get("data", {})]
    assert any("what " in "".join(table) and "Tracer cost" in "".join(table) for table in tables)
    assert len(diagrams(path)) >= 3  # the stage's own, and both sides beside

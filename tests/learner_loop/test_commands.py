"""Commands work as written: make checks the stage, clean keeps your work, the CLI its Python.

The make tests run `make` in a scratch folder holding only a copy of the
Makefile and of workbook/stages.py (the stage list it reads), so a test can
never remove this checkout's .venv or workspace/.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbook.stages import REPO, STAGES

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(folder: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=folder,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A scratch folder with the Makefile (and the stage list it reads), a pretend .venv,
    workspace/ and stage 06 database."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "workbook").mkdir()
    shutil.copy(REPO / "workbook" / "stages.py", tmp_path / "workbook" / "stages.py")
    (tmp_path / "pyproject.toml").touch()
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / ".installed").touch()  # the stamp: make does not set up again
    (tmp_path / "workspace" / ".backup").mkdir(parents=True)
    (tmp_path / "workspace" / "02_router").mkdir()
    (tmp_path / "wire_up.egg-info").mkdir()
    (tmp_path / "stages" / "06_roob").mkdir(parents=True)
    (tmp_path / "stages" / "06_roob" / "products.db").touch()
    return tmp_path


@pytest.mark.parametrize(
    "target", ["test-7", "test-02_router", "grade-0", "exercise-x", "trace-9", "watch-7", "stage-7"]
)
def test_an_unknown_stage_is_an_error_that_lists_the_stages(checkout: Path, target: str) -> None:
    """`make test-7` and friends exit 2 naming the valid stages, never run the whole suite."""
    done = make(checkout, target)
    assert done.returncode == 2
    assert "unknown stage" in done.stderr
    assert all(f"{number} ({name})" in done.stderr for number, name in STAGES.items())


def test_clean_keeps_the_workspace_and_removes_build_files_and_the_database(checkout: Path) -> None:
    """`make clean` removes .venv, egg-info and products.db; your workspace/ stays."""
    assert make(checkout, "clean").returncode == 0
    assert (checkout / "workspace" / "02_router").is_dir() and (
        checkout / "workspace" / ".backup"
    ).is_dir()
    assert not any(
        (checkout / name).exists()
        for name in (".venv", "wire_up.egg-info", "stages/06_roob/products.db")
    )


@pytest.mark.parametrize("answer", [None, "n\n", "\n"])
def test_clean_workspace_asks_and_keeps_it_unless_told_yes(
    checkout: Path, answer: str | None
) -> None:
    """`make clean-workspace` asks first; no stdin, "n" or Enter keep workspace/ (non-zero exit)."""
    done = make(checkout, "clean-workspace", stdin=answer)
    assert done.returncode != 0 and "Kept workspace/" in done.stdout
    assert (checkout / "workspace" / "02_router").is_dir()


@pytest.mark.parametrize(
    ("args", "answer"), [(("clean-workspace",), "y\n"), (("clean-workspace", "CONFIRM=1"), None)]
)
def test_clean_workspace_removes_it_when_confirmed(
    checkout: Path, args: tuple[str, ...], answer: str | None
) -> None:
    """A "y" answer, or CONFIRM=1 without asking, removes workspace/."""
    done = make(checkout, *args, stdin=answer)
    assert (done.returncode, (checkout / "workspace").exists()) == (0, False), (
        done.stdout + done.stderr
    )


def test_stage_4_serves_the_app_app_names(checkout: Path) -> None:
    """`make stage-4 APP=example` serves the router example; the default is the raw apps."""
    assert "rawasgi.example:app" in make(checkout, "-n", "stage-4", "APP=example").stdout
    assert "rawasgi.apps:app" in make(checkout, "-n", "stage-4").stdout
    assert make(checkout, "-n", "stage-4", "APP=nope").returncode == 2


def test_stage_6_reset_starts_from_the_seed_data(checkout: Path) -> None:
    """`make stage-6 RESET=1` removes products.db first (it is seeded again on first use)."""
    assert "rm -f stages/06_roob/products.db" in make(checkout, "-n", "stage-6", "RESET=1").stdout
    assert "products.db" not in make(checkout, "-n", "stage-6").stdout


def test_the_cli_started_by_another_python_names_the_command_to_use() -> None:
    """`python -m workbook ...` without the project's environment exits 2 with the exact command."""
    # -S: no site-packages, so none of the .venv's packages or stage paths.
    done = subprocess.run(
        [sys.executable, "-S", "-m", "workbook", "grade", "2", "--only", "2.1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "is not the workbook's Python" in done.stderr
    assert "    .venv/bin/python -m workbook grade 2 --only 2.1" in done.stderr


def test_the_makefile_reads_the_stage_list_from_workbook_stages(checkout: Path) -> None:
    """The Makefile spells no stage list: a stage added to workbook/stages.py is a make target."""
    stages_py = checkout / "workbook" / "stages.py"
    text = stages_py.read_text()
    stages_py.write_text(text.replace('6: "06_roob",', '6: "06_roob",\n    7: "07_extra",'))
    done = make(checkout, "-n", "test-7")
    assert done.returncode == 0, done.stderr
    assert "tests/07_extra" in done.stdout


def test_write_pth_pins_the_venv_to_this_checkouts_imported_stages(tmp_path: Path) -> None:
    """The .pth lists stages 01-04 of this checkout, by absolute path, one a line."""
    from workbook.stages import IMPORTED_STAGES, STAGES_ROOT, write_pth

    written = write_pth(tmp_path)
    lines = written.read_text().splitlines()
    assert (written.name, lines) == (
        "wire_up_stages.pth",
        [str(STAGES_ROOT / STAGES[number]) for number in IMPORTED_STAGES],
    )
    assert all(Path(line).is_absolute() and Path(line).is_dir() for line in lines)

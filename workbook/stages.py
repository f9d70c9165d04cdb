"""Where each stage lives, and which copy of it is under test.

A stage is named by its number (``2``) or its folder name (``"02_router"``).
The reference copy lives in ``stages/NN_name``. A learner's copy, or a
submission being graded, is chosen by one setting: the environment variable
``WORKBOOK_STAGE_DIR`` (set by pytest's ``--stage-dir`` option). Its folder
name says which stage it replaces, so ``workspace/02_router`` stands in for
``stages/02_router`` and every other stage stays the reference.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAGES_ROOT = REPO / "stages"
WORKSPACE = REPO / "workspace"
STAGE_DIR_VARIABLE = "WORKBOOK_STAGE_DIR"

#: The one list of stages: number -> folder under ``stages/``. The Makefile
#: reads it (``python3 workbook/stages.py make``) and so does the venv's .pth
#: (:func:`write_pth`); nothing else spells the list out.
STAGES: dict[int, str] = {
    1: "01_raw_wsgi",
    2: "02_router",
    3: "03_middleware",
    4: "04_asgi",
    5: "05_bare",
    6: "06_roob",
}
#: The stages later stages import (rule 1 of DESIGN.md): 02-04 build on 01-03,
#: so 01-04 go on the venv's path. 05 and 06 stand alone; their tests put them
#: on ``sys.path`` with :func:`activate`.
IMPORTED_STAGES: tuple[int, ...] = (1, 2, 3, 4)
#: The file :func:`write_pth` writes into the venv's site-packages.
PTH_NAME = "wire_up_stages.pth"


def stage_name(stage: int | str) -> str:
    """Return the folder name of a stage given as ``2``, ``"2"`` or ``"02_router"``."""
    if isinstance(stage, int) or str(stage).isdigit():
        number = int(stage)
        if number not in STAGES:
            raise ValueError(f"no stage {number}: stages are {sorted(STAGES)}")
        return STAGES[number]
    if stage not in STAGES.values():
        raise ValueError(f"no stage {stage!r}: stages are {list(STAGES.values())}")
    return str(stage)


def stage_number(stage: int | str) -> int:
    """Return the number of a stage given by number or folder name."""
    name = stage_name(stage)
    return next(number for number, folder in STAGES.items() if folder == name)


def stage_dir(stage: int | str) -> Path:
    """Return the folder under test for a stage: the override if it names this stage."""
    name = stage_name(stage)
    override = os.environ.get(STAGE_DIR_VARIABLE)
    if override and Path(override).name == name:
        return Path(override).resolve()
    return STAGES_ROOT / name


def reference_dir(stage: int | str) -> Path:
    """Return the reference copy of a stage, ignoring any override."""
    return STAGES_ROOT / stage_name(stage)


def activate(stage: int | str) -> Path:
    """Put the stage under test first on ``sys.path`` and return its folder.

    Stages 02-04 import the stages before them; those come from the venv's
    ``wire_up_stages.pth`` (the reference copies) unless activated here too.
    """
    folder = stage_dir(stage)
    reference = str(reference_dir(stage))
    if folder != reference_dir(stage) and reference in sys.path:
        # A copy is under test: a module missing from it must fail to import,
        # not fall back to the reference that the venv's .pth provides.
        sys.path.remove(reference)
    path = str(folder)
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)
    return folder


def subprocess_env(stage: int | str, **extra: str) -> dict[str, str]:
    """Return an environment in which a child process imports the stage under test."""
    env = dict(os.environ)
    folder = str(stage_dir(stage))
    previous = env.get("PYTHONPATH")
    env["PYTHONPATH"] = folder + (os.pathsep + previous if previous else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def write_pth(site_packages: Path | None = None) -> Path:
    """Write the venv's ``wire_up_stages.pth``: one line per imported stage folder.

    Python adds each line of a ``.pth`` file in site-packages to ``sys.path``
    at start-up (``site`` module), so ``import rawwsgi`` works anywhere the
    venv runs. The lines are absolute paths into THIS checkout
    (``IMPORTED_STAGES`` under :data:`STAGES_ROOT`): the file pins the venv
    to one checkout's path. A venv shared with another clone or worktree
    would import that one's stages; moving the checkout needs ``make setup``
    again after ``make clean``.

    ``site_packages`` defaults to the running interpreter's (``purelib``), so
    run this with the venv's Python. Returns the path written.
    """
    folder = Path(site_packages or sysconfig.get_paths()["purelib"])
    lines = [str(STAGES_ROOT / STAGES[number]) for number in IMPORTED_STAGES]
    target = folder / PTH_NAME
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def make_variables() -> str:
    """Return the stage list as the Makefile reads it: ``1:01_raw_wsgi 2:02_router ...``."""
    return " ".join(f"{number}:{folder}" for number, folder in sorted(STAGES.items()))


def main(argv: list[str] | None = None) -> int:
    """``python workbook/stages.py make|pth``: print the list for make, or write the .pth.

    Runs as a plain script (no import of the ``workbook`` package), so the
    Makefile can call it with any Python 3 before the venv exists.
    """
    args = sys.argv[1:] if argv is None else argv
    if args == ["make"]:
        print(make_variables())
        return 0
    if args == ["pth"]:
        print(f"wrote {write_pth()}")
        return 0
    print("usage: python workbook/stages.py make|pth", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAGES_ROOT = REPO / "stages"
WORKSPACE = REPO / "workspace"
STAGE_DIR_VARIABLE = "WORKBOOK_STAGE_DIR"

STAGES: dict[int, str] = {
    1: "01_raw_wsgi",
    2: "02_router",
    3: "03_middleware",
    4: "04_asgi",
    5: "05_bare",
    6: "06_roob",
}


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

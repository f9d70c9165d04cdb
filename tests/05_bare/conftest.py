"""Stage 05's suite: put the stage under test first on sys.path; shared fixtures.

``chapter_bare.py`` and ``chapter_harness.py`` in this folder are verbatim
copies of the chapter's code (not test modules): the first shows that each
flaw the stage fixes is real, the second is the chapter's own test harness.
``bare_helpers.py`` holds the helpers the tests import.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from workbook.stages import activate

activate("05_bare")
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.append(HERE)  # for bare_helpers; appended, so it shadows nothing

from bare_helpers import load_copy  # noqa: E402


@pytest.fixture
def chapter_bare() -> ModuleType:
    """The chapter's bare.py, verbatim: the flaws the stage fixes."""
    return load_copy("chapter_bare.py", "bare_chapter_copy")


@pytest.fixture
def example() -> Iterator[ModuleType]:
    """The stage's example_app, with its module-level tasks emptied before and after."""
    import example_app

    example_app.tasks.clear()
    yield example_app
    example_app.tasks.clear()

"""Stage 05's suite: shared fixtures (tests/conftest.py puts the stage on sys.path).

``chapter_bare.py`` and ``chapter_harness.py`` in this folder are verbatim
copies of the chapter's code (not test modules): the first shows that each
flaw the stage fixes is real, the second is the chapter's own test harness.
``bare_helpers.py`` holds the helpers the tests import.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from bare_helpers import load_copy


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

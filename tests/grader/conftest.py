"""The grader's meta-tests: shared set-up.

``fixtures/`` holds a small stage of the grader's own (``90_greeter``) and
its suite. That suite is run only in child processes, by the grader; the
main test run skips it unless it is named on the command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if FIXTURES not in (collection_path, *collection_path.parents):
        return None
    asked = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    if any(FIXTURES in (path, *path.parents) for path in asked):
        return None
    return True

"""The workbook's pytest plugin: which stage copy is under test, and what a failure shows.

Loaded with ``-p workbook.pytest_plugin`` (pyproject's ``addopts``), so it
runs before any conftest: ``--stage-dir PATH`` must be in force before a
stage's conftest puts its folder on ``sys.path`` and imports from it.

``--stage-dir PATH`` (or ``WORKBOOK_STAGE_DIR``) tests another copy of one
stage; its folder name (``02_router``) says which. Each ``tests/NN_name``
conftest activates its stage, so every suite runs in one pytest process.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from workbook.stages import REPO, STAGE_DIR_VARIABLE
from workbook.testing import curl_command

TESTS = REPO / "tests"


class SupportModules(importlib.abc.MetaPathFinder):
    """Import the suites' test-support modules (``stage02_helpers``, ...) by path from ``tests/``.

    The conftests put their folder on ``sys.path`` to import these, but the
    copy under test comes first there: a file of the same name in a
    learner's copy would be imported instead of the suite's own. This finder
    sits first on ``sys.meta_path`` and answers for exactly those names with
    the file in ``tests/``, so the copy can never stand in for them.
    """

    def __init__(self, root: Path) -> None:
        self.modules = {
            path.stem: path
            for path in sorted(root.glob("[0-9][0-9]_*/*.py"))
            if not path.stem.startswith("test_") and path.stem != "conftest"
        }

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.modules.get(fullname)
        if file is None:
            return None
        return importlib.util.spec_from_file_location(fullname, file)


if not any(isinstance(finder, SupportModules) for finder in sys.meta_path):
    sys.meta_path.insert(0, SupportModules(TESTS))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stage-dir",
        default=None,
        metavar="PATH",
        help="test this copy of a stage (its folder name, e.g. 02_router, says which)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    chosen = early_config.known_args_namespace.stage_dir
    if chosen:
        os.environ[STAGE_DIR_VARIABLE] = str(Path(chosen).resolve())


class RequestLog:
    """Record the request a test sent, so a failure can show it as a curl command."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        body: bytes | str | None = None,
    ) -> str:
        command = curl_command(method, url, headers=headers, body=body)
        self._item.user_properties.append(("request", command))
        return command


@pytest.fixture
def sent(request: pytest.FixtureRequest) -> RequestLog:
    """Call ``sent(method, url, headers=..., body=...)`` before sending a request.

    The grader prints the last recorded request beside a failure.
    """
    return RequestLog(request.node)

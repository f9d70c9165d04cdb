"""The workbook's pytest plugin: which stage copy is under test, and what a failure shows.

Loaded with ``-p workbook.pytest_plugin`` (pyproject's ``addopts``), so it
runs before any conftest: ``--stage-dir PATH`` must be in force before a
stage's conftest puts its folder on ``sys.path`` and imports from it.

``--stage-dir PATH`` (or ``WORKBOOK_STAGE_DIR``) tests another copy of one
stage; its folder name (``02_router``) says which. Each ``tests/NN_name``
conftest activates its stage, so every suite runs in one pytest process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbook.stages import STAGE_DIR_VARIABLE
from workbook.testing import curl_command


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stage-dir", default=None, metavar="PATH",
        help="test this copy of a stage (its folder name, e.g. 02_router, says which)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser,
                                  args: list[str]) -> None:
    chosen = early_config.known_args_namespace.stage_dir
    if chosen:
        os.environ[STAGE_DIR_VARIABLE] = str(Path(chosen).resolve())


class RequestLog:
    """Record the request a test sent, so a failure can show it as a curl command."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    def __call__(self, method: str, url: str, *, headers=(), body: bytes | str | None = None) -> str:
        command = curl_command(method, url, headers=headers, body=body)
        self._item.user_properties.append(("request", command))
        return command


@pytest.fixture
def sent(request: pytest.FixtureRequest) -> RequestLog:
    """Call ``sent(method, url, headers=..., body=...)`` before sending a request.

    The grader prints the last recorded request beside a failure.
    """
    return RequestLog(request.node)

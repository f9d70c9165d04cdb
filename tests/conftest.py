"""The test set-up every suite shares: the stages on ``sys.path``, a client that records.

``workbook/pytest_plugin.py`` (loaded by ``-p`` in pyproject's addopts, so
before any conftest) adds ``--stage-dir``, the ``sent`` fixture, and the
finder that imports the suites' helper modules (``stage02_helpers``, ...)
from ``tests/`` by name, whatever comes first on ``sys.path``. So no
conftest edits ``sys.path``: this file is the one place that puts the
stages there.

- **The stages.** Every stage is activated here (``workbook.stages.activate``),
  the stage under test (``--stage-dir``, the grader's learner copy) last, so
  that its folder comes first and the reference copy of it is not on the
  path at all. Stages 01-04 are also on the venv's ``.pth`` (reference copies);
  05 and 06 stand alone by design and come only from here.
- **A client that records.** ``http_client`` is an ``httpx.Client`` that records each
  request with ``sent`` as it sends it, so the grader shows the request of a
  failing test as a curl command and the test writes the request once;
  ``client`` is the same on the ``base_url`` of the app a suite serves.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from workbook.stages import STAGE_DIR_VARIABLE, STAGES, activate
from workbook.testing import RequestLog, recording_client

if TYPE_CHECKING:  # httpx loads when a test asks for a client: the grader's runs start faster
    import httpx


def activate_stages() -> None:
    """Put every stage on ``sys.path``, the one under test (if any) last, so first."""
    override = os.environ.get(STAGE_DIR_VARIABLE)
    under_test = Path(override).name if override else None
    for name in sorted(STAGES.values(), key=lambda name: name == under_test):
        activate(name)


activate_stages()

# jsonschema (under openapi-spec-validator, stage 05) imports ``rfc3987_syntax`` where it is
# installed, to check the "iri" format; that module builds an Earley parser when imported:
# 3-4 s of CPU time in every test process that imports jsonschema, a quarter of a stage 05
# grade. It comes with the notebooks' extra (jupyter-events asks for
# jsonschema[format-nongpl]); no suite checks an "iri". Marked absent here, it is skipped as
# the optional dependency it is (jsonschema suppresses the ImportError).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


@pytest.fixture
def http_client(sent: RequestLog) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` (httpx's defaults) whose every request is recorded as it is sent."""
    with recording_client(sent) as client:
        yield client


@pytest.fixture
def client(base_url: str, sent: RequestLog) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on the suite's served app (its ``base_url`` fixture), recording too."""
    with recording_client(sent, base_url=base_url, timeout=10) as client:
        yield client

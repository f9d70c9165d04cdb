"""What a grade no longer pays for at start-up: imports nobody needs yet, a second server process.

Timing goals live in the benchmark (``python -m workbook.grader.bench``);
these tests check the mechanisms behind the numbers, so each one can fail:
a one-folder grade's parent does not import tqdm (its progress bar is for
batches; it loads ``importlib.metadata``, 0.14 s), collecting stage 05's
suite does not import openapi-spec-validator (jsonschema and
pydantic-settings under it: about 1.5 s of CPU), and hypercorn, as the
suites start it, serves in one process instead of spawning a worker that
imports everything again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workbook.stages import REPO
from workbook.testing import fetch, free_port, server_argv, serving

pytestmark = pytest.mark.timeout(120)


def python_says(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this venv's) at the repo's root; return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_the_grade_command_does_not_import_tqdm() -> None:
    """Importing the CLI (what ``python -m workbook grade N`` runs) leaves tqdm unloaded."""
    loaded = python_says(
        """
        import sys
        import workbook.grader.cli
        print("tqdm" in sys.modules, "importlib.metadata" in sys.modules)
        """
    )
    assert loaded == "False False"


def test_collecting_stage_05_does_not_import_the_openapi_validator() -> None:
    """The tests that validate an OpenAPI document import the validator when they run."""
    loaded = python_says(
        """
        import sys
        import pytest
        plugins = ["-p", "no:cacheprovider", "-p", "pytest_timeout"]
        code = pytest.main(["tests/05_bare", "--collect-only", "-q", *plugins])
        print(int(code), "openapi_spec_validator" in sys.modules, "jsonschema" in sys.modules)
        """
    )
    assert loaded.splitlines()[-1] == "0 False False"


def test_the_validator_is_still_the_judge_of_a_broken_document() -> None:
    """The lazy import still validates: a document without ``info`` is refused."""
    sys.path.insert(0, str(REPO / "tests" / "05_bare"))
    try:
        from bare_helpers import validate_openapi
    finally:
        sys.path.remove(str(REPO / "tests" / "05_bare"))
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    with pytest.raises(OpenAPIValidationError):
        validate_openapi({"openapi": "3.1.0", "paths": {}})


def children_of(pid: int) -> list[int]:
    """Return the process ids of ``pid``'s children (Linux's /proc)."""
    tasks = Path(f"/proc/{pid}/task")
    if not tasks.is_dir():
        pytest.skip("no /proc on this system")
    found: list[int] = []
    for task in tasks.iterdir():
        children = task / "children"
        if not children.exists():
            pytest.skip("this kernel does not list a task's children in /proc")
        found += [int(word) for word in children.read_text().split()]
    return found


def test_hypercorn_as_the_suites_start_it_is_one_process() -> None:
    """hypercorn serves in the process the test started: no worker spawned beside it."""
    port = free_port()
    argv = server_argv("hypercorn", "rawasgi.apps:app", port)
    with serving("04_asgi", argv, port) as process:
        # An answer comes from whatever serves: with a worker count of 1, the spawned one.
        assert fetch("GET", f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        assert children_of(process.pid) == []

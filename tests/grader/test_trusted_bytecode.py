"""Trusted bytecode: the parent writes it before a run, the grading child only reads it.

Each test grades a private copy of the fixture suite, made beside it in
``tests/grader/fixtures`` (the suites must lie under ``tests/`` for pytest to
find the project's settings) and removed afterwards, so no test edits or
plants anything in a suite another test grades.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import marshal
import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbook.grader import bytecode, cli
from workbook.grader.report import build_report, to_json
from workbook.grader.runner import Suite, grade_run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ALICE = FIXTURES / "submissions" / "alice"
GREETING = "test_greeting_uses_the_normalized_name"

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def suite() -> Iterator[Suite]:
    """A copy of the fixture suite, with no bytecode yet, removed after the test."""
    tests = FIXTURES / f"suite_90_greeter_bytecode_{os.getpid()}"
    shutil.copytree(
        FIXTURES / "suite_90_greeter", tests, ignore=shutil.ignore_patterns("__pycache__")
    )
    try:
        yield Suite("90_greeter", FIXTURES / "90_greeter", tests)
    finally:
        shutil.rmtree(tests, ignore_errors=True)


def pytest_pyc(suite: Suite, module: str = "test_greeter") -> Path:
    return suite.tests / "__pycache__" / f"{module}.{bytecode.pytest_tag()}.pyc"


def pyc_files(suite: Suite) -> dict[Path, str]:
    return {
        pyc: hashlib.sha256(pyc.read_bytes()).hexdigest()
        for root in bytecode.trees(suite)
        for pyc in root.rglob("*.pyc")
    }


def outcome(run: object, name: str) -> str:
    return next(test.outcome for test in run.tests if test.nodeid.endswith(f"::{name}"))  # type: ignore[attr-defined]


def test_the_parent_writes_the_cache_and_the_child_only_reads_it(suite: Suite) -> None:
    """Before the run the parent writes valid bytecode; the run itself changes no .pyc."""
    assert not pytest_pyc(suite).exists()
    assert bytecode.survey(suite, bytecode.read_manifest()).rewrite  # the copy is cold
    bytecode.ensure(suite)
    assert bytecode.survey(suite, bytecode.read_manifest()).clean()
    source = suite.tests / "test_greeter.py"
    assert bytecode.header_matches(pytest_pyc(suite), bytecode.source_hash(source))
    ordinary = Path(
        importlib.util.cache_from_source(str(FIXTURES / "90_greeter" / "greeter" / "text.py"))
    )
    assert bytecode.header_matches(
        ordinary, bytecode.source_hash(ordinary.parent.parent / "text.py")
    )
    before = pyc_files(suite)
    run = grade_run(suite, ALICE)
    assert not run.tampered, run.tampered
    assert outcome(run, GREETING) == "passed"
    assert pyc_files(suite) == before  # the child wrote nothing, deleted nothing


def test_a_missing_or_stale_cache_is_rebuilt_by_the_parent(suite: Suite) -> None:
    """A deleted .pyc comes back; an edited test (same size, same mtime) is graded as edited.

    pytest validates its rewritten .pyc by the source's hash, and the grader
    writes ordinary ones checked by hash too, so an edit that keeps a file's
    size and mtime is still seen.
    """
    bytecode.ensure(suite)
    pytest_pyc(suite).unlink()
    run = grade_run(suite, ALICE)
    assert not run.tampered, run.tampered
    assert pytest_pyc(suite).is_file()
    assert outcome(run, GREETING) == "passed"

    source = suite.tests / "test_greeter.py"
    stat = source.stat()
    text = source.read_text()
    check = 'assert greeting(" ada ") == "Hello, Ada."'
    assert check in text
    source.write_text(text.replace(check, check.replace("==", "!=")))
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (source.stat().st_size, source.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert bytecode.survey(suite, bytecode.read_manifest()).rewrite == [source.resolve()]
    run = grade_run(suite, ALICE)
    assert not run.tampered, run.tampered
    assert outcome(run, GREETING) == "failed"
    assert bytecode.header_matches(pytest_pyc(suite), bytecode.source_hash(source))


def forged_pyc(source: Path) -> bytes:
    """A pytest .pyc that passes pytest's checks for ``source``, whose every test passes."""
    names = [
        line.split("(")[0][4:]
        for line in source.read_text().splitlines()
        if line.startswith("def test_")
    ]
    forged = "".join(f"def {name}(*args, **kwargs):\n    pass\n" for name in names)
    code = compile(forged, str(source), "exec")
    digest = importlib.util.source_hash(source.read_bytes())
    return importlib.util.MAGIC_NUMBER + bytecode.CHECKED_HASH + digest[:8] + marshal.dumps(code)


def test_a_pyc_planted_before_the_run_is_deleted_not_run(suite: Suite, tmp_path: Path) -> None:
    """A .pyc the grader did not write (left by an earlier run, say) never runs.

    The plant is a valid pytest .pyc for the test module (right header, right
    source hash) whose tests all pass: pytest would load it. The parent finds
    it is not in its manifest, deletes it and writes its own.
    """
    bytecode.ensure(suite)
    pyc = pytest_pyc(suite)
    planted = forged_pyc(suite.tests / "test_greeter.py")
    pyc.write_bytes(planted)
    starter = cli.make_starter(suite, tmp_path)
    run = grade_run(suite, starter)
    assert not run.tampered, run.tampered
    assert outcome(run, GREETING) == "failed"  # the starter's stub, graded by the real test
    assert pyc.read_bytes() != planted


def test_a_pyc_planted_during_the_run_is_tampered_and_does_not_outlive_it(
    suite: Suite, tmp_path: Path
) -> None:
    """A submission that writes a valid pytest .pyc beside the suite is caught; after the
    run the parent deletes the plant and keeps its own bytecode."""
    bytecode.ensure(suite)
    pyc = pytest_pyc(suite)
    conftest = pytest_pyc(suite, "conftest")
    kept = conftest.read_bytes()
    planted = tmp_path / "planted.pyc"
    planted.write_bytes(forged_pyc(suite.tests / "test_greeter.py"))
    plant = f"""
    import shutil
    shutil.copyfile({str(planted)!r}, {str(pyc)!r})
    """
    report = grade(suite, starter_with(suite, tmp_path / "work", plant))
    assert report["status"] == "tampered"
    assert any("changed on disk" in problem for problem in report["tampering"])
    assert not pyc.exists()
    assert conftest.read_bytes() == kept


def test_a_run_that_blesses_a_pyc_in_the_manifest_is_tampered(suite: Suite, tmp_path: Path) -> None:
    """Editing the parent's manifest (to have a later plant kept) is tampering too,
    and the parent writes its own manifest back."""
    bytecode.ensure(suite)
    before = bytecode.manifest_bytes()
    bless = f"""
    import json
    from pathlib import Path
    _manifest = Path({str(bytecode.MANIFEST)!r})
    _data = json.loads(_manifest.read_text())
    _data["pyc"][{str(pytest_pyc(suite))!r}] = "0" * 64
    _manifest.write_text(json.dumps(_data))
    """
    report = grade(suite, starter_with(suite, tmp_path / "work", bless))
    assert report["status"] == "tampered"
    assert bytecode.manifest_bytes() == before


def starter_with(suite: Suite, work: Path, code: str) -> Path:
    """Return the fixture stage's starter with ``code`` added to the learner's package."""
    starter = cli.make_starter(suite, work)
    init = starter / "greeter" / "__init__.py"
    init.write_text(init.read_text() + textwrap.dedent(code))
    return starter


def grade(suite: Suite, folder: Path) -> dict[str, Any]:
    run = grade_run(suite, folder)
    return to_json(build_report(suite.name, folder.name, suite.regions(), run))


def test_a_run_holds_the_cache_so_no_warm_up_writes_during_it(suite: Suite) -> None:
    """Between a run's two fingerprints no other grader may write bytecode (that would
    read as tampering): the run holds a shared lock, a warm-up needs an exclusive one."""

    def exclusive_is_free() -> bool:
        with bytecode.LOCK.open("ab") as file:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            return True

    with bytecode.trusted(suite) as manifest:
        assert manifest == bytecode.manifest_bytes()
        assert bytecode.survey(suite, bytecode.read_manifest()).clean()
        assert not exclusive_is_free()
    assert exclusive_is_free()

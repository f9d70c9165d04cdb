"""What keeps one grade run cheap: work the grader skips, and what it must still do.

Timing goals live in the benchmark (``python -m workbook.grader.bench``);
these tests check the mechanisms behind its numbers, so that each one can
fail: the parent does not read every installed package's metadata for a
copy that adds no module, the child's TLS contexts load no CA bundle, and
pytest formats no traceback for a failed test while a file that cannot
load still names the file and line of its error.
"""

from __future__ import annotations

import os
import shutil
import ssl
from pathlib import Path

import pytest

from workbook.grader import guard
from workbook.grader.runner import Suite, grade_run, lazy_trust_store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUITE = Suite("90_greeter", FIXTURES / "90_greeter", FIXTURES / "suite_90_greeter")

pytestmark = pytest.mark.timeout(120)


def shadowing_of(copy: Path) -> list[str]:
    return guard.shadowing(
        copy, SUITE.reference, tests_root=SUITE.tests.parent, stages_root=SUITE.reference.parent
    )


def test_a_copy_that_adds_no_module_is_checked_without_reading_package_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installed packages' names (a second of CPU time to read) are asked for only
    about a module the copy adds."""

    def refuse() -> frozenset[str]:
        raise AssertionError("installed_names() was called for a copy that adds no module")

    copy = tmp_path / SUITE.name
    shutil.copytree(SUITE.reference, copy)
    monkeypatch.setattr(guard, "installed_names", refuse)
    assert shadowing_of(copy) == []


def test_a_module_named_like_an_installed_package_is_still_caught(tmp_path: Path) -> None:
    """Asked lazily, the installed packages' names still catch a module that shadows one."""
    copy = tmp_path / SUITE.name
    shutil.copytree(SUITE.reference, copy)
    (copy / "certifi.py").write_text("def where() -> str:\n    return '/nowhere'\n")
    assert shadowing_of(copy) == ["certifi.py takes the name of the installed package 'certifi'"]


def test_the_child_builds_tls_contexts_without_loading_a_ca_bundle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the child's environment, an httpx client's TLS context holds no certificate
    until a handshake needs one (a CA bundle parsed per client was 50 ms of CPU each)."""
    httpx = pytest.importorskip("httpx")
    env = dict(os.environ, SSL_CERT_FILE=ssl.get_default_verify_paths().openssl_cafile)
    lazy_trust_store(env)
    if "SSL_CERT_DIR" not in env:
        pytest.skip("this system has no CA folder; the child keeps httpx's default")
    assert "SSL_CERT_FILE" not in env
    assert Path(env["SSL_CERT_DIR"]).is_dir()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", env["SSL_CERT_DIR"])
    context = httpx.create_ssl_context()
    assert context.cert_store_stats()["x509"] == 0
    assert context.verify_mode == ssl.CERT_REQUIRED  # still verifies what it connects to


def test_failed_tests_get_no_pytest_traceback() -> None:
    """The grader describes failures itself; pytest prints no traceback for them."""
    run = grade_run(SUITE, FIXTURES / "submissions" / "alice")
    assert any(test.outcome == "failed" for test in run.tests)
    assert "Traceback (most recent call last)" not in run.output
    assert "= FAILURES =" not in run.output


def test_a_module_that_raises_on_import_is_reported_with_its_file_and_line(
    tmp_path: Path,
) -> None:
    """Collection keeps its traceback: the load error names the learner's file and line."""
    folder = tmp_path / "alice"
    shutil.copytree(FIXTURES / "submissions" / "alice", folder)
    text_py = folder / "greeter" / "text.py"
    text_py.write_text(text_py.read_text() + '\nraise RuntimeError("broken at import")\n')
    run = grade_run(SUITE, folder)
    assert run.collect_errors
    message = run.collect_errors[0]["message"]
    assert 'File "greeter/text.py", line' in message
    assert message.rstrip().endswith("RuntimeError: broken at import")

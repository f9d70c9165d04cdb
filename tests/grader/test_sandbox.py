"""The batch sandbox: a submission that reaches outside its copy is contained, and reported.

Each test grades a copy of the fixture stage's reference with a few hostile
lines added to the learner's package, under bubblewrap. The tests skip only
where ``bwrap`` is not installed; where it is installed but cannot build its
namespaces, they fail with the reason (``sandbox.check``).
"""

from __future__ import annotations

import os
import shutil
import textwrap
import time
from pathlib import Path

import pytest

from workbook.grader import cli, sandbox
from workbook.grader.report import build_report, to_json
from workbook.grader.runner import Suite, grade_run
from workbook.stages import REPO

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUITE = Suite("90_greeter", FIXTURES / "90_greeter", FIXTURES / "suite_90_greeter")
LIMITS = sandbox.Limits(cpu_seconds=120)

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        shutil.which("bwrap") is None,
        reason="bubblewrap is not installed (apt-get install bubblewrap; .ci/run does)",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def sandbox_works() -> None:
    sandbox.check()  # raises with the kernel setting to blame, so the test fails saying why


def hostile(tmp_path: Path, code: str, name: str = "90_greeter") -> Path:
    folder = tmp_path / name
    shutil.copytree(SUITE.reference, folder)
    init = folder / "greeter" / "__init__.py"
    init.write_text(init.read_text() + textwrap.dedent(code))
    return folder


def grade(folder: Path, **options: object) -> dict:
    run = grade_run(SUITE, folder, sandbox=LIMITS, **options)
    return to_json(build_report(SUITE.name, folder.name, SUITE.regions(), run))


def test_reference_passes_in_the_sandbox(tmp_path: Path) -> None:
    """An honest submission grades the same inside the sandbox: every exercise 100%."""
    report = grade(SUITE.reference)
    assert (report["status"], report["totals"]["score"], report["stage_tests"]["score"]) == (
        "graded",
        1.0,
        1.0,
    )


def test_writing_outside_the_copy_is_refused(tmp_path: Path) -> None:
    """The repo and the home folder are read-only in the sandbox; the error is reported."""
    target = REPO / "tests" / "grader" / "fixtures" / "escaped.txt"
    home = Path.home() / "wire-up-escaped.txt"
    folder = hostile(
        tmp_path,
        f"""
    from pathlib import Path
    for _target in ({str(home)!r}, {str(target)!r}):
        try:
            Path(_target).write_text("escaped")
        except OSError as error:
            _refused = error
    raise _refused
    """,
    )
    report = grade(folder)
    assert not target.exists() and not home.exists()
    [error] = report["load_errors"]
    assert "Read-only file system" in error["message"]
    assert report["status"] == "graded" and report["totals"]["score"] == 0.0


def test_connecting_beyond_loopback_is_refused_while_loopback_works(tmp_path: Path) -> None:
    """Only loopback exists in the sandbox: 192.0.2.1 is unreachable, 127.0.0.1 works."""
    folder = hostile(
        tmp_path,
        """
    import socket
    with socket.socket() as _server:
        _server.bind(("127.0.0.1", 0))
        _server.listen()
        socket.create_connection(_server.getsockname(), timeout=5).close()
    socket.create_connection(("192.0.2.1", 80), timeout=5)
    """,
    )
    report = grade(folder)
    [error] = report["load_errors"]
    assert "Network is unreachable" in error["message"]


def test_fork_without_end_is_contained_and_grading_goes_on(tmp_path: Path) -> None:
    """A fork bomb is capped, reported, and killed with the run; the next run is fine."""
    # Each forked process forks again for ever; it sleeps when refused, so that the
    # test does not load the machine it runs on (a real one would spin).
    folder = hostile(
        tmp_path,
        """
    import os, time
    if os.fork() == 0:
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.2)
    """,
    )
    limits = sandbox.Limits(cpu_seconds=120, processes=24)
    started = time.monotonic()
    run = grade_run(SUITE, folder, sandbox=limits, timeout=20, total_timeout=90)
    assert time.monotonic() - started < 150
    assert run.tests  # the grading child itself went on
    capped = sandbox.ProcessCap(1)
    if capped.path is not None or os.getuid() != 0:
        assert any("limit of 24 processes" in event for event in run.contained), run.contained
    capped.close()
    report = grade(SUITE.reference)
    assert report["totals"]["score"] == 1.0


def test_batch_is_sandboxed_by_default_and_exits_1_when_a_submission_is_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--batch runs sandboxed, in parallel; a stopped submission makes the exit status 1."""
    batch = tmp_path / "class"
    shutil.copytree(SUITE.reference, batch / "bob")
    shutil.copytree(FIXTURES / "submissions" / "stuck", batch / "stuck")
    grades = tmp_path / "out" / "grades.csv"
    options = cli.grade_parser().parse_args(
        [
            "90",
            "--batch",
            str(batch),
            "--csv",
            str(grades),
            "--json",
            str(tmp_path / "all.json"),
            "--timeout",
            "0",
            "--total-timeout",
            "20",
            "--jobs",
            "2",
        ]
    )
    assert cli.grade_batch(SUITE, options) == 1
    out = capsys.readouterr().out
    assert "each in a sandbox" in out
    assert "stuck: stopped: the grading run was stopped after 20 s" in out
    assert "Wrote " in out and "grades.csv" in out


def test_memory_limit_refuses_a_large_allocation_but_not_a_reservation(tmp_path: Path) -> None:
    """Memory is capped on what a process writes to (RLIMIT_DATA), not on address space it
    only reserves: Chromium reserves gigabytes at start and died under RLIMIT_AS."""
    folder = hostile(
        tmp_path,
        """
    import mmap
    # prot=0 (PROT_NONE): address space reserved only, as a browser does
    mmap.mmap(-1, 8 << 30, flags=mmap.MAP_PRIVATE, prot=0).close()
    _hog = bytearray(2 << 30)
    """,
    )
    run = grade_run(SUITE, folder, sandbox=sandbox.Limits(cpu_seconds=120, memory_bytes=1 << 30))
    report = to_json(build_report(SUITE.name, folder.name, SUITE.regions(), run))
    [error] = report["load_errors"]
    assert "MemoryError" in error["message"] and "_hog = bytearray" in error["message"]


@pytest.mark.parametrize(
    ("stage", "tests"),
    [(6, "test_servers.py"), (5, "test_site_browser.py")],
    ids=["gunicorn-start-script", "chromium"],
)
def test_reference_tests_that_start_programs_pass_in_the_sandbox(stage: int, tests: str) -> None:
    """A stage's start script finds the venv's gunicorn from a scratch copy, and Chromium
    starts under the memory limit: both failed sandboxed while passing unsandboxed."""
    if tests == "test_site_browser.py" and not (
        shutil.which("chromium") or shutil.which("chromium-browser")
    ):
        pytest.skip("no chromium on PATH (apt-get install chromium; .ci/run does)")
    real = Suite.of(stage)
    suite = Suite(real.name, real.reference, real.tests / tests)
    run = grade_run(suite, real.reference, sandbox=LIMITS, timeout=60)
    failed = {
        test.name: test.details.get("message") for test in run.tests if test.outcome != "passed"
    }
    assert run.tests and failed == {}

"""Forged grades: each kind of forgery is detected (status "tampered", no score) or has no effect.

Each test starts from the fixture stage's starter (every exercise cut out,
so an honest run scores 0), adds a few lines of forgery to the learner's
own module, and grades it. Stage 02's real suite is used where the issue
named it (a copy of its test-support module ``stage02_helpers``).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from workbook.grader import cli, guard, runner
from workbook.grader.report import build_report, to_json
from workbook.grader.runner import Suite, grade_run
from workbook.pytest_plugin import SupportModules
from workbook.stages import REPO

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUITE = Suite("90_greeter", FIXTURES / "90_greeter", FIXTURES / "suite_90_greeter")

pytestmark = pytest.mark.timeout(180)

REPORT_PATCH = """
import _pytest.reports as _reports
_made = _reports.TestReport.__init__
def _forged(self, *args, **kwargs):
    _made(self, *args, **kwargs)
    self.outcome, self.longrepr = "passed", None
_reports.TestReport.__init__ = _forged
"""

HOOK_PLUGIN = """
import gc, pytest
from _pytest.config import Config
class _Forger:
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        report.outcome, report.longrepr = "passed", None
        return report
_config = next(thing for thing in gc.get_objects() if isinstance(thing, Config))
_config.pluginmanager.register(_Forger(), "forger")
"""

CHANNEL_WRITE = """
import json, os
_record = json.dumps({"event": "result", "nodeid": "x", "outcome": "passed"})
for _fd in os.listdir("/proc/self/fd"):
    try:
        if os.readlink(f"/proc/self/fd/{_fd}").startswith("pipe:"):
            _line = json.dumps({"seq": 0, "record": _record, "mac": "0" * 64}) + "\\n"
            os.write(int(_fd), _line.encode())
    except OSError:
        pass
"""

CALLINFO_PATCH = """
import _pytest.runner as _runner
_from_call = _runner.CallInfo.from_call.__func__
def _swallow(cls, func, when, reraise=None):
    def quiet():
        try:
            return func()
        except Exception:
            return None
    return _from_call(cls, quiet, when, reraise)
_runner.CallInfo.from_call = classmethod(_swallow)
"""

# Goes for the grader's own recorder: every result it writes says "passed".
RECORDER_PATCH = """
import sys
_plugin = sys.modules["workbook.grader.plugin"]
_write = _plugin.Recorder.write
def _forged(self, record):
    if record.get("event") == "result":
        record = {"event": "result", "nodeid": record["nodeid"], "outcome": "passed",
                  "phase": "call", "duration": 0.0}
    _write(self, record)
_plugin.Recorder.write = _forged
"""

TRACE = """
import sys
sys.settrace(lambda frame, event, arg: None)
"""

# Replaces the code of every test function once collection is done: no pytest
# object is touched, so only the canaries (which must fail) can give it away.
CODE_SWAP = """
import gc
from greeter import text as _text
_normalize_name = _text.normalize_name
def _swap_then_normalize(*args, **kwargs):
    # Called by the first test that uses it: mid-run, after every fingerprint was taken.
    for thing in gc.get_objects():
        if (callable(thing) and getattr(thing, "__name__", "").startswith("test_")
                and "suite_90_greeter"
                in getattr(getattr(thing, "__code__", None), "co_filename", "")):
            thing.__code__ = (lambda *a, **k: None).__code__
    return _normalize_name(*args, **kwargs)
_text.normalize_name = _swap_then_normalize
"""


def starter_with(tmp_path: Path, forgery: str) -> Path:
    """Return the fixture stage's starter with ``forgery`` added to the learner's package."""
    starter = cli.make_starter(SUITE, tmp_path)
    init = starter / "greeter" / "__init__.py"
    init.write_text(init.read_text() + textwrap.dedent(forgery))
    return starter


def grade(folder: Path, suite: Suite = SUITE, **options: object) -> dict:
    run = grade_run(suite, folder, **options)
    return to_json(build_report(suite.name, folder.name, suite.regions(), run))


def test_honest_starter_is_graded_not_tampered(tmp_path: Path) -> None:
    """The same starter without forgery is graded (no false alarm), 0 on every exercise."""
    report = grade(cli.make_starter(SUITE, tmp_path))
    assert (report["status"], report["tampering"], report["totals"]["score"]) == ("graded", [], 0.0)


@pytest.mark.parametrize(
    "forgery",
    [REPORT_PATCH, HOOK_PLUGIN, CHANNEL_WRITE, CALLINFO_PATCH, RECORDER_PATCH, TRACE, CODE_SWAP],
    ids=[
        "report-patch",
        "hook-plugin",
        "channel-write",
        "callinfo-patch",
        "recorder-patch",
        "settrace",
        "code-swap",
    ],
)
def test_forgery_is_detected_and_scores_nothing(tmp_path: Path, forgery: str) -> None:
    """Each forgery in the learner's own module makes the run "tampered", with no score."""
    report = grade(starter_with(tmp_path, forgery))
    assert report["status"] == "tampered", report["tampering"]
    assert report["tampering"]
    assert report["totals"]["score"] is None
    assert all(exercise["score"] is None for exercise in report["exercises"])
    assert report["stage_tests"]["score"] is None


def test_tampered_report_is_shown_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The learner's text report says NOT GRADED and why; the command exits 1."""
    starter = starter_with(tmp_path, REPORT_PATCH)
    options = cli.grade_parser().parse_args(
        ["90", str(starter), "--json", str(tmp_path / "r.json")]
    )
    assert cli.grade_submission(SUITE, options) == 1
    out = capsys.readouterr().out
    assert "NOT GRADED: this run shows signs of tampering; no score is given." in out
    assert "Every test passes" not in out


def test_rewriting_the_suite_on_disk_is_detected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submission that rewrites a guarded file (the suite, the workbook) is tampered.

    The guarded tree here is a stand-in in tmp_path, so the test never writes to the repo.
    """
    guarded = tmp_path / "guarded"
    guarded.mkdir()
    (guarded / "test_something.py").write_text("def test_it():\n    assert False\n")
    monkeypatch.setattr(runner, "guarded_trees", lambda suite: [guarded])
    rewrite = f"""
    from pathlib import Path
    _test = Path({str(guarded / "test_something.py")!r})
    _test.write_text(_test.read_text().replace("False", "True"))
    """
    report = grade(starter_with(tmp_path / "work", rewrite))
    assert report["status"] == "tampered"
    assert any("changed on disk" in problem for problem in report["tampering"])


def test_planting_cached_bytecode_beside_the_suite_is_detected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submission that writes a .pyc into a guarded __pycache__ is tampered.

    pytest and the import system load a ``.pyc`` whose header matches its
    source's size and mtime, so a planted one would run instead of the test
    module in a later run, or later in the same one. The guarded tree is a
    stand-in in tmp_path, so the test never writes to the repo.
    """
    guarded = tmp_path / "guarded"
    guarded.mkdir()
    (guarded / "test_something.py").write_text("def test_it():\n    assert False\n")
    monkeypatch.setattr(runner, "guarded_trees", lambda suite: [guarded])
    plant = f"""
    import py_compile
    py_compile.compile({str(guarded / "test_something.py")!r}, doraise=True)
    """
    report = grade(starter_with(tmp_path / "work", plant))
    assert report["status"] == "tampered"
    assert any("changed on disk" in problem for problem in report["tampering"])


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("stage02_helpers.py", "test-support module"),
        ("json.py", "standard-library module"),
        ("httpx", "installed package"),
        ("rawwsgi", "another stage's module"),
        ("conftest.py", "test-support module"),
        ("sitecustomize.py", "which the grader runs on"),
    ],
)
def test_shadowing_modules_are_found_by_the_parent(tmp_path: Path, name: str, kind: str) -> None:
    """A top-level module in the copy that takes a name it does not own is reported."""
    copy = tmp_path / "02_router"
    shutil.copytree(
        REPO / "stages" / "02_router",
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"),
    )
    if name.endswith(".py"):
        (copy / name).write_text("")
    else:
        (copy / name).mkdir()
        (copy / name / "__init__.py").write_text("")
    (copy / "my_own_helpers.py").write_text("")  # a new module of the learner's own is fine
    problems = guard.shadowing(
        copy, REPO / "stages" / "02_router", tests_root=REPO / "tests", stages_root=REPO / "stages"
    )
    assert len(problems) == 1 and kind in problems[0], problems


def test_support_modules_load_from_tests_whatever_comes_first_on_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decoy stage02_helpers first on sys.path is never the one imported."""
    (tmp_path / "stage02_helpers.py").write_text("raise SystemExit('the decoy was imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = next(finder for finder in sys.meta_path if isinstance(finder, SupportModules))
    assert sys.meta_path.index(finder) == 0
    spec = importlib.util.find_spec("stage02_helpers")
    assert spec is not None and spec.origin == str(
        REPO / "tests" / "02_router" / "stage02_helpers.py"
    )


def test_decoy_support_module_in_stage_02_is_tampered_and_has_no_effect(tmp_path: Path) -> None:
    """The issue's example: stage02_helpers.py in the starter no longer lifts exercise 2.4."""
    suite = Suite.of(2)
    starter = cli.make_starter(suite, tmp_path)
    decoy = (REPO / "tests" / "02_router" / "stage02_helpers.py").read_text()
    (starter / "stage02_helpers.py").write_text(
        decoy.replace("def call(", "def _real_call(", 1)
        + "\ncall = lambda *a, **k: _real_call(*a, **k)\n"
    )
    run = grade_run(suite, starter, only={"2.4"})
    assert any("test-support module 'stage02_helpers'" in problem for problem in run.tampered)
    # and the run itself used the suite's own helpers: 2.4 is still 0/9
    assert [test.outcome for test in run.tests if test.exercise == "2.4"] == ["failed"] * 9

"""The grader's pytest plugin: record what each test checked and why it failed.

Loaded into the child pytest process with ``-p workbook.grader.plugin``.
The grader's runner starts it with ``WORKBOOK_GRADER_CHANNEL`` naming two
inherited descriptors: one holds the secret (a key and the canaries to
plant), the other is the pipe the records go to, each signed
(``guard.py``). Both are taken when this module is imported, before any
learner module. Run by hand, ``--grader-results PATH`` writes the same
records, unsigned, to a file. The records, one JSON object per line,
flushed as the run goes (a stopped run still leaves the finished tests):

- ``{"event": "collected", "nodeid", "exercise", "rule"}`` per test;
- ``{"event": "collect_error", "nodeid", "message"}`` per file that failed to load;
- ``{"event": "start", "nodeid"}`` as each test starts;
- ``{"event": "result", "nodeid", "outcome", "phase", "duration", ...failure details}``;
- ``{"event": "tamper", "problems"}`` when an integrity check fails;
- ``{"event": "finish", "exitstatus"}`` when the session ends.

The per-test timeout is the grader's own alarm (``Alarm``; pytest-timeout
still reads ``--timeout`` and the ``timeout`` marks): it raises
``GradingTimeout``, a ``BaseException``, so that nothing in the test takes
it for an ordinary failure and carries on. pytest-timeout raises
``pytest.fail``'s exception, which hypothesis catches as a failing example
and then shrinks, replaying the endless loop with no alarm left: one
looping fuzz test held a whole run until the total timeout. The alarm also
rings again every few seconds until the test is over, for code that
swallows even a ``BaseException``.

After a test of exercise N.k times out, the exercise's later tests fail in
their setup without running ("not run: exercise N.k timed out"); so do those
of the exercise whose region holds the code that spun (a CPU-clock timeout,
or a loop met again, stopped in the copy's ``# EXERCISE N.k`` region: "not
run: exercise N.k loops"), whichever test met the loop; after two
full timeouts in one test file, the file's other tests; and once the run
has spent its timeout budget (``--grader-timeout-budget`` seconds in tests
that ran to a full timeout), every test left ("not run: the run's time for
timeouts is spent").

Hypothesis tests run with the grading settings (``grading_settings``):
at most ``--grader-examples`` examples, derandomized, no example database
(the sandbox's file system is read-only), and no "explain" phase, which
replays a failing example many times to annotate it and was most of a
failing fuzz test's time.

``--grader-only IDS`` runs only the tests tagged with these exercise ids
(comma-separated).

A failure is described the way a tutor would: the rule the test checks (its
docstring's first line), expected vs got (from the failing comparison), the
request that was sent (the ``request`` user property that the ``sent``
fixture records), and "not written yet" when the code stopped at an
exercise's ``NotImplementedError`` stub.
"""

from __future__ import annotations

import ast
import json
import linecache
import os
import re
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import IO, Any

import pytest

from workbook.grader import guard
from workbook.grader.regions import Region, scan

# Read the secret and take the results descriptor now, while this module is
# imported by ``-p``: before any conftest, so before any learner module.
_SECRET, _CHANNEL = guard.open_channel()
_REPO = Path(__file__).resolve().parents[2]

NOT_WRITTEN = re.compile(r"NotImplementedError: exercise (\d+\.\d+):")
STUB_MESSAGE = re.compile(r"^exercise (\d+\.\d+):")
TIMEOUT = re.compile(r"Timeout \(>(?P<seconds>[\d.]+)s\) from pytest-timeout")
REPR_LIMIT = 240
MODULE_TIMEOUTS = 2  # after this many full timeouts in one test file, its other tests are not run
GRADING_EXAMPLES = 25  # hypothesis examples per test when grading (the suites ask for 50-200)
ALARM_AGAIN = 2.0  # seconds between two rings of the alarm once it went off
_HERE = str(Path(__file__).resolve())
_MACHINERY = (os.sep + "_pytest" + os.sep, os.sep + "pluggy" + os.sep, "pytest_timeout.py", _HERE)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workbook grader")
    group.addoption(
        "--grader-results",
        default=None,
        metavar="PATH",
        help="write each test's outcome and failure details to PATH (JSON lines)",
    )
    group.addoption(
        "--grader-examples",
        type=int,
        default=GRADING_EXAMPLES,
        metavar="N",
        help="run each hypothesis test with at most N examples (0: as the suite asks)",
    )
    group.addoption(
        "--grader-cpu-timeout",
        type=float,
        default=0.0,
        metavar="S",
        help="also stop a test once this process used S seconds of CPU time in it (0: no limit)",
    )
    group.addoption(
        "--grader-timeout-budget",
        type=float,
        default=0.0,
        metavar="S",
        help="after S seconds spent in tests stopped by a timeout, run no more tests (0: no limit)",
    )
    group.addoption(
        "--grader-only",
        default=None,
        metavar="IDS",
        help="run only the tests tagged with these exercise ids, e.g. 2.1,2.2",
    )


class NotRun(Exception):
    """Raised in place of running a test whose exercise already timed out."""


class GradingTimeout(BaseException):
    """Raised in a test by the grader's per-test alarm.

    A ``BaseException`` and not an ``Exception``: hypothesis (which catches
    ``Exception`` and ``pytest.fail``'s ``Failed`` as a failing example, then
    shrinks it, running the loop again) and a learner's ``except Exception``
    let it through. pytest still reports the test as failed.
    """

    def __init__(self, seconds: float, clock: str = "wall") -> None:
        unit = "s of CPU time" if clock == "cpu" else "s"
        super().__init__(f"Timeout (>{seconds:g} {unit}) from the grader")
        self.seconds = seconds
        self.clock = clock  # "wall" (time passed) or "cpu" (CPU time used)

    def again(self) -> GradingTimeout:
        """Return a fresh exception for the same timeout (each raise its own traceback)."""
        return GradingTimeout(self.seconds, self.clock)


class Alarm:
    """The per-test timeout: two clocks, whichever runs out first raises GradingTimeout.

    - wall time (``ITIMER_REAL``, SIGALRM): ``seconds`` after the test
      starts; this catches a test blocked for ever (a server that never
      answers);
    - CPU time of this process (``ITIMER_PROF``, SIGPROF, every thread):
      ``cpu_seconds``; this catches an endless loop after the same work on a
      quiet or a loaded machine, where the wall clock would have to allow
      for the load.

    Once it went off, it rings again every ``ALARM_AGAIN`` seconds until the
    test is over (pytest-timeout's cancel hook stops it), so code that
    swallows the exception is stopped too. A ring that lands in pytest's,
    pluggy's or the grader's own code (reporting the failure, say) raises
    nothing: the exception would break pytest itself, not the test.
    """

    def __init__(self, seconds: float, cpu_seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.cpu_seconds = cpu_seconds
        self.rang: GradingTimeout | None = None

    def start(self) -> None:
        signal.signal(signal.SIGALRM, self.ring)
        signal.signal(signal.SIGPROF, self.ring)
        if self.cpu_seconds > 0:
            signal.setitimer(signal.ITIMER_PROF, self.cpu_seconds)
        if self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def cancel(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.signal(signal.SIGPROF, signal.SIG_IGN)  # SIG_DFL would end the process

    def ring(self, signum: int, frame: FrameType | None) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, ALARM_AGAIN)
        if self.rang is None:
            self.rang = (
                GradingTimeout(self.cpu_seconds, clock="cpu")
                if signum == signal.SIGPROF
                else GradingTimeout(self.seconds)
            )
        if frame is not None and any(part in frame.f_code.co_filename for part in _MACHINERY):
            return
        raise self.rang.again()


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """Time the test with the grader's Alarm instead of pytest-timeout's handler.

    The timeout is pytest-timeout's (``--timeout``, or a ``timeout`` mark),
    never more than the grader's ``--timeout``: a mark that gives a fuzz
    module a minute in ``make test`` does not apply to graded runs, whose
    hypothesis tests run fewer examples.
    """
    if threading.current_thread() is not threading.main_thread():
        return None  # no signals off the main thread: pytest-timeout's thread method
    seconds = float(settings.timeout)
    ceiling = float(item.config.getoption("timeout") or 0)
    if ceiling > 0:
        seconds = min(seconds, ceiling)
    alarm = Alarm(seconds, float(item.config.getoption("--grader-cpu-timeout") or 0))
    item.cancel_timeout = alarm.cancel  # type: ignore[attr-defined]  # what pytest-timeout calls
    alarm.start()
    return True


class Channel:
    """Where the records go: the parent's signed pipe, or a plain JSON-lines file."""

    def __init__(self, path: Path | None) -> None:
        self.sequence = 0
        self.key = _SECRET.key if _SECRET is not None else None
        if _CHANNEL is not None:
            self.stream: IO[str] = os.fdopen(_CHANNEL, "w", encoding="utf-8", buffering=1)
        else:
            assert path is not None
            self.stream = path.open("w", encoding="utf-8", buffering=1)

    def write(self, record: dict[str, Any]) -> None:
        if self.key is None:
            line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        else:
            line = guard.sign(self.key, self.sequence, record)
        self.sequence += 1
        self.stream.write(line)

    def close(self) -> None:
        self.stream.close()


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--grader-results")
    if path or _CHANNEL is not None:
        recorder = Recorder(config, Channel(Path(path) if path else None))
        config.pluginmanager.register(recorder, "workbook-grader-recorder")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Turn pytest's tracebacks off for the tests (``--tb=no`` from here on).

    The grader describes each failure itself, from the exception
    (``Recorder.describe``); pytest would format a traceback for every
    failure and print them all at the end, which was most of a failing
    run's reporting time. Collection keeps the style it was started with
    (``--tb=native``), so a test file that cannot load is reported with the
    file and line of its error.
    """
    session.config.option.tbstyle = "no"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    only = config.getoption("--grader-only")
    if only:
        wanted = {part.strip() for part in only.split(",") if part.strip()}
        kept = [item for item in items if exercise_of(item) in wanted]
        dropped = [item for item in items if exercise_of(item) not in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
    examples = config.getoption("--grader-examples")
    if examples:
        for item in items:
            use_grading_settings(item, examples)
    if _SECRET is not None and _SECRET.canaries and items:
        plant_canaries(items, _SECRET.canaries)


def use_grading_settings(item: pytest.Item, examples: int) -> None:
    """Run a hypothesis test (``@given``) with the grading settings; leave others alone.

    At most ``examples`` examples, derandomized (the same examples each grade),
    no example database, and only the explicit, generate and shrink phases: a
    failure is still shrunk to a small example for the report, but not
    "explained" (that phase replays it many times, and was most of a failing
    fuzz test's time). The settings a test was decorated with are the parent,
    so its deadline and health checks stay as the suite chose.

    Hypothesis reads a test's settings from ``_hypothesis_internal_use_settings``
    when the test is called (what ``@settings`` writes); a meta-test checks that
    this still takes effect (``tests/grader/test_timeouts.py``).
    """
    function = getattr(item, "obj", None)
    function = getattr(function, "__func__", function)  # a test in a class: its function
    current = getattr(function, "_hypothesis_internal_use_settings", None)
    if current is None or not getattr(function, "is_hypothesis_test", False):
        return
    from hypothesis import Phase, settings

    function._hypothesis_internal_use_settings = settings(  # type: ignore[union-attr]
        current,
        max_examples=min(current.max_examples, examples),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        print_blob=False,
    )


def plant_canaries(items: list[pytest.Item], canaries: list[guard.Canary]) -> None:
    """Put each canary among the real tests, inside a real test module, at a random place.

    A canary sits between two tests of the same module (or at a module's
    start), so no module-scoped fixture is torn down and set up again for it.
    """
    import secrets

    chooser = secrets.SystemRandom()
    for canary in canaries:
        places = [
            index
            for index, item in enumerate(items)
            if isinstance(item.parent, pytest.Module)
            and plain_module(item.parent)
            and (index == 0 or items[index - 1].parent is item.parent)
        ]
        if not places:
            return
        index = chooser.choice(places)
        module = items[index].parent
        assert isinstance(module, pytest.Module)  # places holds only items of a Module
        items.insert(index, canary_item(module, canary))


def plain_module(module: pytest.Module) -> bool:
    """Return True when nothing on the module would skip or xfail a test planted in it."""
    return not any(
        mark.name in {"skip", "skipif", "xfail", "usefixtures", "filterwarnings"}
        for mark in module.iter_markers()
    )


def canary_item(module: pytest.Module, canary: guard.Canary) -> pytest.Function:
    """Return a test that passes or fails as the parent planned, dressed as a suite test."""
    message = canary.message
    body = (
        f"    got, expected = {message!r}, {message[::-1]!r}\n    assert got == expected\n"
        if canary.expect == "failed"
        else f"    got = {message!r}\n    assert got == got\n"
    )
    # Compiled under the test module's own file name, so its code looks like the suite's.
    namespace: dict[str, Any] = {}
    exec(compile(f"def {canary.name}():\n{body}", str(module.path), "exec"), namespace)
    function = namespace[canary.name]
    function.__module__ = getattr(module.obj, "__name__", function.__module__)
    function.__doc__ = canary.name.removeprefix("test_").replace("_", " ").capitalize() + "."
    item = pytest.Function.from_parent(module, name=canary.name, callobj=function)
    if canary.exercise is not None:
        item.add_marker(pytest.mark.exercise(canary.exercise))
    return item


def exercise_of(item: pytest.Item) -> str | None:
    """Return the exercise id a test is tagged with, or None."""
    marker = item.get_closest_marker("exercise")
    if marker is None:
        return None
    value = marker.args[0] if marker.args else marker.kwargs.get("id")
    return str(value) if value is not None else None


def rule_of(item: pytest.Item) -> str | None:
    """Return the first line of the test's docstring: the rule it checks."""
    function = getattr(item, "function", None)
    doc: str | None = getattr(function, "__doc__", None)
    if not doc or not doc.strip():
        return None
    return doc.strip().splitlines()[0].strip()


def short_repr(value: object) -> str:
    """Return ``repr(value)``, cut to a length a report line can hold."""
    try:
        text = repr(value)
    except Exception as error:  # a learner's __repr__ may itself be broken
        text = f"<{type(value).__name__} whose repr failed: {type(error).__name__}>"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 1] + "…"


def first_line(text: str) -> str:
    """Return the first non-empty line of a text, stripped."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def expectation(op: str, left: object, right: object) -> tuple[str, str]:
    """Turn a failed ``assert left <op> right`` into (expected, got) phrases.

    The suites write ``assert got == expected``, so the left side is what the
    code produced.
    """
    got, want = short_repr(left), short_repr(right)
    if op in {"==", "is"}:
        return want, got
    if op in {"!=", "is not"}:
        return f"anything but {want}", got
    if op == "in":
        return f"a value containing {got}", want
    if op == "not in":
        return f"a value without {got}", want
    return f"a value {op} {want}", got


class Recorder:
    """Write each test's outcome to the results file as the run goes."""

    def __init__(self, config: pytest.Config, channel: Channel) -> None:
        self.config = config
        self.channel = channel
        self.canaries = {canary.name for canary in (_SECRET.canaries if _SECRET else [])}
        self.timed_out: dict[str, str] = {}  # exercise id -> the test that timed out
        self.looped: dict[str, str] = {}  # exercise id -> "where the code looped (test)"
        self.regions: list[Region] | None = None  # the copy's exercise regions, read once
        self.verdicts: dict[tuple[str, str], str] = {}  # (nodeid, phase) -> outcome seen first
        self.tampering: list[str] = []
        self.spans: dict[str, list[tuple[int, int]]] = {}  # file -> its statements, smallest first
        self.watchdog: LoopWatch | None = None
        self.module_timeouts: dict[str, list[str]] = {}  # test file -> its tests that timed out
        self.timeout_budget = float(config.getoption("--grader-timeout-budget") or 0)
        self.timeouts: list[tuple[str, float]] = []  # (test, seconds) of each test stopped so
        self.suite_root = Path(str(config.rootpath))
        stage_dir = os.environ.get("WORKBOOK_STAGE_DIR")
        self.stage_dir = Path(stage_dir).resolve() if stage_dir else None
        self.comparison: tuple[str, object, object] | None = None
        self.failures: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, tuple[str, str]] = {}
        self.durations: dict[str, float] = {}
        self.cpu_started = time.process_time()  # CPU time of this process when a test started

    def write(self, record: dict[str, Any]) -> None:
        self.channel.write(record)

    def tampered(self, problems: list[str]) -> None:
        """Record each new sign of tampering once."""
        fresh = [problem for problem in problems if problem not in self.tampering]
        if fresh:
            self.tampering += fresh
            self.write({"event": "tamper", "problems": fresh})

    def check_integrity(self) -> None:
        self.tampered(_INTEGRITY.changed(self.config.pluginmanager))

    # ── collection ──────────────────────────────────────────────────────────

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            message = error_lines(report.longreprtext)
            if self.stage_dir is not None:  # name the learner's files relative to the stage
                message = message.replace(str(self.stage_dir) + os.sep, "")
            self.write({"event": "collect_error", "nodeid": report.nodeid, "message": message})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.check_integrity()
        for item in session.items:
            self.write(
                {
                    "event": "collected",
                    "nodeid": item.nodeid,
                    "exercise": exercise_of(item),
                    "rule": rule_of(item),
                }
            )

    # ── running ─────────────────────────────────────────────────────────────

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.comparison = None
        self.cpu_started = time.process_time()
        if self.watchdog is not None:
            self.watchdog.current = nodeid
        self.write({"event": "start", "nodeid": nodeid})

    def pytest_assertrepr_compare(
        self, config: pytest.Config, op: str, left: object, right: object
    ) -> None:
        # Called only for a comparison that failed; keep the operands, let
        # pytest render its own explanation as usual.
        self.comparison = (op, left, right)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if item.name in self.canaries:
            return
        exercise = exercise_of(item)
        if exercise in self.timed_out:
            raise NotRun(
                f"not run: exercise {exercise} timed out "
                f"(in {self.timed_out[exercise].rpartition('::')[2]})"
            )
        if exercise in self.looped:
            raise NotRun(f"not run: exercise {exercise} loops ({self.looped[exercise]})")
        spent = sum(seconds for _, seconds in self.timeouts)
        if self.timeout_budget and spent >= self.timeout_budget:
            raise NotRun(
                f"not run: the run's time for timeouts is spent ({spent:.0f} s in "
                f"{len(self.timeouts)} test{'s' if len(self.timeouts) != 1 else ''} "
                "stopped by a full timeout, the last "
                f"{self.timeouts[-1][0].rpartition('::')[2]}): an endless loop?"
            )
        module = item.nodeid.partition("::")[0]
        if len(self.module_timeouts.get(module, [])) >= MODULE_TIMEOUTS:
            raise NotRun(
                f"not run: {MODULE_TIMEOUTS} tests of {module.rpartition('/')[2]} "
                f"timed out before it (a server stuck in an endless loop?)"
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        self.verdicts[(item.nodeid, report.when)] = report.outcome
        if (
            report.outcome == "passed"
            and call.excinfo is not None
            and not hasattr(report, "wasxfail")
        ):
            self.tampered(
                [
                    f"{item.nodeid}: the {report.when} phase raised "
                    f"{call.excinfo.typename} but its report says passed"
                ]
            )
        if report.failed and item.nodeid not in self.failures:
            try:
                self.failures[item.nodeid] = self.describe(item, call, report)
            except Exception as error:  # never let a report break the run
                self.failures[item.nodeid] = {
                    "kind": "failed",
                    "message": f"(could not describe: {error!r})",
                }
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        seen = self.verdicts.pop((report.nodeid, report.when), None)
        if seen is not None and seen != report.outcome:
            self.tampered(
                [
                    f"{report.nodeid}: the {report.when} report was changed "
                    f"from {seen} to {report.outcome} after it was made"
                ]
            )
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        previous = self.outcomes.get(report.nodeid)
        if previous and previous[0] in {"failed", "skipped"}:
            return
        if report.failed:
            self.outcomes[report.nodeid] = ("failed", report.when)
        elif report.skipped:
            self.outcomes[report.nodeid] = ("skipped", report.when)
        elif report.when == "call":
            self.outcomes[report.nodeid] = ("passed", report.when)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        outcome, phase = self.outcomes.pop(nodeid, ("failed", "setup"))
        record: dict[str, Any] = {
            "event": "result",
            "nodeid": nodeid,
            "outcome": outcome,
            "phase": phase,
            "duration": round(self.durations.pop(nodeid, 0.0), 3),
            "cpu": round(time.process_time() - self.cpu_started, 3),
        }
        if outcome == "failed":
            record.update(
                self.failures.pop(nodeid, {"kind": "failed", "message": "the test failed"})
            )
            exercise = record.pop("exercise_timed_out", None)
            if exercise and record.get("kind") == "timeout":
                self.timed_out.setdefault(exercise, nodeid)
            if record.pop("spun", False):
                self.loops_in_region(record.get("where"), nodeid)
            # Only a full timeout counts against the file's and the run's budgets: a loop
            # met again is stopped within a second, and is a failure to report, not a cost.
            if record.pop("full_timeout", False):
                self.module_timeouts.setdefault(nodeid.partition("::")[0], []).append(nodeid)
                self.timeouts.append((nodeid, record["duration"]))
        self.check_integrity()
        self.write(record)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.check_integrity()
        self.write({"event": "finish", "exitstatus": int(exitstatus)})
        self.channel.close()

    # ── describing a failure ────────────────────────────────────────────────

    def describe(
        self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> dict[str, Any]:
        """Return what went wrong in a tutor's words: expected, got, where, why."""
        details: dict[str, Any] = {
            "kind": "failed",
            "message": None,
            "expected": None,
            "got": None,
            "check": None,
            "where": None,
            "not_written": None,
            "request": last_request(item),
            "server": None,
        }
        details["server"] = self.server_for(details["request"])
        excinfo = call.excinfo
        if excinfo is None:  # e.g. a strict xpass: nothing was raised
            details["message"] = first_line(report.longreprtext) or "the test failed"
            return details
        error = excinfo.value
        text = str(error)
        details["check"] = self.failing_check(item, excinfo)
        timeout = (
            error.seconds
            if isinstance(error, GradingTimeout)
            else (float(found["seconds"]) if (found := TIMEOUT.search(text)) else None)
        )
        on_cpu = isinstance(error, GradingTimeout) and error.clock == "cpu"
        stub = STUB_MESSAGE.match(text) if isinstance(error, NotImplementedError) else None
        if isinstance(error, NotRun):
            details["kind"] = "not_run"
            details["message"] = text
            details["check"] = None
            return details
        if timeout:
            seconds = f"{timeout:g}"
            details["kind"] = "timeout"
            details["where"] = self.stage_location(excinfo)
            again = self.watchdog.fired_in(item.nodeid) if self.watchdog else None
            if not again:  # a loop met again costs a second, and is not this exercise's own
                details["exercise_timed_out"] = exercise_of(item)
                details["full_timeout"] = item.name not in self.canaries
            # Stopped while spinning (CPU clock, or the loop watch): the exercise whose code
            # spun loops, whichever test met it. A wall-clock timeout may be a wait instead.
            details["spun"] = bool(again or on_cpu) and item.name not in self.canaries
            if again:
                assert self.watchdog is not None  # `again` came from it
                details["got"] = (
                    f"stopped after {again:.1f} s in code that looped before "
                    f"({self.watchdog.first_place})"
                )
                details["message"] = (
                    f"looping again where an earlier test timed out "
                    f"({self.watchdog.first_place}), so it was stopped early"
                )
            elif on_cpu:
                details["got"] = f"no result after {seconds} s of CPU time, so the test was stopped"
                details["message"] = (
                    f"timed out after using {seconds} s of CPU time: an endless loop?"
                )
                self.watch_loop(excinfo, details["where"])
            else:
                details["got"] = f"no result within {seconds} s, so the test was stopped"
                details["message"] = (
                    f"timed out after {seconds} s: an endless loop, or a server that never answers?"
                )
                self.watch_loop(excinfo, details["where"])
        elif stub:
            details["kind"] = "not_written"
            details["not_written"] = stub.group(1)
            details["got"] = f"not written yet: exercise {stub.group(1)}"
            details["message"] = details["got"]
            details["where"] = self.stage_location(excinfo)
        elif isinstance(error, AssertionError):
            details["kind"] = "assertion"
            if self.comparison:
                details["expected"], details["got"] = expectation(*self.comparison)
            line = first_line(text)
            custom = line and not line.startswith("assert ")
            if custom:
                details["message"] = line
            elif details["expected"] is not None:
                details["message"] = f"expected {details['expected']}, got {details['got']}"
            else:
                details["message"] = line or "an assertion failed"
        elif isinstance(error, pytest.fail.Exception):
            details["message"] = first_line(text) or "the test failed"
            if (details["check"] or "").startswith("pytest.fail("):
                details["check"] = None  # the message already says it
        else:
            details["kind"] = "exception"
            if waited_in_vain(error):  # e.g. for a server process stuck in a loop
                details["full_timeout"] = item.name not in self.canaries
            where = self.stage_location(excinfo)
            details["where"] = where
            details["got"] = f"{type(error).__name__}: {first_line(text)}".rstrip(": ")
            details["message"] = details["got"] + (f" (at {where})" if where else "")
        if not details["not_written"]:
            details["not_written"] = self.stub_mentioned(error, report)
        return details

    def server_for(self, request: str | None) -> dict[str, Any] | None:
        """Return the server a recorded request went to, if a test started it here.

        The report turns it into the command that starts the learner's copy
        on that port, so the curl line can be tried after the run is over.
        """
        if not request:
            return None
        from workbook.testing import STARTED

        match = re.search(r"https?://[^/\s':]+:(\d+)", request)
        if match is None:
            return None
        port = int(match.group(1))
        started = next((start for start in reversed(STARTED) if start.port == port), None)
        if started is None:
            return None
        return {
            "argv": [self.portable(part) for part in started.argv],
            "port": port,
            "cwd": self.portable(started.cwd) if started.cwd else None,
        }

    def portable(self, part: str) -> str:
        """Name the stage copy as ``{stage}`` and this interpreter as ``{python}``."""
        if part == sys.executable:
            return "{python}"
        if part.startswith(str(Path(sys.executable).parent) + os.sep):
            return "{venv}/" + Path(part).name
        if self.stage_dir is not None and part.startswith(str(self.stage_dir)):
            return "{stage}" + part[len(str(self.stage_dir)) :]
        return part

    def failing_check(
        self, item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | None:
        """Return the source of the statement that failed: in the test itself if it is there,
        else in the suite's helpers (a fixture or conftest function)."""
        entries = list(reversed(excinfo.traceback))
        own = Path(str(item.path)).resolve()
        chosen = next((entry for entry in entries if Path(str(entry.path)).resolve() == own), None)
        chosen = chosen or next(
            (entry for entry in entries if self.is_test_file(Path(str(entry.path)))), None
        )
        if chosen is None:
            return None
        try:
            lines = self.statement_lines(str(chosen.path), chosen.lineno + 1)
        except Exception:
            return None
        statement = " ".join(line.strip() for line in lines)
        return statement if len(statement) <= REPR_LIMIT else statement[: REPR_LIMIT - 1] + "…"

    def statement_lines(self, path: str, lineno: int) -> list[str]:
        """Return the lines of the innermost statement around ``lineno`` (1-based) in a file.

        Each file is parsed once per run (pytest's own ``entry.statement``
        parses it again for every failure, which dominated a failing run).
        """
        source = linecache.getlines(path)
        spans = self.spans.get(path)
        if spans is None:
            tree = ast.parse("".join(source))
            spans = sorted(
                (
                    (node.lineno, node.end_lineno or node.lineno)
                    for node in ast.walk(tree)
                    if isinstance(node, ast.stmt)
                ),
                key=lambda span: span[1] - span[0],
            )
            self.spans[path] = spans
        start, end = next(
            ((first, last) for first, last in spans if first <= lineno <= last), (lineno, lineno)
        )
        return [line.rstrip("\n") for line in source[start - 1 : end]]

    def is_test_file(self, path: Path) -> bool:
        try:
            relative = path.resolve().relative_to(self.suite_root)
        except ValueError:
            return False
        return relative.parts[:1] == ("tests",)

    def loops_in_region(self, where: str | None, nodeid: str) -> None:
        """Mark the exercise whose region (in the graded copy) holds ``where`` as looping.

        ``where`` is ``path:line in function`` inside the stage copy. Its
        regions are the copy's own markers: a copy without them is not
        attributed, and its tests run on, each stopped by the loop watch.
        """
        found = re.fullmatch(r"(?P<path>.+):(?P<line>\d+) in .*", where or "")
        if found is None or self.stage_dir is None:
            return
        if self.regions is None:
            try:
                self.regions = scan(self.stage_dir, with_prompts=False)[0]
            except Exception:  # a copy whose markers cannot be read: no attribution
                self.regions = []
        line = int(found["line"])
        for region in self.regions:
            if region.path == found["path"] and region.start <= line <= region.end:
                test = nodeid.rpartition("::")[2]
                self.looped.setdefault(region.id, f"{where}, where {test} was stopped")
                return

    def watch_loop(self, excinfo: pytest.ExceptionInfo[BaseException], where: str | None) -> None:
        """Remember the stage function a timed-out test was stuck in, and start watching it."""
        if self.stage_dir is None or where is None:
            return
        # Only a test stopped while running the stage's own code (not waiting in a client
        # or a library) was looping there.
        entries = [
            entry
            for entry in excinfo.traceback  # without the handler's own frames
            if not any(part in str(entry.path) for part in _MACHINERY)
        ]
        if not entries:
            return
        innermost = entries[-1]
        try:
            Path(str(innermost.path)).resolve().relative_to(self.stage_dir)
        except ValueError:
            return
        if self.watchdog is None:
            self.watchdog = LoopWatch(where)
        self.watchdog.watch(innermost.frame.code.raw)

    def stage_location(self, excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
        """Return ``file:line in function`` of the deepest frame in the stage under test."""
        if self.stage_dir is None:
            return None
        for entry in reversed(excinfo.traceback):
            try:
                relative = Path(str(entry.path)).resolve().relative_to(self.stage_dir)
            except ValueError:
                continue
            return f"{relative.as_posix()}:{entry.lineno + 1} in {entry.name}"
        return None

    @staticmethod
    def stub_mentioned(error: BaseException, report: pytest.TestReport) -> str | None:
        """Return the exercise whose stub the code hit, seen anywhere in the failure."""
        seen: set[int] = set()
        cause: BaseException | None = error
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            if isinstance(cause, NotImplementedError):
                match = STUB_MESSAGE.match(str(cause))
                if match:
                    return match.group(1)
            cause = cause.__cause__ or cause.__context__
        texts = [str(error), *(content for _, content in report.sections)]
        for text in texts:
            match = NOT_WRITTEN.search(text)
            if match:
                return match.group(1)
        return None


class LoopWatch(threading.Thread):
    """Stop a test early when it loops in code where an earlier test already timed out.

    An endless loop in one exercise is reached by many tests, tagged or not.
    After the first timeout, this thread samples the main thread's stack
    every ``INTERVAL`` seconds; a test whose running frame has sat in the
    same looping function while the main thread used ``GRACE_CPU`` seconds
    of CPU time (running bytecode, not blocked in a call: a thread blocked
    in recv() uses none) is stopped at once, through the grader's SIGALRM
    handler (``Alarm``), instead of after the full per-test timeout. CPU
    time, not wall time: on a loaded machine a spinning thread gets a
    fraction of a core, and a wall-time grace of half a second saw too
    little of it to tell. Only while the handler is installed (a test with
    a timeout is running) is the signal sent.
    """

    INTERVAL = 0.1  # seconds between two looks at the main thread's stack
    GRACE_CPU = 0.3  # CPU seconds a test may spend in a function that looped before
    GRACE = 1.0  # wall seconds instead, where a thread's CPU time cannot be read

    def __init__(self, first_place: str) -> None:
        super().__init__(name="wire-up-loop-watch", daemon=True)
        self.first_place = first_place
        self.codes: set[Any] = set()
        self.current: str | None = None
        self.fired: dict[str, float] = {}
        main = threading.main_thread().ident
        assert main is not None  # the main thread runs, so it has an ident
        self.main: int = main
        self.start()

    def watch(self, code: Any) -> None:
        self.codes.add(code)

    def fired_in(self, nodeid: str) -> float | None:
        return self.fired.get(nodeid)

    def position(self) -> tuple[Any, int] | None:
        """Return (code, instruction) of the main thread's running frame when it runs
        a watched function, else None."""
        frame = sys._current_frames().get(self.main)
        return (
            (frame.f_code, frame.f_lasti)
            if frame is not None and frame.f_code in self.codes
            else None
        )

    def cpu(self) -> float:
        """Return the CPU seconds the main thread has used (0 where that cannot be read)."""
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(self.main))
        except (AttributeError, OSError):
            return 0.0

    def run(self) -> None:
        stuck_since: float | None = None
        stuck_in: str | None = None
        cpu_since = 0.0
        while True:
            time.sleep(self.INTERVAL)
            nodeid = self.current
            position = self.position() if nodeid is not None and nodeid not in self.fired else None
            if position is None:
                stuck_since = None
                continue
            assert nodeid is not None  # a position is only looked for in a running test
            now = time.monotonic()
            if stuck_since is None or stuck_in != nodeid:
                stuck_since, stuck_in, cpu_since = now, nodeid, self.cpu()
                continue
            # Still in the function, and running there: CPU time used since it was first seen.
            cpu = self.cpu()
            looping = cpu - cpu_since >= self.GRACE_CPU if cpu else now - stuck_since >= self.GRACE
            handler = signal.getsignal(signal.SIGALRM)
            if looping and handler not in (signal.SIG_DFL, signal.SIG_IGN, None):
                self.fired[nodeid] = now - stuck_since
                signal.pthread_kill(self.main, signal.SIGALRM)


def waited_in_vain(error: BaseException) -> bool:
    """Return True for a client's own timeout: a reply that never came (``TimeoutError``,
    which ``socket.timeout`` and asyncio's are, or httpx's ``TimeoutException``).

    Such a test cost its client's timeout, as a test stopped by the grader's
    clock costs that: it counts against the test file's and the run's
    timeout budgets (a server process stuck in an endless loop is met by
    every test that talks to it, and the grader's loop watch cannot see
    into another process).
    """
    return isinstance(error, TimeoutError) or any(
        cls.__name__ == "TimeoutException" and cls.__module__.startswith("httpx")
        for cls in type(error).__mro__
    )


def last_request(item: pytest.Item) -> str | None:
    """Return the last request the test recorded with the ``sent`` fixture."""
    requests = [value for name, value in item.user_properties if name == "request"]
    return str(requests[-1]) if requests else None


def error_lines(text: str, limit: int = 6) -> str:
    """Return the ``E   ...`` lines of a pytest error report (the error itself)."""
    lines = [line[1:].rstrip() for line in text.splitlines() if line.startswith("E ")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return textwrap.dedent("\n".join(lines[-limit:]))


# Taken last, once this module's own functions exist, and still before any learner module
# is imported (conftests load after every -p plugin).
_INTEGRITY = guard.Integrity(
    [
        _REPO / "workbook",
        _REPO / "tests",
        _REPO / "stages",
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.exec_prefix),
    ]
)

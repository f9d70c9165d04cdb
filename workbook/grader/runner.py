"""Run a stage's test suite against a copy of the stage, in a child pytest process.

The child loads the grader's plugin (``-p workbook.grader.plugin``), which
sends each test's outcome, signed, down a pipe as it goes (``guard.py``).
Two clocks keep a hung submission from hanging the grader: pytest-timeout
stops any single test after ``timeout`` seconds (scored as a failure), and
the whole run is stopped after ``total_timeout`` seconds (the tests that
did not finish are scored as failures). The child loads no other pytest
plugin than pytest-timeout (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``) and prints
no tracebacks for failed tests (the grader describes them): both were most of a
failing run's time.

One grade may be split across the machine's cores (``shards``): each shard
is a child pytest of its own over a share of the suite's test files, with
its own secret, canaries, pipe and scratch copy of the stage, and the
shards' runs are merged into one (:func:`run_suite`, :func:`shard_count`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from workbook.grader import bytecode, guard
from workbook.grader import sandbox as sandboxing
from workbook.grader.cutter import copy_stage
from workbook.grader.regions import Region, find_regions
from workbook.stages import REPO, STAGE_DIR_VARIABLE, STAGES, reference_dir, stage_name

# Seconds per test, on two clocks (python -m workbook.grader.bench prints what the
# reference's tests need, per stage). CPU time catches an endless loop, whatever the
# load: the most any reference test used was 1.5 s (stage 01's 20 clients; the first
# hypothesis test of a run adds about 3 s when hypothesis's cache is cold). Wall time
# catches a test blocked for ever, and must allow for a loaded machine: at load 14-20
# on 2 cores the slowest in-process test took 4.8 s, the stage 05 browser test 24 s.
DEFAULT_TIMEOUT = 30.0
DEFAULT_CPU_TIMEOUT = 5.0
DEFAULT_TOTAL_TIMEOUT = 300.0  # seconds for the whole run
# Seconds a run may spend in tests stopped by a timeout; after that its remaining tests
# are not run, each reported as such.
TIMEOUT_BUDGET = 60.0
STOP_GRACE = 10.0  # seconds a stopped run gets to tear its servers down
MAX_SHARDS = 2  # child processes one interactive grade is split into, at most
# Seconds each test file of a stage needs (the reference's tests, as graded), which
# balance the shards; `python -m workbook.grader.bench weights` writes it.
SHARD_WEIGHTS = Path(__file__).with_name("shard_weights.json")
# Seconds each test costs beyond its own duration: collecting it, the grader's records and
# integrity checks after it (stage 02's starter: 300 tests, 3.6 s in the tests themselves,
# 6.6 s for the child's session).
PER_TEST_SECONDS = 0.01


@dataclass(frozen=True)
class Suite:
    """A stage as the grader sees it: its name, reference copy and test folder."""

    name: str  # "02_router": the folder name a graded copy must have
    reference: Path  # the reference copy, whose regions give titles and hints
    tests: Path  # the suite that grades it

    @classmethod
    def of(cls, stage: int | str) -> Suite:
        """Return the suite of a registered stage (``2`` or ``"02_router"``)."""
        name = stage_name(stage)
        return cls(name=name, reference=reference_dir(name), tests=REPO / "tests" / name)

    @classmethod
    def registered(cls) -> list[Suite]:
        """Return the suite of every registered stage, in order."""
        return [cls.of(name) for name in STAGES.values()]

    @property
    def number(self) -> int:
        return int(self.name.split("_", 1)[0])

    def regions(self) -> list[Region]:
        """Return the reference's exercise regions, in order (or raise RegionError)."""
        return find_regions(self.reference)


@dataclass
class TestResult:
    """One test's outcome, with the details of its failure if it failed."""

    nodeid: str
    exercise: str | None = None
    rule: str | None = None
    outcome: str = "failed"  # passed | failed | skipped
    phase: str | None = None
    duration: float = 0.0  # seconds, setup + call + teardown
    cpu: float = 0.0  # CPU seconds the grading process used meanwhile (all its threads)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Return the test's ``file::name`` without the folders before the file."""
        path, _, rest = self.nodeid.partition("::")
        return f"{path.rsplit('/', 1)[-1]}::{rest}" if rest else path


@dataclass
class Run:
    """What one child pytest run produced."""

    tests: list[TestResult]
    collect_errors: list[dict[str, str]]
    stopped: str | None  # why the run was cut short, if it was
    exit_status: int | None
    duration: float
    output: str  # the child's own console output, for debugging
    tampered: list[str] = field(default_factory=list)  # evidence that the run was forged
    contained: list[str] = field(default_factory=list)  # what the sandbox had to stop

    def problem(self) -> str | None:
        """Return why the suite could not run at all (usage or internal error)."""
        if self.tests or self.collect_errors or self.exit_status in {0, 1, 2, 5, None}:
            return None
        return tail(self.output)


def tail(text: str, lines: int = 12) -> str:
    """Return the last non-empty lines of a console output."""
    kept = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


@contextlib.contextmanager
def graded_folder(suite: Suite, folder: Path) -> Iterator[Path]:
    """Yield a scratch copy of ``folder`` named like the stage (``02_router``).

    The suites find the copy under test by its folder name, so a submission
    in ``alice/`` is graded as a temporary ``02_router/``. A folder that
    holds the stage folder (``alice/02_router/``) is graded as that. The
    copy is always a fresh one: the run (and, with the sandbox, the only
    place it may write) never touches the submission itself, and the
    reference is never graded in place.
    """
    folder = folder.resolve()
    nested = folder / suite.name
    if folder.name != suite.name and nested.is_dir():
        folder = nested
    with tempfile.TemporaryDirectory(prefix="wire-up-grade-") as temporary:
        copy = Path(temporary) / suite.name
        copy_stage(folder, copy)
        yield copy


def child_command(
    suite: Suite,
    folder: Path,
    results: Path | None,
    *,
    timeout: float,
    only: Collection[str] | None,
    collect_only: bool,
    timeout_budget: float | None = None,
    cpu_timeout: float = DEFAULT_CPU_TIMEOUT,
    paths: Sequence[Path] | None = None,
) -> list[str]:
    """Return the argv of the child pytest run.

    Results go to the channel when ``results`` is None. ``paths`` (test
    files of the suite) runs only those: one shard's share.
    """
    command = [
        sys.executable,
        "-m",
        "pytest",
        *(str(path) for path in (paths or [suite.tests])),
        "-p",
        "pytest_timeout",
        "-p",
        "workbook.grader.plugin",
        *(["--grader-results", str(results)] if results else []),
        "--stage-dir",
        str(folder),
        "-p",
        "no:cacheprovider",
        # --tb=native: a file that fails to load is reported with the file and line of
        # its error. Once collected, the plugin turns pytest's tracebacks off (the grader
        # describes each failure itself): even native ones were most of a failing run's
        # reporting time (Python 3.11 parses each line again to place its carets).
        "-q",
        "--no-header",
        "--color=no",
        "-rN",
        "--tb=native",
        "--continue-on-collection-errors",
        "--timeout",
        f"{timeout:g}",
        "--grader-cpu-timeout",
        f"{cpu_timeout if timeout else 0:g}",
        "--grader-timeout-budget",
        f"{TIMEOUT_BUDGET if timeout_budget is None else timeout_budget:g}",
    ]
    if only is not None:
        command += ["--grader-only", ",".join(sorted(only)) or "none"]
    if collect_only:
        command.append("--collect-only")
    return command


def run_suite(
    suite: Suite,
    folder: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
    only: Collection[str] | None = None,
    collect_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
    sandbox: sandboxing.Limits | None = None,
    timeout_budget: float | None = None,
    cpu_timeout: float = DEFAULT_CPU_TIMEOUT,
    shards: int = 1,
) -> Run:
    """Run ``suite`` against the stage copy in ``folder`` and return every outcome.

    ``only`` limits the run to tests tagged with those exercise ids. The
    ``progress`` callback gets (tests finished, tests collected) as the run
    goes. With ``sandbox`` (limits), the child runs under bwrap with only
    ``folder``'s parent writable (see ``sandbox.py``).

    The child reports on a pipe, every record signed with a key it gets on
    a second descriptor; the canaries it must plant come with the key
    (``guard.py``). What cannot be verified marks the run tampered.

    ``shards`` > 1 splits the suite's test files into that many children
    run at once (:func:`split_files`); each gets its own secret and
    canaries, and its own copy of ``folder`` (a fresh temporary folder of
    the same name), since tests and servers write in the copy. The runs are
    merged (:func:`merge_runs`). The total timeout and Ctrl-C
    (:data:`stopping`) stop every shard; the timeout budget is shared out
    between them, so the whole run never spends more than it in timeouts.
    """
    started = time.monotonic()
    shares = split_files(suite, shards)
    budget = TIMEOUT_BUDGET if timeout_budget is None else timeout_budget
    launched: list[Shard] = []
    with contextlib.ExitStack() as stack:
        # Every copy is made before any shard starts, so none copies another's writes.
        copies = [folder] + [stack.enter_context(scratch_copy(folder)) for _ in shares[1:]]
        try:
            for paths, copy in zip(shares, copies, strict=True):
                launched.append(
                    start_shard(
                        suite,
                        copy,
                        stack,
                        paths=paths,
                        timeout=timeout,
                        only=only,
                        collect_only=collect_only,
                        sandbox=sandbox,
                        timeout_budget=budget / len(shares),
                        cpu_timeout=cpu_timeout,
                    )
                )
            stopped = wait(
                [shard.process for shard in launched],
                total_timeout,
                [shard.reader for shard in launched],
                progress,
            )
        except BaseException:
            stop([shard.process for shard in launched])
            raise
        for shard in launched:
            shard.reader.join(STOP_GRACE)
        runs = [shard.finish(stopped, collect_only=collect_only) for shard in launched]
    return merge_runs(runs, shares, suite_files(suite), duration=time.monotonic() - started)


@dataclass
class Shard:
    """One child pytest run of a grade: its process, its secret and where its output goes."""

    paths: list[Path] | None  # the test files it runs (None: the whole suite)
    secret: guard.Secret
    process: subprocess.Popen[bytes]
    reader: ChannelReader
    output: IO[bytes]
    contained: list[str]

    def finish(self, stopped: str | None, *, collect_only: bool) -> Run:
        """Return the verified, collated run of this shard (canaries checked and taken out)."""
        self.output.seek(0)
        text = self.output.read().decode("utf-8", errors="replace")
        records, problems = guard.verify_lines(self.secret.key, self.reader.lines)
        run = collate(
            records,
            stopped=stopped,
            exit_status=self.process.returncode,
            duration=0.0,
            output=text,
        )
        if not collect_only:
            run.tampered += problems + check_canaries(run, self.secret.canaries)
        run.contained = self.contained
        if self.paths and not (run.tests or run.collect_errors or stopped or run.exit_status == 5):
            # A shard that ended without a word (it crashed, or its code exited): its files'
            # tests must not vanish from the merged run, so each file counts as not loaded.
            message = (
                f"the run of this file ended before it reported (exit status {run.exit_status})"
            )
            run.collect_errors = [
                {"nodeid": node_path(path), "message": message} for path in self.paths
            ]
        return run


def start_shard(
    suite: Suite,
    folder: Path,
    stack: contextlib.ExitStack,
    *,
    paths: list[Path] | None,
    timeout: float,
    only: Collection[str] | None,
    collect_only: bool,
    sandbox: sandboxing.Limits | None,
    timeout_budget: float,
    cpu_timeout: float,
) -> Shard:
    """Start one child pytest run over ``paths`` against ``folder``; ``stack`` cleans up."""
    exercises = sorted(only) if only is not None else [region.id for region in suite.regions()]
    secret = (
        guard.Secret.fresh(exercises, avoid=test_names(suite.tests))
        if not collect_only
        else guard.Secret(secrets.token_bytes(32))
    )
    secret_read, secret_write = os.pipe()
    results_read, results_write = os.pipe()
    try:
        os.write(secret_write, secret.dumps())
    finally:
        os.close(secret_write)
    command = child_command(
        suite,
        folder,
        None,
        timeout=timeout,
        only=only,
        collect_only=collect_only,
        timeout_budget=timeout_budget,
        cpu_timeout=cpu_timeout,
        paths=paths,
    )
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1")
    env[STAGE_DIR_VARIABLE] = str(folder)
    # The venv's scripts first on PATH: a stage's own start script (run_gunicorn.sh) finds
    # the venv's gunicorn beside the copy's ../../.venv, which a scratch copy has not got.
    scripts = str(Path(sys.executable).parent)
    rest = [part for part in env.get("PATH", "").split(os.pathsep) if part and part != scripts]
    env["PATH"] = os.pathsep.join([scripts, *rest])
    env[guard.CHANNEL_VARIABLE] = f"{secret_read},{results_write}"
    lazy_trust_store(env)
    # Only the plugins the suites use (-p in child_command): anyio's and the others'
    # entry points cost start-up time in every run and nothing else.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    if sandbox is not None:
        env[HYPOTHESIS_STORAGE] = str(hypothesis_storage(folder.parent))
    reader = ChannelReader(results_read)
    contained: list[str] = []
    output = stack.enter_context(tempfile.TemporaryFile())
    preexec = None
    if sandbox is not None:
        command = sandboxing.wrap(command, writable=[folder.parent], cwd=REPO, limits=sandbox)
        limits = stack.enter_context(sandboxing.applied(sandbox))
        preexec = limits.preexec
        stack.callback(lambda: contained.extend(limits.events()))
    try:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(secret_read, results_write),
            preexec_fn=preexec,
        )
    except BaseException:
        os.close(results_read)
        raise
    finally:
        os.close(secret_read)
        os.close(results_write)
    reader.start()
    return Shard(paths, secret, process, reader, output, contained)


@contextlib.contextmanager
def scratch_copy(folder: Path) -> Iterator[Path]:
    """Yield a fresh copy of the graded copy ``folder``, for a second shard to write in."""
    with tempfile.TemporaryDirectory(prefix="wire-up-shard-") as temporary:
        copy = Path(temporary) / folder.name
        copy_stage(folder, copy)
        yield copy


def shard_count(requested: int | None = None, *, batch: bool = False) -> int:
    """Return how many child processes one grade is split into: the one place it is chosen.

    ``requested`` (``--shards N``) wins. Otherwise a batch runs each
    submission in one child (it already grades one submission per core),
    and an interactive grade uses up to :data:`MAX_SHARDS` of the cores this
    process may run on: each shard pays the start-up (about 1-2 s of CPU
    time), so more shards than cores only cost.
    """
    if requested is not None:
        return max(1, requested)
    if batch:
        return 1
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, min(MAX_SHARDS, usable))


def suite_files(suite: Suite) -> list[Path]:
    """Return the suite's test files in the order pytest runs them (by name, folder by folder)."""
    if suite.tests.is_file():
        return [suite.tests]
    return sorted(suite.tests.rglob("test_*.py"))


def file_weights(suite: Suite, files: list[Path]) -> dict[Path, float]:
    """Return the seconds each test file is expected to take, from :data:`SHARD_WEIGHTS`.

    A file's weight is its tests' seconds plus :data:`PER_TEST_SECONDS` for
    each of them. A file the table lacks weighs its count of test functions
    times the stage's seconds per test (1 s when the table has nothing on
    the stage).
    """
    try:
        table = json.loads(SHARD_WEIGHTS.read_text(encoding="utf-8")).get(suite.name, {})
    except (OSError, ValueError):
        table = {}
    known = {name: entry for name, entry in table.items() if isinstance(entry, dict)}
    known_weights = {
        name: float(entry.get("seconds", 0)) + PER_TEST_SECONDS * int(entry.get("tests", 0))
        for name, entry in known.items()
    }
    tests = sum(int(entry.get("tests", 0)) for entry in known.values())
    seconds = sum(known_weights.values())
    per_test = seconds / tests if seconds > 0 and tests else 1.0
    weights = {}
    for file in files:
        weight = known_weights.get(
            file.relative_to(suite.tests).as_posix() if file != suite.tests else ""
        )
        if weight:
            weights[file] = weight
        else:
            weights[file] = max(1, len(test_names(file))) * per_test
    return weights


def split_files(suite: Suite, shards: int) -> list[list[Path] | None]:
    """Return each shard's test files: whole files, balanced by their expected seconds.

    The tests of one file stay together (its module fixtures, its servers).
    The heaviest file goes first to the lightest shard, and so on (longest
    processing time first); each shard runs its files in the suite's order.
    One shard (or a suite of one file) is ``[None]``: the whole suite, as given.
    """
    files = suite_files(suite)
    shards = min(shards, len(files))
    if shards <= 1:
        return [None]
    weights = file_weights(suite, files)
    loads = [0.0] * shards
    shares: list[list[Path]] = [[] for _ in range(shards)]
    for file in sorted(files, key=lambda file: (-weights[file], file)):
        lightest = loads.index(min(loads))
        shares[lightest].append(file)
        loads[lightest] += weights[file]
    order = {file: index for index, file in enumerate(files)}
    return [sorted(share, key=order.__getitem__) for share in shares if share]


def merge_runs(
    runs: list[Run], shares: list[list[Path] | None], files: list[Path], *, duration: float
) -> Run:
    """Merge the shards' runs into the run one child would have made.

    Tests and load errors in the suite's file order; any tampering, anything
    the sandbox stopped and the reason a shard was stopped count for the
    whole run; the exit status is the worst one (a shard that collected
    nothing, status 5, counts only if all did); the output is each shard's,
    labelled with its files.
    """
    if len(runs) == 1:
        run = runs[0]
        run.duration = duration
        return run
    position = {node_path(file): index for index, file in enumerate(files)}

    def place(nodeid: str) -> int:
        return position.get(nodeid.partition("::")[0].rstrip("/"), len(files))

    tests = [test for run in runs for test in run.tests]
    errors = [error for run in runs for error in run.collect_errors]
    statuses = [run.exit_status for run in runs]
    found = [status for status in statuses if status != 5]
    exit_status: int | None
    if None in statuses:
        exit_status = None
    elif not found:
        exit_status = 5
    else:
        exit_status = max(status for status in found if status is not None)
    outputs = []
    for number, (run, share) in enumerate(zip(runs, shares, strict=True), 1):
        names = ", ".join(path.name for path in share or [])
        outputs.append(f"── shard {number} of {len(runs)}: {names} ──\n{run.output}")
    return Run(
        tests=sorted(tests, key=lambda test: place(test.nodeid)),  # stable: each file's order
        collect_errors=sorted(errors, key=lambda error: place(error["nodeid"])),
        stopped=next((run.stopped for run in runs if run.stopped), None),
        exit_status=exit_status,
        duration=duration,
        output="\n".join(outputs),
        tampered=list(dict.fromkeys(problem for run in runs for problem in run.tampered)),
        contained=[event for run in runs for event in run.contained],
    )


def node_path(path: Path) -> str:
    """Return a test file's path as its node ids start (relative to the repo)."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path.as_posix()


def lazy_trust_store(env: dict[str, str]) -> None:
    """Point the child's TLS clients at the system's CA folder, read only when needed.

    Every ``httpx.Client`` builds its own TLS context, and with httpx's
    defaults (or ``SSL_CERT_FILE``) that parses a whole CA bundle: about
    50 ms of CPU time per client. The suites make 10-70 clients in a run (a
    bare ``httpx.get`` is one), all for plain HTTP on loopback, so that was
    up to 3.5 s of a run. With ``SSL_CERT_DIR`` naming a hashed CA folder
    (httpx honours it, ``trust_env``), OpenSSL looks a certificate up there
    only during a handshake that needs one; a TLS connection is verified as
    before. Where the system has no such folder, ``env`` is left as it is.
    """
    import ssl  # here: the parent has no other use for it (25 ms to import)

    paths = ssl.get_default_verify_paths()
    folder = next(
        (path for path in (paths.capath, paths.openssl_capath) if path and os.path.isdir(path)),
        None,
    )
    if folder is not None:
        env.pop("SSL_CERT_FILE", None)  # httpx prefers the file to the folder
        env["SSL_CERT_DIR"] = folder


HYPOTHESIS_STORAGE = "HYPOTHESIS_STORAGE_DIRECTORY"


def hypothesis_storage(scratch: Path) -> Path:
    """Return a writable hypothesis folder for a sandboxed run, seeded from the repo's caches.

    Hypothesis caches the constants it finds in local modules and its
    Unicode tables in ``.hypothesis/``. Without them the first hypothesis
    test of a run spends about 3 s of CPU time building them again, which
    a sandboxed run (the repo is read-only) would do every time. Each run
    gets its own copy, so no submission can change what another one's
    tests draw; the example database is not copied (grading uses none).
    """
    storage = scratch / ".hypothesis"
    source = Path(os.environ.get(HYPOTHESIS_STORAGE) or REPO / ".hypothesis")
    for cache in ("constants", "unicode_data"):
        if (source / cache).is_dir():
            shutil.copytree(source / cache, storage / cache, dirs_exist_ok=True)
    storage.mkdir(exist_ok=True)
    return storage


def test_names(tests: Path) -> set[str]:
    """Return the names of the test functions defined in a suite's files."""
    files = [tests] if tests.is_file() else sorted(tests.rglob("test_*.py"))
    names: set[str] = set()
    for file in files:
        names.update(
            re.findall(r"def (test_\w+)", file.read_text(encoding="utf-8", errors="replace"))
        )
    return names


class ChannelReader(threading.Thread):
    """Read the child's result lines from the pipe as they come."""

    def __init__(self, descriptor: int) -> None:
        super().__init__(daemon=True)
        self.descriptor = descriptor
        self.lines: list[str] = []

    def run(self) -> None:
        with open(self.descriptor, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                self.lines.append(line)

    def records(self) -> list[dict[str, Any]]:
        """Return the records so far, unverified: for the progress display only."""
        found = []
        for line in list(self.lines):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                found.append(json.loads(json.loads(line)["record"]))
        return found


def check_canaries(run: Run, canaries: list[guard.Canary]) -> list[str]:
    """Return each canary that did not come out as planted; take them out of the results."""
    planted = {canary.name: canary for canary in canaries}
    problems = []
    real, seen = [], []
    for test in run.tests:
        name = test.nodeid.rpartition("::")[2]
        if name in planted:
            seen.append(name)
            canary = planted[name]
            # A must-fail canary that did not fail is forged. A must-pass one can only fail
            # honestly before it runs (a fixture of the suite, the run being stopped), so
            # only a failure of its call counts.
            forged = (
                test.outcome != "failed"
                if canary.expect == "failed"
                else test.outcome == "skipped"
                or (
                    test.outcome == "failed"
                    and test.phase == "call"
                    and test.details.get("kind") != "not_run"
                )
            )
            if forged:
                problems.append(
                    f"a check planted by the grader, which had to {canary.expect[:-2]}, "
                    f"was reported {test.outcome}"
                )
        else:
            real.append(test)
    if canaries and real and not seen and not run.stopped:
        problems.append(
            "the checks planted by the grader never ran: the test collection was changed"
        )
    run.tests = real
    return problems


# Set by a batch that was interrupted: Ctrl-C and SIGTERM reach only the main thread, and
# the runs in progress wait in the pool's threads.
stopping = threading.Event()


def wait(
    processes: list[subprocess.Popen[bytes]],
    total_timeout: float,
    readers: list[ChannelReader],
    progress: Callable[[int, int], None] | None,
) -> str | None:
    """Wait for every child run; stop them all when the run overruns. Return why it was stopped.

    ``total_timeout`` counts from now for the whole run, however many
    children it has; :data:`stopping` (a batch's Ctrl-C) and a
    KeyboardInterrupt here stop every child too.
    """
    deadline = time.monotonic() + total_timeout
    try:
        while running := [process for process in processes if process.poll() is None]:
            if stopping.is_set():
                stop(processes)
                raise KeyboardInterrupt
            if time.monotonic() > deadline:
                stop(processes)
                return f"the grading run was stopped after {total_timeout:g} s"
            if progress is not None:
                report_progress(
                    [record for reader in readers for record in reader.records()], progress
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                running[0].wait(timeout=0.25)
    except KeyboardInterrupt:
        stop(processes)
        raise
    return None


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Interrupt the child runs (so their fixtures stop their servers), then kill them.

    Each signal goes to every child's process group at once; the grace is
    shared, so stopping two children takes no longer than stopping one.
    """
    for stop_signal in (signal.SIGINT, signal.SIGKILL):
        running = [process for process in processes if process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, stop_signal)
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        if all(process.poll() is not None for process in processes):
            return


def report_progress(records: list[dict[str, Any]], progress: Callable[[int, int], None]) -> None:
    collected = sum(1 for record in records if record.get("event") == "collected")
    finished = sum(1 for record in records if record.get("event") == "result")
    if collected:
        progress(finished, collected)


def collate(
    records: list[dict[str, Any]],
    *,
    stopped: str | None,
    exit_status: int | None,
    duration: float,
    output: str,
) -> Run:
    """Merge the plugin's records into one TestResult per collected test."""
    tests: dict[str, TestResult] = {}
    errors: list[dict[str, str]] = []
    tampered: list[str] = []
    for record in records:
        event = record.get("event")
        if event == "collected":
            tests[record["nodeid"]] = TestResult(
                record["nodeid"], record.get("exercise"), record.get("rule")
            )
        elif event == "collect_error":
            errors.append({"nodeid": record["nodeid"], "message": record.get("message", "")})
        elif event == "tamper":
            tampered += [str(problem) for problem in record.get("problems", [])]
        elif event == "result":
            test = tests.setdefault(record["nodeid"], TestResult(record["nodeid"]))
            test.outcome = record.get("outcome", "failed")
            test.phase = record.get("phase")
            test.duration = float(record.get("duration") or 0.0)
            test.cpu = float(record.get("cpu") or 0.0)
            test.details = {
                key: value
                for key, value in record.items()
                if key not in {"event", "nodeid", "outcome", "phase", "duration", "cpu"}
            }
    finished = {record["nodeid"] for record in records if record.get("event") == "result"}
    began = {record["nodeid"] for record in records if record.get("event") == "start"}
    cut_short = stopped or "the test run ended early"
    for test in tests.values():
        if test.nodeid in finished:
            continue
        test.outcome = "failed"
        if test.nodeid in began:
            test.details = {
                "kind": "not_run",
                "message": f"{cut_short} while this test ran "
                f"(an endless loop, or a server that never answers?)",
            }
        else:
            test.details = {"kind": "not_run", "message": f"not run: {cut_short} before it"}
    return Run(list(tests.values()), errors, stopped, exit_status, duration, output, tampered)


_collected: dict[tuple[Path, Path], list[TestResult]] = {}
_collecting = threading.Lock()


def reference_tests(suite: Suite, *, timeout: float) -> list[TestResult]:
    """Return the tests the suite collects against its reference, collected once per process.

    A child pytest run with ``--collect-only`` (2 s of CPU for stage 02):
    a batch pays it once, however many of its submissions fail to load.
    An empty collection (something went wrong) is not kept.
    """
    key = (suite.reference, suite.tests)
    with _collecting:
        if key not in _collected:
            tests = run_suite(
                suite, suite.reference, timeout=timeout, collect_only=True, total_timeout=120
            ).tests
            if not tests:
                return tests
            _collected[key] = tests
        return _collected[key]


def fill_unloaded(run: Run, suite: Suite, *, timeout: float) -> Run:
    """Add the tests a submission's run could not load, as failures.

    When a test file fails to load (say, a syntax error in the submission),
    its tests are never collected. Collect the suite against the reference to
    learn which tests the submission missed, and score each as failed with
    the loading error. A run stopped by the total timeout before its tests
    were collected (an import that never returns, or a slow start) scores
    each as "not run", like the tests a stopped run never reached.
    """
    stopped_while_collecting = bool(run.stopped) and not run.tests and not run.collect_errors
    if not run.collect_errors and not run.problem() and not stopped_while_collecting:
        return run
    seen = {test.nodeid for test in run.tests}
    fallback = run.problem() or "the test file could not be loaded"
    for test in reference_tests(suite, timeout=timeout):
        if test.nodeid in seen:
            continue
        details = {"kind": "not_run", "message": f"not run: {run.stopped} before it"}
        if not stopped_while_collecting:
            error = next(
                (
                    error
                    for error in run.collect_errors
                    if test.nodeid.startswith(error["nodeid"].rstrip("/"))
                ),
                None,
            )
            message = error["message"] if error else fallback
            last = message.strip().splitlines()[-1] if message.strip() else "unknown error"
            details = {
                "kind": "not_loaded",
                "message": f"the test file could not be loaded: {last}",
            }
        run.tests.append(
            TestResult(test.nodeid, test.exercise, test.rule, "failed", "collect", details=details)
        )
    if run.problem() and not run.collect_errors and not run.stopped:
        run.collect_errors.append(
            {"nodeid": str(suite.tests.relative_to(REPO)), "message": fallback}
        )
    return run


def guarded_trees(suite: Suite) -> list[Path]:
    """Return the folders whose Python files a run must leave as they were.

    ``tests/`` (the suite and the ``conftest.py`` above it), ``workbook/`` and
    ``stages/``: the trees whose bytecode the parent keeps (``bytecode.trees``).
    """
    return bytecode.trees(suite)


def grade_run(
    suite: Suite,
    folder: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
    only: Collection[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    sandbox: sandboxing.Limits | None = None,
    timeout_budget: float | None = None,
    cpu_timeout: float = DEFAULT_CPU_TIMEOUT,
    shards: int = 1,
) -> Run:
    """Run a suite against any folder holding a copy of the stage, and fill gaps.

    Before the run, the copy is checked for modules that would shadow what
    it does not own; around it, the suite, the workbook and the reference
    stages are fingerprinted, so a run that rewrote them is marked tampered.
    First the parent makes their bytecode whole (``bytecode.trusted``: the
    child writes none, it only reads what the parent wrote); a run that
    changed the trees (or the parent's manifest of that bytecode) gets the
    manifest back and every ``.pyc`` it does not list deleted: no plant
    outlives the run that made it.
    ``shards`` splits the run across child processes (:func:`run_suite`;
    :func:`shard_count` chooses it for the command line).
    """
    guarded = guarded_trees(suite)
    with bytecode.trusted(suite) as manifest:
        before = guard.tree_digest(*guarded)
        with graded_folder(suite, folder) as staged:
            shadows = guard.shadowing(
                staged,
                suite.reference,
                tests_root=suite.tests.parent,
                stages_root=suite.reference.parent,
            )
            run = run_suite(
                suite,
                staged,
                timeout=timeout,
                total_timeout=total_timeout,
                only=only,
                progress=progress,
                sandbox=sandbox,
                timeout_budget=timeout_budget,
                cpu_timeout=cpu_timeout,
                shards=shards,
            )
        changed = guard.tree_digest(*guarded) != before or bytecode.manifest_bytes() != manifest
    run.tampered = shadows + run.tampered
    if changed:
        run.tampered.append(
            "the suite, the workbook or a reference stage was changed on disk during the run"
        )
        bytecode.restore(suite, manifest)
    run = fill_unloaded(run, suite, timeout=timeout)
    if only is not None:
        run.tests = [test for test in run.tests if test.exercise in only]
    return run

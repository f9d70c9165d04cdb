"""Trusted bytecode beside the guarded trees: written by the grader, read by the child.

The grading child writes no bytecode (``PYTHONDONTWRITEBYTECODE``), so any
``.pyc`` that changes during a run is the submission's, and the before/after
fingerprint of the guarded trees (``guard.tree_digest``) stays exact. Without
a cache, though, every grade compiled every test module again, with pytest's
assertion rewriting (stage 04: 46 modules, about 1 s of CPU in each run).

So the trusted parent makes sure valid bytecode exists *before* the run, and
the child only reads it:

- ordinary modules (``workbook/``, the stages, the suites' support modules)
  get a checked-hash ``.pyc`` (PEP 552, ``py_compile``): the import system
  loads it only if the 64-bit hash of the source in its header matches the
  source on disk, so an edited source is never run from a stale ``.pyc``
  (unlike the default, which compares the source's mtime in whole seconds and
  its size);
- test modules, ``conftest.py`` files and the plugins pytest rewrites get
  pytest's own ``.pyc`` (``__pycache__/NAME.cpython-311-pytest-X.Y.Z.pyc``),
  written by a warm-up ``pytest --collect-only`` of the suite against the
  *reference* stage (trusted code), with the child's plugins, with bytecode
  writing on for that process alone. pytest (``_pytest/assertion/rewrite.py``,
  ``_read_pyc``) checks the same things: the magic number, the flags of a
  checked-hash pyc (3), and the source's hash; the file name carries the
  interpreter's cache tag and pytest's version.

The check before each run is cheap (one read of each source and of each
``.pyc`` header); the warm-up runs only when something is missing or stale.

Every ``.pyc`` the grader writes is recorded, with its SHA-256, in a
manifest (``__pycache__/trusted-bytecode.json`` at the repository's root).
Before a run, a ``.pyc`` in the trees that is not in the manifest, or whose
bytes changed, was not made by the grader: it is deleted (and rebuilt if it
is needed). The manifest is fingerprinted with the trees: a run that
changed either is marked tampered, and then the parent writes back the
manifest it read before the run and deletes every ``.pyc`` it does not list
(:func:`restore`), so nothing a run plants outlives it (not even for
``make test``, which reads the same bytecode). An unsandboxed run could
still plant a file outside these trees (the venv, say): the sandbox, with
its read-only repository and venv, is what stops that.

Processes share the cache through a lock file: a run holds a shared lock
from the first fingerprint to the last, and a warm-up an exclusive one, so
a warm-up in another grader never changes the trees under a run (which
would read as tampering). A second lock gives a waiting warm-up priority
over new runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import py_compile
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import IO, TYPE_CHECKING

from workbook.stages import REPO, STAGE_DIR_VARIABLE

if TYPE_CHECKING:
    from workbook.grader.runner import Suite

CACHE = REPO / "__pycache__"
MANIFEST = CACHE / "trusted-bytecode.json"
LOCK = CACHE / "trusted-bytecode.lock"
GATE = CACHE / "trusted-bytecode.gate"
#: pytest's default ``python_files`` (the project's pyproject keeps it) plus conftest.
TEST_PATTERNS = ("test_*.py", "*_test.py", "conftest.py")
CHECKED_HASH = b"\x03\x00\x00\x00"  # PEP 552 flags: hash-based, always checked
WARM_UP_TIMEOUT = 300.0  # seconds for one warm-up collection


def pytest_tag() -> str:
    """Return the tag of pytest's rewritten ``.pyc`` files (``cpython-311-pytest-9.2.0``)."""
    from _pytest._version import version

    return f"{sys.implementation.cache_tag}-pytest-{version}"


def trees(suite: Suite) -> list[Path]:
    """Return the folders whose bytecode the grader keeps: ``tests/``, ``workbook/``, ``stages/``.

    The same three for every suite (so one suite's warm-up never leaves
    files another suite's survey does not know), plus the suite's own
    folders where they lie elsewhere. ``tests/`` holds the ``conftest.py``
    above each suite, which pytest loads too.
    """
    roots = [
        REPO / "tests",
        REPO / "workbook",
        REPO / "stages",
        suite.tests,
        suite.reference.parent,
    ]
    kept: list[Path] = []
    for root in sorted({root.resolve() for root in roots}):
        if not any(root.is_relative_to(other) for other in kept):
            kept.append(root)
    return kept


def source_hash(source: Path) -> bytes:
    """Return the 8-byte hash a checked-hash ``.pyc`` of ``source`` carries (PEP 552)."""
    return importlib.util.source_hash(source.read_bytes())[:8]


def header_matches(pyc: Path, digest: bytes) -> bool:
    """Whether ``pyc`` is a checked-hash ``.pyc`` of this interpreter for a source of ``digest``."""
    try:
        with pyc.open("rb") as file:
            header = file.read(16)
    except OSError:
        return False
    return (
        header[:4] == importlib.util.MAGIC_NUMBER
        and header[4:8] == CHECKED_HASH
        and header[8:16] == digest
    )


def source_of(pyc: Path, tag: str) -> Path | None:
    """Return the source a ``__pycache__/NAME.TAG.pyc`` belongs to, or None for a stray file."""
    if pyc.parent.name != "__pycache__":
        return None
    for suffix in (f".{tag}.pyc", f".{sys.implementation.cache_tag}.pyc"):
        if pyc.name.endswith(suffix):
            return pyc.parent.parent / (pyc.name.removesuffix(suffix) + ".py")
    return None


def rewritten_by_pytest(source: Path, suite: Suite) -> bool:
    """Whether the suite's run loads ``source`` through pytest's assertion rewriter.

    The suite's test modules and the ``conftest.py`` files from ``tests/``
    down to them; the plugins pytest also rewrites are found by the warm-up.
    """
    if not any(fnmatch(source.name, pattern) for pattern in TEST_PATTERNS):
        return False
    tests = suite.tests.resolve()
    if source.is_relative_to(tests):
        return True
    return source.name == "conftest.py" and tests.is_relative_to(source.parent)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Survey:
    """What a suite's trees hold against what a run needs."""

    foreign: list[Path] = field(default_factory=list)  # .pyc files the grader did not write
    compile: list[Path] = field(default_factory=list)  # sources whose ordinary .pyc is missing
    rewrite: list[Path] = field(default_factory=list)  # sources whose pytest .pyc is missing

    def clean(self) -> bool:
        return not (self.foreign or self.compile or self.rewrite)


def read_manifest() -> dict[str, dict[str, str]]:
    """Return the manifest: ``{"pyc": {path: sha256}, "broken": {source: hash hex}}``."""
    try:
        data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"pyc": {}, "broken": {}}
    if not isinstance(data, dict):
        return {"pyc": {}, "broken": {}}
    return {
        "pyc": dict(data.get("pyc") or {}),
        "broken": dict(data.get("broken") or {}),
    }


def write_manifest(manifest: dict[str, dict[str, str]]) -> None:
    """Write the manifest atomically (beside it, then renamed over it)."""
    CACHE.mkdir(exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=CACHE, prefix=".manifest-", suffix=".tmp", delete=False, encoding="utf-8"
    ) as file:
        json.dump(manifest, file, indent=0, sort_keys=True)
    os.replace(file.name, MANIFEST)


def survey(suite: Suite, manifest: dict[str, dict[str, str]]) -> Survey:
    """Compare the suite's trees with what a run reads and with what the grader wrote.

    Reads every source (its hash) and every ``.pyc`` (its SHA-256 and header).
    """
    tag = pytest_tag()
    found = Survey()
    blessed = manifest["pyc"]
    broken = manifest["broken"]
    for root in trees(suite):
        for pyc in root.rglob("*.pyc"):
            if not pyc.is_file():
                continue
            source = source_of(pyc, tag)
            if (
                blessed.get(str(pyc)) != sha256(pyc)
                or source is None
                or not source.is_file()
                or not header_matches(pyc, source_hash(source))
            ):
                found.foreign.append(pyc)
        for source in root.rglob("*.py"):
            if not source.is_file() or "__pycache__" in source.parts:
                continue
            digest = source_hash(source)
            if broken.get(str(source)) == digest.hex():
                continue  # does not compile (a fixture of a broken submission, say)
            if rewritten_by_pytest(source, suite):
                pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
                if not header_matches(pyc, digest) or pyc in found.foreign:
                    found.rewrite.append(source)
            elif not any(fnmatch(source.name, pattern) for pattern in TEST_PATTERNS):
                pyc = Path(importlib.util.cache_from_source(str(source)))
                if not header_matches(pyc, digest) or pyc in found.foreign:
                    found.compile.append(source)
    return found


@contextlib.contextmanager
def locked(path: Path, mode: int) -> Iterator[IO[bytes] | None]:
    """Hold ``flock(mode)`` on ``path`` (a fresh open: threads exclude each other too).

    Yields None, holding nothing, where the lock file cannot be made (a
    read-only checkout): then nothing is written either.
    """
    try:
        CACHE.mkdir(exist_ok=True)
        file = path.open("ab")
    except OSError:
        yield None
        return
    with file:
        fcntl.flock(file.fileno(), mode)
        try:
            yield file
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)


def warm_up_command(suite: Suite) -> list[str]:
    """Return the argv of the warm-up: the child's own command, collecting the reference."""
    from workbook.grader.runner import DEFAULT_TIMEOUT, child_command

    return child_command(
        suite, suite.reference, None, timeout=DEFAULT_TIMEOUT, only=None, collect_only=True
    )


def warm_up(suite: Suite) -> str:
    """Collect the suite against its reference with bytecode writing on; return its output.

    Trusted code only: the reference stage, the suite, the workbook. The
    environment is the child's (its plugins, no autoloaded ones), less
    ``PYTHONDONTWRITEBYTECODE``.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env[STAGE_DIR_VARIABLE] = str(suite.reference)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("WORKBOOK_GRADER_CHANNEL", None)
    result = subprocess.run(
        warm_up_command(suite),
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=WARM_UP_TIMEOUT,
        check=False,
    )
    return result.stdout.decode("utf-8", errors="replace")


def rebuild(suite: Suite, found: Survey, manifest: dict[str, dict[str, str]]) -> None:
    """Delete the foreign ``.pyc`` files, write the missing ones, record them all.

    Runs under the exclusive lock.
    """
    for pyc in found.foreign:
        with contextlib.suppress(FileNotFoundError):
            pyc.unlink()
        manifest["pyc"].pop(str(pyc), None)
    for source in found.compile:
        try:
            py_compile.compile(
                str(source),
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
            )
        except (py_compile.PyCompileError, OSError, ValueError):
            manifest["broken"][str(source)] = source_hash(source).hex()
    if found.rewrite:
        warm_up(suite)
    tag = pytest_tag()
    for root in trees(suite):
        for pyc in root.rglob("*.pyc"):
            manifest["pyc"][str(pyc)] = sha256(pyc)
    for source in found.rewrite:  # still missing after the warm-up: pytest cannot load it
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        digest = source_hash(source)
        if not header_matches(pyc, digest):
            manifest["broken"][str(source)] = digest.hex()
    manifest["pyc"] = {
        path: hexed for path, hexed in manifest["pyc"].items() if Path(path).exists()
    }
    manifest["broken"] = {
        path: hexed for path, hexed in manifest["broken"].items() if Path(path).exists()
    }
    write_manifest(manifest)


def ensure(suite: Suite) -> Survey:
    """Make the suite's trusted bytecode whole, under the exclusive lock; return what was wrong.

    Cheap when nothing is missing: one survey under a shared lock.
    """
    with locked(GATE, fcntl.LOCK_EX), locked(LOCK, fcntl.LOCK_SH) as held:
        found = survey(suite, read_manifest())
        if found.clean() or held is None:
            return found
    with locked(GATE, fcntl.LOCK_EX), locked(LOCK, fcntl.LOCK_EX):
        manifest = read_manifest()
        found = survey(suite, manifest)
        if not found.clean():
            rebuild(suite, found, manifest)
        return found


def manifest_bytes() -> bytes:
    """Return the manifest as it is on disk (empty when there is none)."""
    try:
        return MANIFEST.read_bytes()
    except OSError:
        return b""


@contextlib.contextmanager
def trusted(suite: Suite) -> Iterator[bytes]:
    """Make the suite's bytecode whole, then hold it unchanged (a shared lock) for a run.

    Yields the manifest's bytes: a run that changes them is tampering too.
    Fingerprint the trees inside this block: no warm-up of another grader
    can write into them until it ends.
    """
    try:
        ensure(suite)
    except (OSError, subprocess.SubprocessError):
        pass  # a read-only checkout, a full disk: the run compiles from source, as before
    with contextlib.ExitStack() as shared:
        with locked(GATE, fcntl.LOCK_EX):
            shared.enter_context(locked(LOCK, fcntl.LOCK_SH))
        yield manifest_bytes()


def restore(suite: Suite, manifest: bytes) -> list[Path]:
    """After a run that changed the trees: put back the manifest, delete what it does not list.

    ``manifest`` is what :func:`trusted` yielded before the run. Whatever the
    run planted (a ``.pyc``, an entry in the manifest) does not outlive it;
    the grader's own bytecode stays. Returns the files deleted.
    """
    with locked(GATE, fcntl.LOCK_EX), locked(LOCK, fcntl.LOCK_EX) as held:
        if held is None:
            return []
        if manifest:
            CACHE.mkdir(exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "wb", dir=CACHE, prefix=".manifest-", suffix=".tmp", delete=False
            ) as file:
                file.write(manifest)
            os.replace(file.name, MANIFEST)
        else:
            with contextlib.suppress(FileNotFoundError):
                MANIFEST.unlink()
        found = survey(suite, read_manifest())
        for pyc in found.foreign:
            with contextlib.suppress(FileNotFoundError):
                pyc.unlink()
        return found.foreign


def main(argv: list[str] | None = None) -> int:
    """Warm every stage's suite (or those named): ``python -m workbook.grader.bytecode [N ...]``."""
    from workbook.grader.runner import Suite

    names = (argv if argv is not None else sys.argv[1:]) or None
    suites = [Suite.of(name) for name in names] if names else Suite.registered()
    for suite in suites:
        found = ensure(suite)
        done = (
            f"{len(found.compile)} compiled, {len(found.rewrite)} rewritten by pytest, "
            f"{len(found.foreign)} not ours deleted"
        )
        print(f"trusted bytecode for {suite.name}: {'up to date' if found.clean() else done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

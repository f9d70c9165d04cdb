"""Evidence that learner code cannot forge: a signed results channel, canaries, integrity checks.

The learner's modules run inside the child pytest that makes the
assertions, so anything in that process can be changed by them. The grade
therefore rests on checks the learner's code cannot see coming or cannot
reach:

- **A signed results channel.** The parent hands the child a random key
  and the results pipe through inherited file descriptors, read and
  hidden by the plugin before any learner module is imported. Every record
  carries a sequence number and an HMAC-SHA256 over it
  (:func:`sign`, :func:`verify_lines`); a record the plugin did not write,
  a gap or a replay marks the run tampered.
- **Canaries.** The parent picks, at random, a few tests the learner cannot
  predict (random names, a real exercise tag, placed among the real
  tests): some must fail and some must pass. A run whose canaries do not
  come out as planted was forged (every report said "passed", say).
- **Integrity of pytest itself** (:class:`Integrity`): the functions that
  turn a test's exception into a report, the assertion rewriter, the hook
  implementations that may touch a report, the import system's finders and
  the trace function are fingerprinted before learner code loads and
  checked after each test.
- **Shadowing** (:func:`shadowing`, run by the parent on the copy before
  the run): a top-level module in the copy that would take the place of a
  test-support module, a module of the standard library, an installed
  package, another stage or the workbook itself.

What this cannot stop, and what the sandbox (``--sandbox``) is for, is
described in ``workbook/grader/README.md`` ("Threat model").
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHANNEL_VARIABLE = "WORKBOOK_GRADER_CHANNEL"  # "SECRET_FD,RESULTS_FD" for the child
CANARY_PREFIX_WORDS = (
    "accepts",
    "keeps",
    "rejects",
    "returns",
    "sends",
    "reads",
    "closes",
    "answers",
    "decodes",
    "frames",
    "routes",
    "parses",
)
CANARY_NOUNS = (
    "empty_value",
    "second_field",
    "trailing_slash",
    "long_target",
    "lower_case",
    "repeated_name",
    "unicode_path",
    "zero_length",
    "late_header",
    "query_only",
    "plain_text",
    "missing_part",
)
CANARY_ENDINGS = (
    "",
    "_once",
    "_in_order",
    "_as_is",
    "_unchanged",
    "_at_the_end",
    "_first",
    "_again",
    "_twice",
    "_early",
)


# ── the secret and the signed channel ────────────────────────────────────────


@dataclass(frozen=True)
class Canary:
    """A planted test: ``expect`` is ``passed`` or ``failed``."""

    name: str
    expect: str
    exercise: str | None
    message: str


@dataclass
class Secret:
    """What the parent tells the child through the secret descriptor."""

    key: bytes
    canaries: list[Canary] = field(default_factory=list)

    @classmethod
    def fresh(cls, exercises: Iterable[str], avoid: Iterable[str] = ()) -> Secret:
        """Return a new key and 3-5 canaries tagged with random exercises of the stage.

        Canary names read like the suite's (``test_rejects_trailing_slash_once``)
        and never repeat a name in ``avoid`` (the suite's own test names).
        """
        chooser = secrets.SystemRandom()
        ids: list[str | None] = [*sorted(set(exercises))] or [None]
        count = chooser.randint(3, 5)
        canaries = []
        used: set[str] = set(avoid)
        for index in range(count):
            while True:
                name = (
                    f"test_{chooser.choice(CANARY_PREFIX_WORDS)}_"
                    f"{chooser.choice(CANARY_NOUNS)}{chooser.choice(CANARY_ENDINGS)}"
                )
                if name not in used:
                    used.add(name)
                    break
            expect = "failed" if index < 2 else chooser.choice(("passed", "failed"))
            canaries.append(Canary(name, expect, chooser.choice(ids), secrets.token_hex(8)))
        chooser.shuffle(canaries)
        return cls(secrets.token_bytes(32), canaries)

    def dumps(self) -> bytes:
        return json.dumps(
            {"key": self.key.hex(), "canaries": [canary.__dict__ for canary in self.canaries]}
        ).encode()

    @classmethod
    def loads(cls, data: bytes) -> Secret:
        raw = json.loads(data)
        return cls(bytes.fromhex(raw["key"]), [Canary(**canary) for canary in raw["canaries"]])


def sign(key: bytes, sequence: int, record: dict[str, Any]) -> str:
    """Return one channel line: the record, its sequence number and their HMAC-SHA256."""
    body = json.dumps(record, ensure_ascii=False, default=str, sort_keys=True)
    mac = hmac.new(key, f"{sequence}\n{body}".encode(), hashlib.sha256).hexdigest()
    return json.dumps({"seq": sequence, "record": body, "mac": mac}, ensure_ascii=False) + "\n"


def verify_lines(key: bytes, lines: Iterable[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Check each channel line; return the genuine records and what was wrong.

    A last line cut off by a kill is not counted as forged.
    """
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    expected = 0
    lines = list(lines)
    for number, line in enumerate(lines):
        try:
            outer = json.loads(line)
            sequence, body, mac = int(outer["seq"]), str(outer["record"]), str(outer["mac"])
        except (ValueError, KeyError, TypeError):
            if number != len(lines) - 1:
                problems.append("a line on the results channel was not written by the grader")
            continue
        good = hmac.new(key, f"{sequence}\n{body}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, mac):
            problems.append("a record on the results channel carries a forged signature")
            continue
        if sequence != expected:
            problems.append(
                f"results channel record {sequence} arrived where {expected} was due "
                f"(a record was replayed or removed)"
            )
            expected = sequence
        expected += 1
        records.append(json.loads(body))
    return records, problems


def open_channel() -> tuple[Secret | None, int | None]:
    """In the child: read the secret, return it and the results descriptor (or Nones).

    Called when the plugin is imported, before any learner module: the
    environment variable is removed and the secret descriptor closed, so
    learner code finds neither.
    """
    spec = os.environ.pop(CHANNEL_VARIABLE, None)
    if not spec:
        return None, None
    secret_fd, results_fd = (int(part) for part in spec.split(","))
    chunks = []
    while chunk := os.read(secret_fd, 65536):
        chunks.append(chunk)
    os.close(secret_fd)
    # Move the results descriptor to an unremarkable number, away from the one in the variable.
    moved = os.dup(results_fd)
    os.close(results_fd)
    return Secret.loads(b"".join(chunks)), moved


# ── integrity of pytest in the child ─────────────────────────────────────────

WATCHED = (
    (
        "_pytest.runner",
        (
            "call_and_report",
            "runtestprotocol",
            "call_runtest_hook",
            "pytest_runtest_makereport",
            "check_interactive_exception",
            "show_test_item",
            "CallInfo",
        ),
    ),
    ("_pytest.reports", ("TestReport", "CollectReport", "BaseReport")),
    ("_pytest.python", ("pytest_pyfunc_call", "Function")),
    ("_pytest.skipping", ("pytest_runtest_makereport", "evaluate_xfail_marks")),
    ("_pytest.main", ("pytest_runtestloop",)),
    (
        "_pytest.assertion.rewrite",
        ("rewrite_asserts", "AssertionRewriter", "AssertionRewritingHook"),
    ),
    ("_pytest.outcomes", ("fail", "skip", "xfail", "exit")),
    ("pluggy._callers", ("_multicall",)),
    ("pluggy._hooks", ("HookCaller", "_HookCaller")),
    ("pluggy._manager", ("PluginManager",)),
    (
        "builtins",
        (
            "AssertionError",
            "BaseException",
            "Exception",
            "isinstance",
            "getattr",
            "__import__",
            "compile",
            "exec",
        ),
    ),
    (
        "workbook.grader.plugin",
        (
            "Recorder",
            "Channel",
            "plant_canaries",
            "canary_item",
            "exercise_of",
            "pytest_collection_modifyitems",
        ),
    ),
    ("workbook.grader.guard", ("Integrity", "sign", "fingerprint")),
)
GUARDED_HOOKS = (
    "pytest_runtest_protocol",
    "pytest_runtest_makereport",
    "pytest_runtest_logreport",
    "pytest_report_teststatus",
    "pytest_runtest_call",
    "pytest_pyfunc_call",
    "pytest_runtest_logfinish",
    "pytest_runtest_logstart",
    "pytest_runtestloop",
    "pytest_collection_modifyitems",
    "pytest_assertrepr_compare",
    "pytest_exception_interact",
    "pytest_sessionfinish",
)


def fingerprint(value: object) -> tuple[Any, ...]:
    """Return what identifies a function or class as unchanged: the identities of the
    object, its code, and (for a class) each method and its code.

    Code objects are immutable, so a changed function has a new ``__code__``;
    comparing identities is enough, and cheap enough to do after every test.
    A class's methods are taken in the order of its ``__dict__`` (insertion
    order: replacing a method keeps its place, so only a change changes it).
    """
    parts: list[Any] = [id(value), id(getattr(value, "__code__", None))]
    if isinstance(value, type):
        for name, member in vars(value).items():
            target = getattr(member, "__func__", member)
            if isinstance(target, property):
                target = target.fget
            member_code = getattr(target, "__code__", None)
            if member_code is not None:  # methods only: pytest caches data on its classes
                parts.append((name, id(target), id(member_code)))
    return tuple(parts)


class Integrity:
    """Fingerprints of the machinery that decides a test's outcome, taken before learner code."""

    def __init__(self, trusted_roots: Iterable[Path]) -> None:
        self.trusted_roots = [root.resolve() for root in trusted_roots]
        self.prints: dict[str, tuple[Any, ...]] = {}
        for module_name, names in WATCHED:
            module = sys.modules.get(module_name)
            if module is None:
                try:
                    module = __import__(module_name, fromlist=["_"])
                except ImportError:
                    continue
            for name in names:
                if hasattr(module, name):
                    self.prints[f"{module_name}.{name}"] = fingerprint(getattr(module, name))
        self.meta_path = list(sys.meta_path)
        self.verdicts: dict[int, tuple[object, bool]] = {}  # id -> (the object, trusted?)
        self.trace = sys.gettrace()
        self.profile = sys.getprofile()

    def changed(self, pluginmanager: Any | None = None) -> list[str]:
        """Return what was changed since the snapshot (empty when nothing was)."""
        problems = []
        for dotted, seen in self.prints.items():
            module_name, _, name = dotted.rpartition(".")
            module = sys.modules.get(module_name)
            current = getattr(module, name, None) if module is not None else None
            if current is None or fingerprint(current) != seen:
                problems.append(f"{dotted} was replaced or modified")
        if sys.gettrace() is not self.trace:
            problems.append("a trace function was installed (sys.settrace)")
        if sys.getprofile() is not self.profile:
            problems.append("a profile function was installed (sys.setprofile)")
        for finder in sys.meta_path:
            if finder not in self.meta_path and not self.trusted(type(finder)):
                problems.append(
                    f"an import finder was added to sys.meta_path: {type(finder).__qualname__}"
                )
        if pluginmanager is not None:
            problems += self.untrusted_hooks(pluginmanager)
        return problems

    def untrusted_hooks(self, pluginmanager: Any) -> list[str]:
        problems = []
        for hook_name in GUARDED_HOOKS:
            caller = getattr(pluginmanager.hook, hook_name, None)
            if caller is None:
                continue
            for impl in caller.get_hookimpls():
                if not self.trusted(impl.function):
                    where = getattr(getattr(impl.function, "__code__", None), "co_filename", "?")
                    problems.append(f"an untrusted {hook_name} hook was registered (from {where})")
        return problems

    def trusted(self, thing: object) -> bool:
        """Return True for code that lives in pytest, its plugins, the venv or the repo's
        tests and workbook: anything but the copy under test. Remembered per object."""
        known = self.verdicts.get(id(thing))
        if known is not None and known[0] is thing:
            return known[1]
        verdict = self.judge(thing)
        self.verdicts[id(thing)] = (thing, verdict)
        return verdict

    def judge(self, thing: object) -> bool:
        code = getattr(thing, "__code__", None)
        filename = code.co_filename if code is not None else None
        if filename is None:
            module = sys.modules.get(getattr(thing, "__module__", "") or "")
            filename = getattr(module, "__file__", None)
        if not filename:
            return False
        path = Path(filename).resolve()
        return any(root == path or root in path.parents for root in self.trusted_roots)


# ── shadowing, checked by the parent on the copy ─────────────────────────────

ALWAYS_FORBIDDEN = {
    "conftest",
    "sitecustomize",
    "usercustomize",
    "workbook",
    "tests",
    "pytest",
    "_pytest",
    "pluggy",
    "__main__",
}


def top_level_names(folder: Path) -> dict[str, Path]:
    """Return the importable top-level names a folder puts on ``sys.path``."""
    names: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_dir() and (path / "__init__.py").exists():
            names.setdefault(path.name, path)
        elif path.is_file() and path.suffix in {".py", ".pyc", ".so", ".pyd", ".pth"}:
            names.setdefault(path.name.split(".", 1)[0], path)
    return names


def support_modules(root: Path) -> set[str]:
    """Return the names of the suites' modules: every .py in ``tests/`` and its stage folders."""
    return {path.stem for pattern in ("*.py", "*/*.py") for path in root.glob(pattern)}


@functools.cache
def installed_names() -> frozenset[str]:
    """Return the top-level names that installed packages provide.

    Reading every installed distribution's metadata costs about a second of
    CPU time, so :func:`shadowing` asks only about a module the copy adds
    (a copy of the starter adds none), and only once per process: a batch
    asks for every submission, and the venv does not change meanwhile.
    """
    from importlib.metadata import packages_distributions

    return frozenset(packages_distributions())


def shadowing(copy: Path, reference: Path, *, tests_root: Path, stages_root: Path) -> list[str]:
    """Return each module of ``copy`` that would stand in for a module it does not own.

    The copy comes first on ``sys.path`` in the graded run; a module it adds
    may be new, but it must not take the name of a test-support module, a
    standard-library module, an installed package, another stage's module or
    the workbook's own.
    """
    own = set(top_level_names(reference))
    others = {
        name
        for folder in stages_root.iterdir()
        if folder.is_dir() and folder != reference
        for name in top_level_names(folder)
    } - own
    problems = []
    support = support_modules(tests_root)
    stdlib = set(sys.stdlib_module_names)
    for name, path in top_level_names(copy).items():
        if name in own:
            continue
        shown = path.relative_to(copy).as_posix()
        if path.suffix == ".pth":
            problems.append(f"{shown}: a .pth file has no place in a stage")
        elif name in support:
            problems.append(f"{shown} takes the name of the suite's test-support module {name!r}")
        elif name in ALWAYS_FORBIDDEN:
            problems.append(f"{shown} takes the name {name!r}, which the grader runs on")
        elif name in stdlib:
            problems.append(f"{shown} takes the name of the standard-library module {name!r}")
        elif name in installed_names():  # costly: asked only for a name that got this far
            problems.append(f"{shown} takes the name of the installed package {name!r}")
        elif name in others:
            problems.append(f"{shown} takes the name of another stage's module {name!r}")
    return problems


def tree_digest(*roots: Path) -> str:
    """Return one SHA-256 over every Python file and cached bytecode under the roots.

    Names and contents of every ``.py`` and ``.pyc``: the child writes no
    bytecode (``PYTHONDONTWRITEBYTECODE``), yet pytest and the import system
    read a ``__pycache__/*.pyc`` that matches its source's size and mtime,
    so a ``.pyc`` planted beside a test module would run in its place.
    """
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*.py*")):
            if path.suffix not in {".py", ".pyc"} or not path.is_file():
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()

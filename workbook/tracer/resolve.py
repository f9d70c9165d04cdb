"""Check that a layer pattern still names real code: the guard against renames.

A layer table names functions by ``"module:qualname"`` patterns. If a
library upgrade, a colleague or a learner's copy renames
``PathIndex.lookup``, the recorder does not fail: it quietly draws a
thinner trace. :func:`resolve` finds what a pattern names *without running
anything*: it compiles each matching module's source and walks its code
objects, whose ``co_qualname`` is exactly what the recorder matches at run
time (nested functions included: ``create_app.<locals>.get_book``).

    >>> resolve("wsgiref.handlers:BaseHandler.start_response")
    ['wsgiref.handlers:BaseHandler.start_response']

:func:`missing_layers` runs it over a whole layer table; every tracer the
workbook builds does so, and a trace lists what it could not find
(``Trace.missing_layers``: a line in the timeline, a field in the JSON).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import os
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from types import CodeType
from typing import Protocol

WILDCARDS = "*?["


class NamedLayer(Protocol):
    """What :func:`missing_layers` reads of a layer (a :class:`~workbook.tracer.layers.Layer`)."""

    @property
    def kind(self) -> str: ...
    @property
    def lane(self) -> str: ...
    @property
    def patterns(self) -> str | tuple[str, ...]: ...


@dataclass(frozen=True)
class MissingLayer:
    """A layer pattern that names no function in the code being traced.

    ``kind`` and ``lane`` say which layer of the table it belongs to,
    ``pattern`` is the ``"module:qualname"`` that matched nothing; its
    calls (if the code still makes them under another name) are not shown.
    """

    kind: str
    lane: str
    pattern: str

    def sentence(self) -> str:
        """Return the line a trace prints: which layer, which pattern, what it means."""
        return (
            f"layer not found: {self.kind} lane {self.lane!r}: no function matches "
            f"{self.pattern!r} (renamed or removed?), so its calls are not shown"
        )


def find_spec(name: str) -> ModuleSpec | None:
    """Return a module's spec, or None if it (or a package above it) cannot be found."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def module_names(pattern: str) -> list[str]:
    """Return the importable modules a module pattern names (``rawasgi.middleware.*``)."""
    if not any(char in pattern for char in WILDCARDS):
        exists = pattern in sys.modules or find_spec(pattern) is not None
        return [pattern] if exists else []
    # Walk the package above the first wildcard.
    fixed = pattern.split("*")[0].split("?")[0].split("[")[0].rstrip(".")
    if not fixed:
        return []
    package = fixed if find_spec(fixed) is not None else fixed.rpartition(".")[0]
    spec = find_spec(package) if package else None
    if spec is None:
        return []
    found = [package]
    if spec.submodule_search_locations:
        found += [
            info.name
            for info in pkgutil.walk_packages(spec.submodule_search_locations, f"{package}.")
        ]
    return [name for name in found if fnmatch.fnmatchcase(name, pattern)]


def checkable(pattern: str) -> bool:
    """Return True if the pattern's module part names source code to look in.

    ``"*:hello"`` (any module) cannot be checked without a list of every
    module; a tracer for a tiny app of one's own uses such patterns. Nor
    can a module that has no source file: a notebook's cells run in a
    ``__main__`` without one (``"__main__:fail"``).
    """
    module = pattern.partition(":")[0]
    if module[:1] in ("", *WILDCARDS):
        return False
    # A module that is not loaded is checked: if no import can find it, it was renamed.
    return module not in sys.modules or source_file(module) is not None


def source_file(module: str) -> str | None:
    """Return the ``.py`` file a module runs from: the loaded one, else the one an import finds.

    The loaded module is what the recorder sees; one not imported yet is
    found as an import would find it now (the stage copy first on
    ``sys.path``).
    """
    loaded = sys.modules.get(module)
    if loaded is not None:
        path = getattr(loaded, "__file__", None)
    else:
        spec = find_spec(module)
        path = spec.origin if spec is not None else None
    return path if isinstance(path, str) and path.endswith(".py") else None


def qualnames(module: str) -> frozenset[str]:
    """Return the qualified name of every function, method and nested function in a module.

    Its source file is read, never run.
    """
    path = source_file(module)
    if path is None:
        return frozenset()
    try:
        changed = os.stat(path).st_mtime_ns
    except OSError:
        return frozenset()
    return file_qualnames(path, changed)


@functools.cache
def file_qualnames(path: str, changed: int) -> frozenset[str]:
    """Return the qualnames in one source file (cached per path and modification time)."""
    with open(path, "rb") as file:
        source = file.read()
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return frozenset()  # a copy that does not compile names nothing
    return frozenset(inner.co_qualname for inner in code_objects(code) if inner is not code)


def code_objects(code: CodeType) -> Iterator[CodeType]:
    """Yield a code object and every code object nested in it."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from code_objects(constant)


def resolve(pattern: str) -> list[str]:
    """Return every ``"module:qualname"`` the pattern names in the installed code, sorted."""
    module_pattern, _, name_pattern = pattern.partition(":")
    return sorted(
        f"{module}:{name}"
        for module in module_names(module_pattern)
        for name in qualnames(module)
        if fnmatch.fnmatchcase(name, name_pattern)
    )


def missing_layers(layers: Iterable[NamedLayer]) -> list[MissingLayer]:
    """Return each checkable pattern of a layer table that names no function, in table order.

    Call it where the stage's modules are importable as the trace will
    import them (after :func:`workbook.stages.activate`, and for stage 06
    inside its ``prepared`` database context): finding ``core.service``
    imports the package ``core``.
    """
    found: list[MissingLayer] = []
    for layer in layers:
        patterns = (layer.patterns,) if isinstance(layer.patterns, str) else layer.patterns
        for pattern in patterns:
            if checkable(pattern) and not resolve(pattern):
                found.append(MissingLayer(layer.kind, layer.lane, pattern))
    return found

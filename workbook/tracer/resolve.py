"""Check that a layer pattern still names real code: the guard against renames.

A layer table names functions by ``"module:qualname"`` patterns. If a
library upgrade (or a colleague) renames ``MapAdapter.match``, the tracer
does not fail: it quietly draws a thinner trace. :func:`resolve` finds
what a pattern names *without running anything*: it compiles each
matching module's source and walks its code objects, whose
``co_qualname`` is exactly what the recorder matches at run time (nested
functions included: ``create_app.<locals>.get_book``).

    >>> resolve("wsgiref.handlers:BaseHandler.start_response")
    ['wsgiref.handlers:BaseHandler.start_response']
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import pkgutil
from collections.abc import Iterator
from types import CodeType


def module_names(pattern: str) -> list[str]:
    """Return the importable modules a module pattern names (``rawasgi.middleware.*``)."""
    if not any(char in pattern for char in "*?["):
        return [pattern] if importlib.util.find_spec(pattern) is not None else []
    # Walk the package above the first wildcard.
    fixed = pattern.split("*")[0].split("?")[0].split("[")[0].rstrip(".")
    package = (
        fixed.rpartition(".")[0]
        if not fixed.endswith(".") and importlib.util.find_spec(fixed) is None
        else fixed
    )
    spec = importlib.util.find_spec(package)
    if spec is None:
        return []
    found = [package]
    if spec.submodule_search_locations:
        found += [
            info.name
            for info in pkgutil.walk_packages(spec.submodule_search_locations, f"{package}.")
        ]
    return [name for name in found if fnmatch.fnmatchcase(name, pattern)]


@functools.cache
def qualnames(module: str) -> frozenset[str]:
    """Return the qualified name of every function, method and nested function in a module."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return frozenset()
    with open(spec.origin, "rb") as file:
        code = compile(file.read(), spec.origin, "exec", dont_inherit=True)
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

"""The declarative table that maps a stage's functions to the diagram's lanes.

The tracer sees every Python call. A stage's *layer table* says which of
those calls are steps worth showing, and in which lane each one goes:

    LayerTable(
        roots=[stage_folder],
        layers=[
            Layer("middleware", "roob.middlewares:*Middleware.__call__", lane="{cls}"),
            Layer("router", "roob.helpers:RoutingHelper._find_handler", result=describe_match),
            Layer("handler", "core.product_controller:*"),
        ],
    )

A pattern is ``"module:qualname"`` with shell wildcards (``fnmatch``). Only
code whose file lies under one of the ``roots`` is considered, so a
pattern never catches a library by accident; a layer marked
``external=True`` may name library code too (webob's ``Request.json``).
Calls under the roots that no layer names are followed but not shown
(``others="hide"``), or shown in a lane named after their module
(``others="show"``, handy for a small app of your own).
"""

from __future__ import annotations

import fnmatch
import functools
import inspect
import os
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

#: Turns what a call received, returned or raised into a line of text, or
#: into ``(text, data)`` to add structured data to the step.
Describe = Callable[["Call"], str | tuple[str, dict[str, Any]]]


@dataclass
class Call:
    """What a describer is given: the arguments, and the result or the error."""

    args: Mapping[str, Any]
    value: Any = None
    error: BaseException | None = None

    @property
    def self(self) -> Any:
        """Return the instance (or class) the method was called on, if any."""
        return self.args.get("self", self.args.get("cls"))


@dataclass(frozen=True)
class Layer:
    """Put the functions matching ``patterns`` into a lane of kind ``kind``.

    ``lane`` and ``title`` are templates: ``{cls}`` is the class of
    ``self`` (so one rule gives each middleware its own lane), ``{qualname}``
    and ``{function}`` name the code, ``{module}`` its module. ``call`` and
    ``result`` describe the arguments and the outcome in words (and may
    return ``(text, data)`` to add structured data to the step). ``source``
    is the lane a call comes from when no shown call encloses it (the
    server's, unless the server lane's own calls say "client").
    """

    kind: str
    patterns: str | tuple[str, ...]
    lane: str = ""
    title: str = "{qualname}"
    call: Describe | None = None
    result: Describe | None = None
    hide: bool = False
    external: bool = False
    source: str = "server"

    def __post_init__(self) -> None:
        if isinstance(self.patterns, str):
            object.__setattr__(self, "patterns", (self.patterns,))
        if not self.lane:
            object.__setattr__(self, "lane", self.kind)
        for pattern in self.patterns:
            if ":" not in pattern:
                raise ValueError(f"layer pattern {pattern!r} must read 'module:qualname'")

    def matches(self, key: str) -> bool:
        """Return True if ``"module:qualname"`` matches one of the patterns."""
        return _compiled(self.patterns).fullmatch(key) is not None


_COMPREHENSIONS = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})


@functools.cache
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """Return one regex for a layer's patterns, compiled once."""
    return re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in patterns))


@dataclass
class Placement:
    """Where one call goes: its lane, kind, title, and how to describe it."""

    layer: Layer
    lane: str
    title: str


@dataclass
class LayerTable:
    """The stage's whole table: which files to follow and how to show them."""

    layers: Sequence[Layer]
    roots: Sequence[str | Path] = ()
    others: str = "hide"
    lane_titles: Mapping[str, str] = field(default_factory=dict)
    _root_texts: tuple[str, ...] = field(init=False, repr=False)
    _cache: dict[CodeType, Layer | None] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.others not in {"hide", "show"}:
            raise ValueError(f"others must be 'hide' or 'show', not {self.others!r}")
        # Both spellings of each root: code files carry the path they were
        # imported by, which may or may not go through a symbolic link.
        texts = {os.path.abspath(root) for root in self.roots}
        texts |= {os.path.realpath(root) for root in self.roots}
        self._root_texts = tuple(sorted(texts))
        # Compile every layer's patterns now: the first request should not
        # pay for it in the middle of its timings.
        for layer in self.layers:
            _compiled(layer.patterns)

    def covers(self, filename: str) -> bool:
        """Return True if a code file lies under one of the roots."""
        if not filename or filename.startswith("<"):
            return False
        return any(
            filename == root or filename.startswith(root + os.sep) for root in self._root_texts
        )

    def layer_for(self, code: CodeType, module: str) -> Layer | None:
        """Return the layer that shows this code, or None to follow it silently."""
        try:
            return self._cache[code]
        except KeyError:
            pass
        if code.co_name in _COMPREHENSIONS:
            self._cache[code] = None  # a list comprehension is a line of its function
            return None
        key = f"{module}:{code.co_qualname}"
        inside = self.covers(code.co_filename)
        found: Layer | None = None
        for layer in self.layers:
            if (inside or layer.external) and layer.matches(key):
                found = layer
                break
        if found is None and inside and self.others == "show":
            found = Layer("app", f"{module}:*", lane=module.rpartition(".")[2])
        if found is not None and found.hide:
            found = None
        self._cache[code] = found
        return found

    def place(
        self, layer: Layer, code: CodeType, module: str, args: Mapping[str, Any]
    ) -> Placement:
        """Fill in the layer's lane and title templates for one call."""
        owner = args.get("self", args.get("cls"))
        cls = (
            owner.__name__
            if isinstance(owner, type)
            else type(owner).__name__
            if owner is not None
            else ""
        )
        qualname = code.co_qualname
        if cls and "." in qualname:
            # A method inherited from a base class is shown under the
            # object's own class: ``LoggingMiddleware.__call__``.
            qualname = f"{cls}.{qualname.rpartition('.')[2]}"
        fields = {
            "cls": cls or qualname.partition(".")[0],
            "qualname": qualname,
            "function": code.co_name,
            "module": module,
        }
        return Placement(layer, layer.lane.format(**fields), layer.title.format(**fields))


# ── Short, readable values for one-line descriptions ─────────────────────────

_repr = reprlib.Repr()
_repr.maxstring = 48
_repr.maxother = 48
_repr.maxlist = 4
_repr.maxdict = 4
_repr.maxlevel = 2


def short(value: Any) -> str:
    """Return a value in a few words: ``environ``, ``scope``, ``b'...' (23 B)``.

    >>> short({"REQUEST_METHOD": "GET"})
    'environ'
    >>> short(b"hello")
    "b'hello'"
    """
    name = getattr(type(value), "__trace_name__", None)
    if isinstance(name, str):
        return name
    if isinstance(value, dict):
        if "REQUEST_METHOD" in value and "wsgi.version" in value:
            return "environ"
        if "type" in value and "asgi" in value:
            return "scope"
        if "type" in value and isinstance(value["type"], str):
            return f"{{'type': {value['type']!r}, ...}}"
        text = _repr.repr(value)
        return text if len(text) <= 60 else f"{{… {len(value)} keys}}"
    if isinstance(value, (bytes, bytearray)):
        if value.startswith(b"\x1f\x8b"):  # the gzip magic number (RFC 1952, 2.3.1)
            return f"{len(value)} bytes of gzip"
        text = _repr.repr(bytes(value))
        return text if len(value) <= 40 else f"{text} ({len(value)} B)"
    if isinstance(value, list) and value and all(isinstance(item, bytes) for item in value):
        size = sum(len(item) for item in value)
        return f"[{len(value)} chunk{'s' if len(value) > 1 else ''}, {size} B]"
    if inspect.isgenerator(value) or inspect.iscoroutine(value) or inspect.isasyncgen(value):
        return f"<{type(value).__name__} {value.__qualname__}>"
    if isinstance(value, type):
        return value.__qualname__
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{value.__qualname__}"
    repr_method: object = type(value).__repr__  # object: any class's __repr__ may be object's
    if repr_method is object.__repr__:
        return f"<{type(value).__name__}>"  # the default repr says only the class
    text = _repr.repr(value)
    if len(text) >= _repr.maxother and not isinstance(value, (str, list, tuple, set, frozenset)):
        return f"{type(value).__name__}(…)"
    # Memory addresses change on every run and say nothing to a reader.
    return _ADDRESS.sub("", text)


_ADDRESS = re.compile(r" (?:object )?at 0x[0-9a-fA-F]+")


def describe_args(args: Mapping[str, Any], skip: Iterable[str] = ("self", "cls")) -> str:
    """Return ``(name=value, ...)`` for a call, leaving out ``self``.

    The WSGI and ASGI arguments read as their names, so a middleware call
    shows as ``(environ, start_response)``.
    """
    parts = []
    for name, value in args.items():
        if name in skip:
            continue
        text = short(value)
        parts.append(text if text == name else f"{name}={text}")
    return "(" + ", ".join(parts) + ")" if parts else ""


def describe_outcome(call: Call) -> str:
    """Return what a call gave back in a few words (nothing for None)."""
    if call.error is not None:
        return describe_error(call.error)
    if call.value is None:
        return ""
    return short(call.value)


def describe_error(error: BaseException) -> str:
    """Return ``raised KeyError: 'x'`` for an exception."""
    # An HTTP error class often keeps (status, message): say "404 no route ..."
    # rather than the tuple its str() would give.
    status, text = getattr(error, "status", None), getattr(error, "message", None)
    if isinstance(text, str):
        message = f"{status} {text}" if isinstance(status, int) else text
    else:
        message = str(error)
    if len(message) > 90:
        message = message[:89] + "…"
    return f"raised {type(error).__name__}" + (f": {message}" if message else "")

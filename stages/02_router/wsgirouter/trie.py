"""The router's core: patterns, converters and the trie, with no I/O at all.

This module knows nothing of WSGI, ASGI or sockets: it maps a method and a
path (plain strings) to whatever was registered for them, and a route name
plus values back to a path. ``wsgirouter.router.Router`` puts a WSGI app on
top of it; stage 04's ASGI router uses it as it is. (Werkzeug keeps its
matcher apart from its map for the same reason: it is testable with
strings, and shared by every protocol.)

Read it top to bottom: converters (how ``{id:int}`` turns ``"7"`` into
``7``), patterns (how ``"/books/{id:int}"`` is split into segments), the
trie (where compiled patterns live), then ``PathIndex``, which registers,
looks up and reverses routes.

Why a trie? The naive router keeps a list of regexes and tries each one in
turn, so a request for the last route pays for every route before it, and
a miss pays for all of them. Here a pattern is compiled once, when it is
registered, into a path through a tree with one level per path segment:

* a request path that has no placeholders is answered by one dict lookup
  (``"/books"`` -> its node);
* any other path walks the tree one segment at a time: at each level a dict
  lookup for the literal segment, then the few converters that can appear
  at that level (``int``, ``slug``, ``str``), then a ``path`` tail.

The cost of a lookup depends on how deep the path is and how many kinds of
placeholder meet at one level, not on how many routes exist: 1,000 routes
cost what 10 do. ``PathIndex.describe()`` prints the compiled tree.

One rule holds between the two directions: every path ``url_for`` builds,
once a server has percent-decoded it, matches the same route with the same
values (``test_trie.py`` checks it with hypothesis). So a converter refuses
a value it could not route back, and never builds a path a client would
rewrite: ``.`` and ``..`` segments (RFC 3986, section 5.2.4, removes them)
and a leading ``//`` (a URL with another host: an open redirect).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeAlias, TypeVar
from urllib.parse import quote

#: What a route leads to. The index stores it and never calls it: a WSGI
#: handler for stage 02's Router, an ASGI app for stage 04's.
Handler: TypeAlias = Callable[..., Any]
H = TypeVar("H", bound=Callable[..., Any])

#: Segments a client removes before it sends a path (RFC 3986, section 5.2.4).
DOT_SEGMENTS = frozenset({".", ".."})

# ── Converters: one path segment <-> one typed value ─────────────────────────


@dataclass(frozen=True)
class Converter:
    """Turn a path segment into a typed value, and a value back into a segment.

    ``to_python`` raises ValueError when a segment does not fit (then the
    route does not match: ``/users/abc`` on ``{id:int}`` is a 404, never a
    500). ``weight`` orders the converters tried at one level: lower first,
    so the most specific wins (``int`` before ``slug`` before ``str``). A
    ``tail`` converter takes the rest of the path, slashes included.
    """

    name: str
    to_python: Callable[[str], Any]
    to_url: Callable[[Any], str]
    weight: int
    tail: bool = False

    def __repr__(self) -> str:
        return f"<{self.name}>"


def int_from_segment(segment: str) -> int:
    """Return the segment as an int: ASCII digits only (no sign, no spaces)."""
    # str.isdigit() alone accepts other scripts' digits ("٣") and int() accepts
    # " 7" and "+7": none of those is a canonical URL for 7.
    if not (segment.isascii() and segment.isdigit()):
        raise ValueError(f"{segment!r} is not a non-negative integer")
    return int(segment)  # int() refuses absurdly long digit strings: ValueError, a 404


def int_to_segment(value: Any) -> str:
    """Return a non-negative int as a segment."""
    if type(value) is not int or value < 0:
        raise ValueError(f"expected a non-negative int, got {value!r}")
    return str(value)


SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def slug_from_segment(segment: str) -> str:
    """Return the segment if it is a slug: ASCII letters, digits, ``-`` and ``_``."""
    if not SLUG.fullmatch(segment):
        raise ValueError(f"{segment!r} is not a slug")
    return segment


def slug_to_segment(value: Any) -> str:
    """Return a slug as a segment."""
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise ValueError(f"expected a slug (letters, digits, '-', '_'), got {value!r}")
    return value


def str_from_segment(segment: str) -> str:
    """Return any non-empty segment but ``.`` and ``..``.

    Never a ``/``: the path was split on it.
    """
    if not segment or segment in DOT_SEGMENTS:
        raise ValueError(f"{segment!r} is not a segment a client sends as it is")
    return segment


def str_to_segment(value: Any) -> str:
    """Return a string as one percent-encoded segment.

    ``"a b"`` -> ``"a%20b"``. A ``/`` would make two segments, and ``.`` or
    ``..`` would be removed by the client (RFC 3986, section 5.2.4): refused.
    """
    if not isinstance(value, str) or not value or "/" in value or value in DOT_SEGMENTS:
        raise ValueError(f"expected a non-empty str without '/', not '.' or '..', got {value!r}")
    return quote(value, safe="")


def check_path_value(value: str) -> str:
    """Return a ``path`` value if it routes back unchanged, else raise ValueError.

    A value is one or more segments: the first not empty (``"/x"`` would
    build ``//x``, which a browser reads as the host ``x``), none of them
    ``.`` or ``..`` (a client resolves them away before sending the path).
    """
    if not value:
        raise ValueError("empty path")
    segments = value.split("/")
    if segments[0] == "":
        raise ValueError(f"path {value!r} starts with '/': its URL would name another host")
    if DOT_SEGMENTS.intersection(segments):
        raise ValueError(f"path {value!r} has a '.' or '..' segment, which a client removes")
    return value


def path_from_rest(rest: str) -> str:
    """Return the rest of the path (slashes included), checked by ``check_path_value``."""
    return check_path_value(rest)


def path_to_segments(value: Any) -> str:
    """Return a path as percent-encoded segments, keeping its slashes.

    ``"a b/c"`` -> ``"a%20b/c"``.
    """
    if not isinstance(value, str):
        raise ValueError(f"expected a str, got {value!r}")
    return quote(check_path_value(value), safe="/")


#: The converters every router knows: ``{name}`` is ``{name:str}``.
CONVERTERS: Mapping[str, Converter] = MappingProxyType(
    {
        "int": Converter("int", int_from_segment, int_to_segment, weight=0),
        "slug": Converter("slug", slug_from_segment, slug_to_segment, weight=1),
        "str": Converter("str", str_from_segment, str_to_segment, weight=2),
        "path": Converter("path", path_from_rest, path_to_segments, weight=3, tail=True),
    }
)

# ── Patterns: "/books/{id:int}" -> (Static("books"), Placeholder("id", int)) ──


@dataclass(frozen=True)
class Static:
    """A literal path segment: matches itself only (case-sensitive)."""

    text: str


@dataclass(frozen=True)
class Placeholder:
    """A ``{name:converter}`` segment: matches what its converter accepts."""

    name: str
    converter: Converter


Segment: TypeAlias = Static | Placeholder
PLACEHOLDER = re.compile(r"\{(?P<name>[^{}:]*)(?::(?P<converter>[^{}]*))?\}")


def parse_pattern(
    pattern: str, converters: Mapping[str, Converter] = CONVERTERS
) -> tuple[Segment, ...]:
    """Split a route pattern into segments, refusing anything ambiguous.

    >>> parse_pattern("/books/{id:int}")
    (Static(text='books'), Placeholder(name='id', converter=<int>))

    A placeholder fills a whole segment (``/file-{id}`` is refused), names
    are identifiers used once, and a tail converter (``path``) comes last.
    """
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise ValueError(f"a pattern starts with '/': {pattern!r}")
    parts = pattern[1:].split("/")
    segments: list[Segment] = []
    names: set[str] = set()
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if "{" not in part and "}" not in part:
            if part == "" and not last:
                raise ValueError(f"empty segment ('//') in {pattern!r}")
            if part in DOT_SEGMENTS:
                raise ValueError(f"a {part!r} segment in {pattern!r} never reaches the server")
            segments.append(Static(part))
            continue
        match = PLACEHOLDER.fullmatch(part)
        if match is None:
            raise ValueError(f"a placeholder must fill a whole segment: {part!r} in {pattern!r}")
        name, converter_name = match["name"], match["converter"] or "str"
        if not name.isidentifier():
            raise ValueError(f"placeholder name {name!r} in {pattern!r} is not an identifier")
        if name in names:
            raise ValueError(f"placeholder {name!r} appears twice in {pattern!r}")
        converter = converters.get(converter_name)
        if converter is None:
            known = ", ".join(sorted(converters))
            raise ValueError(
                f"unknown converter {converter_name!r} in {pattern!r} (known: {known})"
            )
        if converter.tail and not last:
            raise ValueError(
                f"{{{name}:{converter_name}}} takes the rest of the path: "
                f"it must be the last segment of {pattern!r}"
            )
        names.add(name)
        segments.append(Placeholder(name, converter))
    return tuple(segments)


def split_path(path: str) -> list[str] | None:
    """Split a request path into segments: ``"/books/7"`` -> ``["books", "7"]``."""
    if not path.startswith("/"):
        return None
    return path[1:].split("/")


# ── Routes and the trie that holds them ──────────────────────────────────────


@dataclass(frozen=True, repr=False)
class Route:
    """One handler for one method on one pattern."""

    pattern: str
    method: str
    handler: Handler
    name: str
    segments: tuple[Segment, ...]
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(s.name for s in self.segments if isinstance(s, Placeholder))
        object.__setattr__(self, "names", names)

    def __repr__(self) -> str:
        return f"<Route {self.method} {self.pattern} -> {self.name}>"

    def bind(self, values: Iterable[Any]) -> dict[str, Any]:
        """Name the converted values found by the trie: ``(7,)`` -> ``{"id": 7}``."""
        return dict(zip(self.names, values, strict=True))

    def build(self, params: Mapping[str, Any]) -> str:
        """Return this route's path with ``params`` filled in (reverse routing)."""
        missing = [name for name in self.names if name not in params]
        extra = [name for name in params if name not in self.names]
        if missing or extra:
            raise ValueError(
                f"route {self.name!r} ({self.pattern}) needs exactly "
                f"{list(self.names)}; missing {missing}, unexpected {extra}"
            )
        parts = []
        for segment in self.segments:
            if isinstance(segment, Static):
                parts.append(quote(segment.text, safe=""))
                continue
            value = params[segment.name]
            try:
                parts.append(segment.converter.to_url(value))
            except ValueError as error:
                raise ValueError(
                    f"route {self.name!r}: {segment.name}={value!r}: {error}"
                ) from None
        return "/" + "/".join(parts)


class Node:
    """One level of the trie: literal children in a dict, then converters, then a tail.

    ``routes`` maps a method to its route when a pattern ends here; ``allow``
    is what an ``Allow`` header says for this path (computed once, here).
    """

    __slots__ = ("static", "dynamic", "tail", "routes", "allow")

    def __init__(self) -> None:
        self.static: dict[str, Node] = {}
        self.dynamic: list[tuple[Converter, Node]] = []
        self.tail: tuple[Converter, Node] | None = None
        self.routes: dict[str, Route] = {}
        self.allow: tuple[str, ...] = ()

    def child(self, segment: Segment) -> Node:
        """Return the child for ``segment``, creating it (at registration only)."""
        if isinstance(segment, Static):
            return self.static.setdefault(segment.text, Node())
        converter = segment.converter
        if converter.tail:
            if self.tail is None:
                self.tail = (converter, Node())
            elif self.tail[0] != converter:
                raise ValueError(
                    f"two tail converters at one level: {self.tail[0].name} and {converter.name}"
                )
            return self.tail[1]
        for existing, node in self.dynamic:
            if existing == converter:
                return node
        node = Node()
        self.dynamic.append((converter, node))
        # Stable sort: converters of equal weight keep their registration order.
        self.dynamic.sort(key=lambda pair: pair[0].weight)
        return node

    def add(self, routes: list[Route]) -> None:
        """Attach ``routes`` here, all or none: a method registered twice is an error."""
        for route in routes:
            existing = self.routes.get(route.method)
            if existing is not None:
                raise ValueError(
                    f"{route.method} {route.pattern} is already registered "
                    f"(to {existing.name!r} as {existing.pattern})"
                )
        for route in routes:
            self.routes[route.method] = route
        methods = set(self.routes) | {"OPTIONS"}
        if "GET" in methods:
            methods.add("HEAD")
        self.allow = tuple(sorted(methods))

    def walk(
        self, segments: list[str], index: int = 0, values: tuple[Any, ...] = ()
    ) -> Iterator[tuple[Node, tuple[Any, ...]]]:
        """Yield each node with routes that matches ``segments[index:]``, best first.

        With each node comes the tuple of converted placeholder values met on
        the way: walking ``["books", "7"]`` yields (the ``{int}`` node, ``(7,)``).
        """
        # EXERCISE 2.2: Walk the trie
        if index == len(segments):
            if self.routes:
                yield self, values
            return
        segment = segments[index]
        child = self.static.get(segment)
        if child is not None:
            yield from child.walk(segments, index + 1, values)
        for converter, child in self.dynamic:
            try:
                value = converter.to_python(segment)
            except ValueError:
                continue
            yield from child.walk(segments, index + 1, (*values, value))
        if self.tail is not None:
            converter, child = self.tail
            try:
                value = converter.to_python("/".join(segments[index:]))
            except ValueError:
                return
            if child.routes:
                yield child, (*values, value)
        # END EXERCISE


# ── The index: registration, lookup, reverse routing ─────────────────────────


class Match(Enum):
    """How well a request matched: the three outcomes of a lookup."""

    NONE = "none"  # no route has this path: 404
    PARTIAL = "partial"  # the path matched, the method did not: 405 (or the OPTIONS answer)
    FULL = "full"  # path and method matched: call the handler


@dataclass(frozen=True)
class Lookup:
    """The result of ``PathIndex.lookup``: the match, and what goes with it."""

    match: Match
    route: Route | None = None
    params: dict[str, Any] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()


class PathIndex:
    """Routes compiled into a trie: register, look up, reverse. No I/O.

    >>> index = PathIndex()
    >>> index.add("/books/{id:int}", "get_book", methods=["GET"], name="get_book")
    [<Route GET /books/{id:int} -> get_book>]
    >>> index.lookup("GET", "/books/7").params
    {'id': 7}
    >>> index.url_for("get_book", id=7)
    '/books/7'

    A handler is whatever the caller files under a route (a WSGI handler
    for stage 02, an ASGI app for stage 04): the index never calls it.
    """

    def __init__(self, *, converters: Mapping[str, Converter] | None = None) -> None:
        self.converters: Mapping[str, Converter] = {**CONVERTERS, **(converters or {})}
        self._root = Node()
        self._static: dict[str, Node] = {}  # literal path -> its node: one dict lookup
        self._names: dict[str, list[Route]] = {}
        self._routes: list[Route] = []

    # ── Registration: all the work happens here, once ───────────────────────

    def add(
        self,
        pattern: str,
        handler: Handler,
        *,
        methods: Iterable[str] = ("GET",),
        name: str | None = None,
    ) -> list[Route]:
        """Register ``handler`` for ``pattern`` and ``methods``; compile the pattern now."""
        if isinstance(methods, str):
            raise TypeError(f"methods is a list of strings: methods=[{methods!r}]")
        # A method is a token (RFC 9110 §9.1, §5.6.2): stage 01's rule. Imported
        # here, at registration, so that importing the core loads nothing of
        # the WSGI line (stage 04 routes ASGI apps with this same index).
        from rawwsgi.http11 import is_token

        methods = list(methods)
        for method in methods:
            if not is_token(method) or method != method.upper():
                raise ValueError(f"method {method!r} must be an upper-case token like 'GET'")
        if not methods or len(set(methods)) != len(methods):
            raise ValueError(f"methods must be distinct and not empty: {methods}")
        segments = parse_pattern(pattern, self.converters)
        route_name: str = name if name else getattr(handler, "__name__", repr(handler))
        if name is not None:
            for other in self._names.get(name, ()):
                if other.pattern != pattern:
                    raise ValueError(f"route name {name!r} is already used for {other.pattern}")
        node = self._root
        for segment in segments:
            node = node.child(segment)
        routes = [Route(pattern, method, handler, route_name, segments) for method in methods]
        node.add(routes)
        for route in routes:
            self._names.setdefault(route_name, []).append(route)
            self._routes.append(route)
        if all(isinstance(segment, Static) for segment in segments):
            self._static[pattern] = node
        return routes

    def route(
        self, pattern: str, *, methods: Iterable[str] = ("GET",), name: str | None = None
    ) -> Callable[[H], H]:
        """Return a decorator that registers a handler: ``@index.route("/x", methods=[...])``."""

        def register(handler: H) -> H:
            self.add(pattern, handler, methods=methods, name=name)
            return handler

        return register

    def get(self, pattern: str, *, name: str | None = None) -> Callable[[H], H]:
        """Register a GET handler (HEAD is served by it too)."""
        return self.route(pattern, methods=["GET"], name=name)

    def post(self, pattern: str, *, name: str | None = None) -> Callable[[H], H]:
        """Register a POST handler."""
        return self.route(pattern, methods=["POST"], name=name)

    def put(self, pattern: str, *, name: str | None = None) -> Callable[[H], H]:
        """Register a PUT handler."""
        return self.route(pattern, methods=["PUT"], name=name)

    def patch(self, pattern: str, *, name: str | None = None) -> Callable[[H], H]:
        """Register a PATCH handler."""
        return self.route(pattern, methods=["PATCH"], name=name)

    def delete(self, pattern: str, *, name: str | None = None) -> Callable[[H], H]:
        """Register a DELETE handler."""
        return self.route(pattern, methods=["DELETE"], name=name)

    @property
    def routes(self) -> tuple[Route, ...]:
        """Return every route, in registration order."""
        return tuple(self._routes)

    # ── Lookup: per request, no scan over the routes ────────────────────────

    def candidates(self, path: str) -> Iterator[tuple[Node, tuple[Any, ...]]]:
        """Yield the nodes whose pattern matches ``path``, best first, with values."""
        node = self._static.get(path)
        if node is not None:
            # PERF: a literal path is one dict lookup. If its methods do not fit,
            # the walk below finds it again, then any placeholder route that matches.
            yield node, ()
        segments = split_path(path)
        if segments is not None:
            yield from self._root.walk(segments)

    def lookup(self, method: str, path: str) -> Lookup:
        """Find the route for ``method`` and ``path``: FULL, PARTIAL (405) or NONE (404)."""
        # EXERCISE 2.3: Dispatch on the method
        allowed: set[str] = set()
        for node, values in self.candidates(path):
            route = node.routes.get(method)
            if route is None and method == "HEAD":
                route = node.routes.get("GET")
            if route is not None:
                return Lookup(Match.FULL, route, route.bind(values))
            allowed.update(node.allow)
        if allowed:
            return Lookup(Match.PARTIAL, allowed=tuple(sorted(allowed)))
        return Lookup(Match.NONE)
        # END EXERCISE

    def url_for(self, name: str, /, **params: Any) -> str:
        """Return the path of the route called ``name``, with ``params`` filled in.

        The path is relative to where the app is mounted; use
        ``request.absolute_url(path)`` for a full URL.
        """
        routes = self._names.get(name)
        if not routes:
            raise ValueError(f"no route is named {name!r}")
        patterns = sorted({route.pattern for route in routes})
        if len(patterns) > 1:
            raise ValueError(
                f"route name {name!r} is used by {patterns}: "
                "register them with distinct name= to build their URLs"
            )
        return routes[0].build(params)

    # ── Show the compiled form ──────────────────────────────────────────────

    def describe(self) -> str:
        """Return the compiled route table as text: the trie, then the static dict.

        >>> print(index.describe())          # doctest: +SKIP
        /books          GET list_books, POST create_book
        ├── /export     GET export_books
        └── /{int}      DELETE delete_book, GET get_book, PUT update_book
        static paths (one dict lookup each): /books, /books/export
        """
        rows: list[tuple[str, str]] = []
        self._describe(self._root, "", rows, top=True)
        width = max((len(label) for label, _ in rows), default=0)
        lines = [f"{label:<{width}}  {routes}".rstrip() for label, routes in rows]
        static = ", ".join(self._static) or "(none)"
        lines.append(f"static paths (one dict lookup each): {static}")
        return "\n".join(lines)

    def _describe(
        self, node: Node, prefix: str, rows: list[tuple[str, str]], *, top: bool = False
    ) -> None:
        """Append one row per child of ``node``, depth first, in lookup order."""
        children = [(f"/{text}", child) for text, child in node.static.items()]
        children += [(f"/{{{converter.name}}}", child) for converter, child in node.dynamic]
        if node.tail is not None:
            converter, child = node.tail
            children.append((f"/{{{converter.name}}}", child))
        for position, (label, child) in enumerate(children):
            last = position == len(children) - 1
            branch, indent = ("", "") if top else (("└── ", "    ") if last else ("├── ", "│   "))
            methods = ", ".join(
                f"{method} {route.name}" for method, route in sorted(child.routes.items())
            )
            rows.append((prefix + branch + label, methods))
            self._describe(child, prefix + indent, rows)

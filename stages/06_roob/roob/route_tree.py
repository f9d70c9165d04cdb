"""The route tree: compile paths once at registration, match a request's path.

Registration does the slow work once. A path such as
``/api/products/{id:d}`` is split into segments (``api``, ``products``,
``{id:d}``); a literal segment becomes a dict key, a segment with
placeholders becomes ``parse.compile(segment, case_sensitive=True)``. The
segments hang in a tree (:class:`RouteNode`), so a request walks down one
segment at a time and tries only the branches on its way: the cost of a
lookup depends on the depth of the path, not on how many routes exist.

:class:`RouteTable` holds the tree and answers ``find(path)``. Turning a
request into the callable that answers it (a function route, a view's
method, a 404 or 405 handler) is the chapter's ``RoutingHelper``, in
:mod:`roob.helpers`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import parse

from roob.constants import HTTP_METHODS, is_token

#: A placeholder inside a segment: ``{name}`` or ``{name:spec}``.
PLACEHOLDER = re.compile(r"\{([^{}:]*)(?::([^{}]*))?\}")


# ── Paths ────────────────────────────────────────────────────────────────────


def normalize_request_url(url: str) -> str:
    """Drop one trailing slash, so ``/api/products/`` finds ``/api/products``.

    The root stays ``/``, and an empty path (a request for ``http://host``
    with the app mounted at the root) is the root too.
    """
    if len(url) > 1 and url[-1] == "/":
        return url[:-1]
    return url or "/"


def split_path(path: str) -> list[str]:
    """Split a normalized path into its segments: ``"/api/products"`` -> ``["api", "products"]``.

    The root ``"/"`` has no segments; an empty segment (``/api//products``)
    stays in the list, where no literal and no placeholder matches it.
    """
    if path == "/":
        return []
    return path[1:].split("/")


# ── Compiled segments and routes ─────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Segment:
    """One compiled segment of a route path.

    ``text`` is the segment as registered; ``parser`` is ``None`` for a
    literal segment, compared with ``==`` (so case-sensitively), and a
    compiled ``parse.Parser`` for a segment with placeholders.
    """

    text: str
    parser: parse.Parser | None
    names: tuple[str, ...]
    shape: str
    rank: tuple[int, int]

    def parse(self, part: str) -> dict[str, Any] | None:
        """Return the values of this segment's placeholders in ``part``, or None.

        ``{id:d}`` on ``"7"`` -> ``{"id": 7}``. A value the converter cannot
        make is no match, never an error: parse runs ``int()`` on 5,000
        digits, which Python refuses with ValueError (more than 4,300).
        """
        if self.parser is None:  # a literal segment matches itself only
            return {} if part == self.text else None
        try:
            result = self.parser.parse(part)
        except ValueError:
            return None
        return None if result is None else result.named


def compile_segment(text: str) -> Segment:
    """Compile one segment of a route path; literals stay plain strings.

    ``"products"`` -> a literal. ``"{id:d}"`` -> ``parse.compile("{id:d}",
    case_sensitive=True)``: parse matches case-insensitively unless told
    otherwise, and a literal part such as ``item-`` in ``item-{id:d}`` must
    match exactly like a literal segment does. Because the path was split on
    ``/`` first, a placeholder can only ever see one segment: ``{category}``
    never matches ``a/b``.

    The rank orders branches that could match the same segment: fewer
    placeholders without a format spec first, then more literal characters
    (``{id:d}`` before ``{category}``; ``item-{id:d}`` before ``{id:d}``).
    """
    if "{{" in text or "}}" in text:
        raise ValueError(f"route segment {text!r}: literal braces are not supported")
    fields = PLACEHOLDER.findall(text)
    if not fields:
        if "{" in text or "}" in text:
            raise ValueError(f"route segment {text!r} has an unbalanced brace")
        return Segment(text, None, (), text, (0, 0))
    names = tuple(name for name, _spec in fields)
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"route segment {text!r}: a placeholder needs a name, got {name!r}")
    untyped = sum(1 for _name, spec in fields if not spec)
    literal_length = len(PLACEHOLDER.sub("", text))
    shape = PLACEHOLDER.sub(
        lambda field: "{:" + field.group(2) + "}" if field.group(2) else "{}", text
    )
    parser = parse.compile(text, case_sensitive=True)
    return Segment(text, parser, names, shape, (untyped, -literal_length))


def compile_path(path: str) -> list[Segment]:
    """Compile a route path into segments, refusing paths that cannot work.

    ``"/api/products/{id:d}"`` -> ``[api, products, {id:d}]``. A path must
    start with ``/`` and use each placeholder name once, because the names
    become the handler's keyword arguments.
    """
    if not isinstance(path, str):
        raise TypeError(f"a route path is a str, got {type(path).__name__}")
    if not path.startswith("/"):
        raise ValueError(f"route path {path!r} must start with '/'")
    segments = [compile_segment(text) for text in split_path(normalize_request_url(path))]
    names = [name for segment in segments for name in segment.names]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"route path {path!r} repeats the placeholder(s) {', '.join(repeated)}")
    return segments


def path_shape(segments: Iterable[Segment]) -> str:
    """Return the path with placeholder names removed: ``/a/{id:d}`` -> ``/a/{:d}``.

    Two paths with one shape match exactly the same URLs, so registering
    both is the same mistake as registering one path twice.
    """
    return "/" + "/".join(segment.shape for segment in segments)


def view_methods(view: type) -> dict[str, str]:
    """Map each HTTP method a class-based view defines to its method name.

    ``class Products: def get(...); def post(...)`` -> ``{"GET": "get",
    "POST": "post"}``. Only names in ``HTTP_METHODS`` count: an attribute
    such as ``self.service`` is never reachable from the request line.
    """
    found = {}
    for method in HTTP_METHODS:
        name = method.lower()
        if callable(getattr(view, name, None)):
            found[method] = name
    return found


def declared_methods(methods: Iterable[str] | None) -> frozenset[str]:
    """Return the methods a function route answers; ``None`` means GET.

    ``["get", "POST"]`` -> ``{"GET", "HEAD", "POST"}``: HEAD comes with GET,
    since a HEAD response is the GET response without its body.
    """
    if methods is None:
        methods = ("GET",)
    if isinstance(methods, str):
        raise TypeError(f"methods is a list of method names, not the string {methods!r}")
    declared = set()
    for method in methods:
        if not isinstance(method, str) or not is_token(method):
            raise ValueError(f"{method!r} is not an HTTP method name")
        declared.add(method.upper())
    if not declared:
        raise ValueError("a route needs at least one method")
    if "GET" in declared:
        declared.add("HEAD")
    return frozenset(declared)


@dataclass(frozen=True, slots=True)
class Route:
    """A registered route, with everything a request needs worked out in advance.

    ``methods`` is what the route answers, HEAD included when GET is;
    ``allow`` is the ready-made ``Allow`` header of its 405 responses;
    ``view_methods`` maps methods to method names for a class-based view and
    is empty for a function route.
    """

    path: str
    handler: Callable[..., Any]
    segments: tuple[Segment, ...]
    methods: frozenset[str]
    allow: str
    view_methods: dict[str, str]
    is_view: bool

    @classmethod
    def create(
        cls, path: str, handler: Callable[..., Any], methods: Iterable[str] | None = None
    ) -> Route:
        """Compile a route for a handler: a class-based view or a function.

        A class answers the methods it defines (``get``, ``post``, ...), so
        giving ``methods`` for a class is an error; a function answers the
        methods it declares, GET by default.
        """
        segments = tuple(compile_path(path))
        if inspect.isclass(handler):
            if methods is not None:
                raise TypeError(
                    f"{handler.__name__} is a class: its methods (get, post, ...) "
                    "say what it answers, so route() takes no methods for it"
                )
            mapping = view_methods(handler)
            if not mapping:
                raise ValueError(
                    f"{handler.__name__} defines none of "
                    f"{', '.join(m.lower() for m in HTTP_METHODS)}"
                )
            answered = set(mapping)
            if "GET" in answered:
                answered.add("HEAD")
            allowed = frozenset(answered)
            is_view = True
        elif callable(handler):
            mapping = {}
            allowed = declared_methods(methods)
            is_view = False
        else:
            raise TypeError(f"a route handler is a class or a function, got {handler!r}")
        return cls(
            path=normalize_request_url(path),
            handler=handler,
            segments=segments,
            methods=allowed,
            allow=", ".join(sorted(allowed)),
            view_methods=mapping,
            is_view=is_view,
        )


# ── The route tree ───────────────────────────────────────────────────────────


@dataclass(slots=True)
class Branch:
    """A child of a node reached through a segment with placeholders."""

    segment: Segment
    node: RouteNode


class RouteNode:
    """One node of the route tree: the routes below one path prefix.

    ``literals`` maps an exact segment to the next node (a dict lookup);
    ``branches`` lists the segments with placeholders, best rank first;
    ``route`` is the route that ends here, if any.
    """

    __slots__ = ("literals", "branches", "route")

    def __init__(self) -> None:
        self.literals: dict[str, RouteNode] = {}
        self.branches: list[Branch] = []
        self.route: Route | None = None

    def child(self, segment: Segment) -> RouteNode:
        """Return the node below this one for ``segment``, adding it if new."""
        if segment.parser is None:
            return self.literals.setdefault(segment.text, RouteNode())
        for branch in self.branches:
            if branch.segment.text == segment.text:
                return branch.node
        branch = Branch(segment, RouteNode())
        self.branches.append(branch)
        # Stable sort: equal ranks keep their registration order.
        self.branches.sort(key=lambda each: each.segment.rank)
        return branch.node

    def match(self, segments: list[str], index: int = 0) -> tuple[Route, dict[str, Any]] | None:
        """Return the route for ``segments[index:]`` below this node, with its parameters.

        ``["products", "7"]`` under a node holding ``products/{id:d}`` ->
        ``(route, {"id": 7})``; ``None`` when nothing matches.
        """
        # EXERCISE 6.1: Match a path against the route tree
        if index == len(segments):
            if self.route is None:
                return None
            return self.route, {}
        segment = segments[index]
        literal = self.literals.get(segment)
        if literal is not None:
            found = literal.match(segments, index + 1)
            if found is not None:
                return found
        for branch in self.branches:
            values = branch.segment.parse(segment)
            if values is not None:
                found = branch.node.match(segments, index + 1)
                if found is not None:
                    found[1].update(values)
                    return found
        return None
        # END EXERCISE

    def describe(self, indent: str = "") -> list[str]:
        """Return the tree below this node as lines, one per segment."""
        lines = []
        children = [(text, node) for text, node in self.literals.items()]
        children += [(branch.segment.text, branch.node) for branch in self.branches]
        for text, node in children:
            line = f"{indent}/{text}"
            if node.route is not None:
                name = getattr(node.route.handler, "__qualname__", repr(node.route.handler))
                line += f"  -> {name} [{node.route.allow}]"
            lines.append(line)
            lines += node.describe(indent + "  ")
        return lines


class RouteTable:
    """Every registered route, compiled for lookup.

    Paths without placeholders also go in a plain dict, the chapter's
    "exact match" check: one dict lookup answers ``/api/products``. Every
    other path walks the tree from ``root``.
    """

    def __init__(self) -> None:
        self.root = RouteNode()
        self.static: dict[str, Route] = {}
        self.shapes: dict[str, Route] = {}

    def add(self, route: Route) -> None:
        """Insert a route; a route whose path matches the same URLs is refused."""
        shape = path_shape(route.segments)
        existing = self.shapes.get(shape)
        if existing is not None:
            same = (
                "" if existing.path == route.path else f" ({existing.path} matches the same URLs)"
            )
            raise RuntimeError(f"Path: {route.path} already bound to another handler{same}")
        node = self.root
        for segment in route.segments:
            node = node.child(segment)
        node.route = route
        self.shapes[shape] = route
        if all(segment.parser is None for segment in route.segments):
            self.static[route.path] = route

    def find(self, path: str) -> tuple[Route, dict[str, Any]] | None:
        """Return the route for a normalized path and its parameters, or ``None``."""
        route = self.static.get(path)
        if route is not None:
            return route, {}
        return self.root.match(split_path(path))

    def describe(self) -> str:
        """Return the compiled tree as text, one line per segment."""
        lines = []
        if self.root.route is not None:
            lines.append(f"/  -> {self.root.route.handler.__qualname__} [{self.root.route.allow}]")
        return "\n".join(lines + self.root.describe())

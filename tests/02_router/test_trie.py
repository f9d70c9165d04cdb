"""The trie walk: which registered pattern a path reaches, with which typed values.

The walk's order of preference is literal segment, then converters from the
most specific (int, slug, str), then the path tail; a branch that fails
deeper down falls back to the next one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from wsgirouter.response import Response
from wsgirouter.router import Converter, Router


def handler(request: object, **params: object) -> Response:
    return Response(b"")


def router_with(patterns: Sequence[str], **options: Any) -> Router:
    router = Router(**options)
    for pattern in patterns:
        router.add(pattern, handler, methods=["GET"], name=pattern)
    return router


def matches(router: Router, path: str) -> list[tuple[str, dict[str, Any]]]:
    """Return (pattern, params) for every node the path reaches, best first, once each."""
    found: list[tuple[str, dict[str, Any]]] = []
    for node, values in router.candidates(path):
        route = node.routes["GET"]
        if (route.pattern, route.bind(values)) not in found:
            found.append((route.pattern, route.bind(values)))
    return found


def first_match(router: Router, path: str) -> tuple[str, dict[str, Any]] | None:
    """Return the preferred (pattern, params) for a path, or None."""
    found = matches(router, path)
    return found[0] if found else None


@pytest.mark.exercise("2.2")
@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["/"], "/", ("/", {})),
        (["/books"], "/books", ("/books", {})),
        (["/books/{id:int}"], "/books/7", ("/books/{id:int}", {"id": 7})),
        (["/users/{name}"], "/users/ada", ("/users/{name}", {"name": "ada"})),
        (["/p/{slug:slug}"], "/p/hello-world", ("/p/{slug:slug}", {"slug": "hello-world"})),
        (["/files/{rest:path}"], "/files/a/b/c.txt", ("/files/{rest:path}", {"rest": "a/b/c.txt"})),
        (["/files/{rest:path}"], "/files/a/", ("/files/{rest:path}", {"rest": "a/"})),
        (["/a/{x:int}/b/{y}/c"], "/a/1/b/two/c", ("/a/{x:int}/b/{y}/c", {"x": 1, "y": "two"})),
        (["/café/{name}"], "/café/crème", ("/café/{name}", {"name": "crème"})),
        # Preference: literal, then int, slug, str, then the tail, whatever the registration order.
        (["/u/{name}", "/u/me"], "/u/me", ("/u/me", {})),
        (["/u/{name}", "/u/{id:int}"], "/u/5", ("/u/{id:int}", {"id": 5})),
        (["/u/{name}", "/u/{s:slug}"], "/u/a-b", ("/u/{s:slug}", {"s": "a-b"})),
        (["/u/{name}", "/u/{s:slug}"], "/u/a b", ("/u/{name}", {"name": "a b"})),
        (["/u/{rest:path}", "/u/{name}"], "/u/x", ("/u/{name}", {"name": "x"})),
        (["/u/{rest:path}", "/u/{name}"], "/u/x/y", ("/u/{rest:path}", {"rest": "x/y"})),
        # Backtracking: the literal branch fails one level down, the placeholder branch matches.
        (
            ["/users/me/settings", "/users/{id}/posts"],
            "/users/me/posts",
            ("/users/{id}/posts", {"id": "me"}),
        ),
    ],
)
def test_path_reaches_its_pattern_with_typed_values(
    patterns: list[str], path: str, expected: tuple[str, dict[str, Any]]
) -> None:
    """A path reaches the preferred matching pattern, its placeholders converted."""
    assert first_match(router_with(patterns), path) == expected


@pytest.mark.exercise("2.2")
@pytest.mark.parametrize(
    ("patterns", "path"),
    [
        (["/books/{id:int}"], "/books/abc"),
        (["/books/{id:int}"], "/books/-1"),
        (["/books/{id:int}"], "/books/7/extra"),
        (["/books/{id:int}"], "/books/"),
        (["/books"], "/books/"),  # a trailing slash is another path
        (["/books/"], "/books"),
        (["/books"], "/Books"),  # literal segments are case-sensitive
        (["/files/{rest:path}"], "/files/"),
        (["/files/{rest:path}"], "/files"),
        (["/users/{name}"], "/users//x"),
        (["/p/{slug:slug}"], "/p/héllo"),
        (["/"], "/x"),
    ],
)
def test_path_that_fits_no_pattern_reaches_nothing(patterns: list[str], path: str) -> None:
    """A path no pattern accepts reaches no route (the router answers 404)."""
    assert first_match(router_with(patterns), path) is None


@pytest.mark.exercise("2.2")
def test_walk_yields_every_match_in_order_of_preference() -> None:
    """Every pattern that matches is found, literal first and the tail last."""
    router = router_with(["/u/{rest:path}", "/u/{name}", "/u/{s:slug}", "/u/{id:int}", "/u/me"])
    assert [pattern for pattern, _ in matches(router, "/u/me")] == [
        "/u/me",
        "/u/{s:slug}",
        "/u/{name}",
        "/u/{rest:path}",
    ]


@pytest.mark.exercise("2.2")
def test_lookup_calls_each_converter_once_per_level_whatever_the_route_count() -> None:
    """1,000 routes under one placeholder cost one conversion per level: no scan over routes."""
    calls: list[str] = []

    def counted(segment: str) -> str:
        calls.append(segment)
        return segment

    spy = Converter("spy", counted, str, weight=0)
    router = router_with([f"/{{x:spy}}/leaf{i}" for i in range(1000)], converters={"spy": spy})
    assert first_match(router, "/anything/leaf999") == ("/{x:spy}/leaf999", {"x": "anything"})
    assert calls == ["anything"]


# ── The naive router the trie replaces, as a cross-check ─────────────────────

CONVERTER_REGEX = {"int": r"[0-9]+", "slug": r"[-a-zA-Z0-9_]+", "str": r"[^/]+", "path": r".+"}
CONVERTER_TYPE: dict[str, Callable[[str], Any]] = {"int": int, "slug": str, "str": str, "path": str}


class NaiveRouter:
    """One regex per route, tried in order: every request pays for every route before its own."""

    def __init__(self) -> None:
        self.routes: list[tuple[re.Pattern[str], str, dict[str, Callable[[str], Any]]]] = []

    def add(self, pattern: str) -> None:
        types: dict[str, Callable[[str], Any]] = {}

        def placeholder(match: re.Match[str]) -> str:
            name, _, converter = match[1].partition(":")
            types[name] = CONVERTER_TYPE[converter or "str"]
            return f"(?P<{name}>{CONVERTER_REGEX[converter or 'str']})"

        regex = re.sub(
            r"\{([^}]*)\}", placeholder, re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")
        )
        self.routes.append((re.compile(regex), pattern, types))

    def match(self, path: str) -> tuple[str, dict[str, Any]] | None:
        for regex, pattern, types in self.routes:  # PERF: the linear scan the trie removes
            found = regex.fullmatch(path)
            if found:
                return pattern, {
                    name: types[name](value) for name, value in found.groupdict().items()
                }
        return None


def test_trie_agrees_with_the_naive_linear_scan() -> None:
    """On unambiguous routes, the trie and a regex scan find the same route and values."""
    shapes = [
        "/r{i}",
        "/r{i}/{id:int}",
        "/r{i}/{name}/edit",
        "/r{i}/files/{rest:path}",
        "/r{i}/{s:slug}/x/{id:int}",
    ]
    rng = random.Random(2024)
    patterns = [shapes[i % len(shapes)].replace("{i}", str(i)) for i in range(200)]
    trie, naive = router_with(patterns), NaiveRouter()
    for pattern in patterns:
        naive.add(pattern)
    paths = [
        f"/r{rng.randrange(220)}"
        + rng.choice(
            ["", "/7", "/ada/edit", "/files/a/b", "/a-b/x/3", "/x/y", "/007", "/ab c/edit"]
        )
        for _ in range(500)
    ]
    for path in paths:
        assert first_match(trie, path) == naive.match(path), path

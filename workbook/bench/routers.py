"""Router scaling, in process: does a lookup slow down as routes are added?

Each router gets the same route table at three sizes (10, 100, 1,000
routes; half static, half with an int parameter) and is asked for two paths:

- the **last-registered dynamic route** (``/api/resource{N-1}/42``): a router
  that tries every pattern in turn pays for all N routes in front of it;
- a **miss** (``/api/missing/42``): such a router tries every pattern and
  then gives up, so this is its worst case.

A router that keeps static paths in a dict and walks dynamic ones segment by
segment (a trie), or compiles them into one decision, costs about the same
at 1,000 routes as at 10. Each adapter below is the lookup a framework
does per request, called directly, with no server and no request object.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workbook.bench.results import RouterResult, RouterSize
from workbook.stages import activate

SIZES = (10, 100, 1000)
MISS_PATH = "/api/missing/42"
HIT_ID = 42

#: lookup(path) -> the path parameters of the route found, or None for no route.
Lookup = Callable[[str], Mapping[str, Any] | None]


def table(size: int, placeholder: str) -> list[str]:
    """Return ``size`` route paths, every other one ending in ``placeholder``.

    >>> table(4, "{id:int}")
    ['/api/resource0', '/api/resource1/{id:int}', '/api/resource2', '/api/resource3/{id:int}']
    """
    return [
        f"/api/resource{index}/{placeholder}" if index % 2 else f"/api/resource{index}"
        for index in range(size)
    ]


def hit_path(size: int) -> str:
    """Return a path that matches the last dynamic route of a table of ``size`` routes."""
    last = size - 1 if (size - 1) % 2 else size - 2
    return f"/api/resource{last}/{HIT_ID}"


# ── Adapters: build a table of N routes, return the per-request lookup ────────


def chapter_linear_scan(size: int) -> Lookup:
    """The chapters' original design: one regex per route, tried in order."""

    def compile_route(path: str) -> re.Pattern[str]:
        # The bare chapter's compile_route, converters and all.
        converters = {"str": r"[^/]+", "int": r"[0-9]+"}

        def replace(found: re.Match[str]) -> str:
            name, _, kind = found.group(1).partition(":")
            return f"(?P<{name}>{converters[kind or 'str']})"

        return re.compile("^" + re.sub(r"\{([^}]+)\}", replace, path) + "$")

    patterns = [compile_route(path) for path in table(size, "{id:int}")]

    def lookup(path: str) -> dict[str, Any] | None:
        for pattern in patterns:
            found = pattern.match(path)
            if found:
                return {name: int(value) for name, value in found.groupdict().items()}
        return None

    return lookup


def werkzeug_router(size: int) -> Lookup:
    """Werkzeug's ``Map``: rules compiled into a state machine over path segments."""
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import Map, Rule

    rules = Map(
        [
            Rule(path, endpoint=f"route{index}", methods=["GET"])
            for index, path in enumerate(table(size, "<int:id>"))
        ]
    )
    adapter = rules.bind("localhost")

    def lookup(path: str) -> Mapping[str, Any] | None:
        try:
            return adapter.match(path, "GET")[1]
        except NotFound:
            return None

    return lookup


def starlette_router(size: int) -> Lookup:
    """Starlette's ``Router``: each ``Route`` tried in turn, as ``Router.app`` does."""
    from starlette.responses import PlainTextResponse
    from starlette.routing import Match, Route

    async def endpoint(request: object) -> PlainTextResponse:
        return PlainTextResponse("")

    routes = [Route(path, endpoint) for path in table(size, "{id:int}")]

    def lookup(path: str) -> dict[str, Any] | None:
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        for route in routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                params: dict[str, Any] = child["path_params"]
                return params
        return None

    return lookup


def falcon_router(size: int) -> Lookup:
    """Falcon's ``CompiledRouter``: the whole table compiled into generated Python."""
    from falcon.routing import CompiledRouter

    class Resource:
        def on_get(self, request: object, response: object, **params: object) -> None:
            pass

    router = CompiledRouter()
    for path in table(size, "{id:int}"):
        router.add_route(path, Resource())

    def lookup(path: str) -> dict[str, Any] | None:
        found = router.find(path)
        return None if found is None else found[2]

    return lookup


def wsgirouter_router(size: int) -> Lookup:
    """Stage 02's ``Router``: static paths in a dict, the others in a trie of segments."""
    from wsgirouter import Match, Response, Router

    def endpoint(request: object, **params: object) -> Response:
        return Response.text("")

    router = Router()
    for index, path in enumerate(table(size, "{id:int}")):
        router.add(path, endpoint, name=f"route{index}")

    def lookup(path: str) -> dict[str, Any] | None:
        found = router.lookup("GET", path)
        return found.params if found.match is Match.FULL else None

    return lookup


def bare_router(size: int) -> Lookup:
    """bare's ``Router`` (stage 05): static paths in a dict, dynamic ones in a segment trie."""
    from bare import Match, Router

    async def endpoint(request: object) -> None:
        return None

    router = Router()
    for path in table(size, "{id:int}"):
        router.add(path, ["GET"], endpoint)

    def lookup(path: str) -> dict[str, Any] | None:
        match, _, params, _ = router.match("GET", path)
        return params if match is Match.FULL else None

    return lookup


def roob_router(size: int) -> Lookup:
    """roob's ``RouteManager`` (stage 06): a tree of literal segments and ``parse`` patterns."""
    from roob.route_tree import normalize_request_url
    from roob.routing_manager import RouteManager

    def endpoint(request: object, **params: object) -> None:
        return None

    manager = RouteManager()
    for path in table(size, "{id:d}"):
        manager.register(path, endpoint)

    def lookup(path: str) -> dict[str, Any] | None:
        found = manager.table.find(normalize_request_url(path))
        return None if found is None else found[1]

    return lookup


@dataclass(frozen=True)
class RouterUnderTest:
    """A router to measure: ``build(size)`` returns its lookup for ``size`` routes."""

    key: str
    label: str
    ours: bool
    build: Callable[[int], Lookup]


ROUTERS = (
    RouterUnderTest("wsgirouter", "stage 02 router (wsgirouter)", True, wsgirouter_router),
    RouterUnderTest("bare", "bare (stage 05)", True, bare_router),
    RouterUnderTest("roob", "roob (stage 06)", True, roob_router),
    RouterUnderTest(
        "linear-scan", "linear regex scan (the chapters' original)", False, chapter_linear_scan
    ),
    RouterUnderTest("starlette", "Starlette", False, starlette_router),
    RouterUnderTest("werkzeug", "Werkzeug (Flask)", False, werkzeug_router),
    RouterUnderTest("falcon", "Falcon", False, falcon_router),
)


# ── Timing ────────────────────────────────────────────────────────────────────


def seconds_per_call(lookup: Lookup, path: str, budget: float, repeat: int) -> float:
    """Return the best time of one ``lookup(path)`` over ``repeat`` runs of ``budget`` seconds."""
    number = 1
    while True:  # grow the loop until one run lasts about a tenth of the budget
        elapsed = run_loop(lookup, path, number)
        if elapsed >= budget / 10 or number >= 1 << 24:
            break
        number *= 10 if elapsed < budget / 100 else 2
    number = max(1, int(number * budget / max(elapsed, 1e-9)))
    return min(run_loop(lookup, path, number) for _ in range(repeat)) / number


def run_loop(lookup: Lookup, path: str, number: int) -> float:
    """Return the CPU seconds ``number`` lookups take.

    CPU time of this process, not wall-clock time: on a machine busy with
    other work, the time this process spends waiting for a core is left out.
    """
    started = time.process_time()
    for _ in range(number):
        lookup(path)
    return time.process_time() - started


def verify(router: RouterUnderTest, lookup: Lookup, size: int) -> None:
    """Raise if the lookup finds the wrong thing: a broken adapter measures nothing."""
    found = lookup(hit_path(size))
    if found != {"id": HIT_ID}:
        raise ValueError(
            f"{router.key}: {hit_path(size)} gave {found!r}, expected {{'id': {HIT_ID}}}"
        )
    missed = lookup(MISS_PATH)
    if missed is not None:
        raise ValueError(f"{router.key}: {MISS_PATH} should find no route, got {missed!r}")


def measure(
    routers: tuple[RouterUnderTest, ...] = ROUTERS,
    sizes: tuple[int, ...] = SIZES,
    budget: float = 0.05,
    repeat: int = 5,
) -> dict[str, RouterResult]:
    """Time every router at every size; return each router's result by key.

    Times are microseconds per lookup; ``build`` is the seconds taken to
    register (and, where the router does it up front, compile) the table.
    """
    results: dict[str, RouterResult] = {}
    for router in routers:
        timed: dict[str, RouterSize] = {}
        error_text: str | None = None
        try:
            for size in sizes:
                started = time.perf_counter()
                lookup = router.build(size)
                verify(router, lookup, size)  # also compiles routers that compile lazily
                built = time.perf_counter() - started
                timed[str(size)] = RouterSize(
                    build_s=round(built, 4),
                    hit_us=seconds_per_call(lookup, hit_path(size), budget, repeat) * 1e6,
                    miss_us=seconds_per_call(lookup, MISS_PATH, budget, repeat) * 1e6,
                )
        except Exception as error:  # a missing or broken stage is reported, not fatal
            error_text = f"{type(error).__name__}: {error}"
        results[router.key] = RouterResult(router.label, router.ours, timed, error_text)
    return results


def activate_stages() -> None:
    """Put the stages whose routers are measured on ``sys.path`` (honours WORKBOOK_STAGE_DIR)."""
    for stage in ("02_router", "05_bare", "06_roob"):
        activate(stage)

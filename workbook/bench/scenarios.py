"""What ``make bench`` measures: scenarios of apps on servers, the soak, and the goals.

A scenario puts several targets (an app on a server) under the same load,
on the same endpoints, in the same run, and reports each relative to its
baseline: the raw app for the framework scenarios, the reference server for
the server scenarios. The goals are the course's promises, written as data:
"this target is at least N times that one".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workbook.bench.apps.common import HELLO_TEXT, MESSAGE, ONE_MIB_TEXT, STATIC_NAME, item
from workbook.bench.servers import (
    GUNICORN,
    STAGE01,
    STAGE04,
    UVICORN_H11,
    UVICORN_HTTPTOOLS,
    WSGIREF,
    Server,
)

APPS = "workbook.bench.apps"


@dataclass(frozen=True)
class Endpoint:
    """A path every app of a scenario serves, and the answer it must give."""

    key: str
    path: str
    expected: str | Mapping[str, object]
    label: str


HELLO = Endpoint("hello", "/hello", HELLO_TEXT, "plaintext hello")
JSON = Endpoint("json", "/json", MESSAGE, "JSON message")
ITEM = Endpoint("item", "/items/42", item(42), "/items/{id:int}, last of 50 routes")
ENDPOINTS = (HELLO, JSON, ITEM)


@dataclass(frozen=True)
class Target:
    """One app on one server; ``stage`` names the stage folder its code comes from."""

    key: str
    label: str
    server: Server
    app: str
    stage: str | None = None


@dataclass(frozen=True)
class Scenario:
    """Targets compared under the same load; ratios are taken against ``baseline``."""

    key: str
    title: str
    about: str
    targets: tuple[Target, ...]
    endpoints: tuple[Endpoint, ...]
    baseline: str


ASGI = Scenario(
    "asgi",
    "ASGI frameworks on uvicorn",
    "uvicorn with httptools and uvloop, one worker; throughput relative to the raw ASGI app",
    (
        Target("raw-asgi", "raw ASGI app", UVICORN_HTTPTOOLS, f"{APPS}.raw_asgi:app"),
        Target(
            "asgi-router",
            "stage 04 router",
            UVICORN_HTTPTOOLS,
            f"{APPS}.asgi_router_app:app",
            "04_asgi",
        ),
        Target("bare", "bare (stage 05)", UVICORN_HTTPTOOLS, f"{APPS}.bare_app:app", "05_bare"),
        Target("starlette", "Starlette", UVICORN_HTTPTOOLS, f"{APPS}.starlette_app:app"),
        Target("fastapi", "FastAPI", UVICORN_HTTPTOOLS, f"{APPS}.fastapi_app:app"),
    ),
    ENDPOINTS,
    baseline="raw-asgi",
)

WSGI = Scenario(
    "wsgi",
    "WSGI frameworks on gunicorn",
    "gunicorn gthread worker with keep-alive, one worker; throughput relative to the raw WSGI app",
    (
        Target("raw-wsgi", "raw WSGI app", GUNICORN, f"{APPS}.raw_wsgi:app"),
        Target(
            "wsgirouter", "stage 02 router", GUNICORN, f"{APPS}.wsgirouter_app:app", "02_router"
        ),
        Target(
            "onion",
            "stage 03 router + middleware",
            GUNICORN,
            f"{APPS}.onion_app:app",
            "03_middleware",
        ),
        Target("roob", "roob (stage 06)", GUNICORN, f"{APPS}.roob_app:app", "06_roob"),
        Target("flask", "Flask", GUNICORN, f"{APPS}.flask_app:app"),
        Target("bottle", "Bottle", GUNICORN, f"{APPS}.bottle_app:app"),
        Target("falcon", "Falcon", GUNICORN, f"{APPS}.falcon_app:app"),
    ),
    ENDPOINTS,
    baseline="raw-wsgi",
)

WSGI_SERVERS = Scenario(
    "wsgi-servers",
    "WSGI servers",
    "the raw WSGI app on each server; throughput relative to wsgiref.simple_server",
    (
        Target("wsgiref", WSGIREF.label, WSGIREF, f"{APPS}.raw_wsgi:app"),
        Target("stage01", STAGE01.label, STAGE01, f"{APPS}.raw_wsgi:app", "01_raw_wsgi"),
        Target("gunicorn", GUNICORN.label, GUNICORN, f"{APPS}.raw_wsgi:app"),
    ),
    (HELLO,),
    baseline="wsgiref",
)

ASGI_SERVERS = Scenario(
    "asgi-servers",
    "ASGI servers",
    "the raw ASGI app on each server; throughput relative to uvicorn's pure-Python h11",
    (
        Target("uvicorn-h11", UVICORN_H11.label, UVICORN_H11, f"{APPS}.raw_asgi:app"),
        Target("stage04", STAGE04.label, STAGE04, f"{APPS}.raw_asgi:app", "04_asgi"),
        Target(
            "uvicorn-httptools", UVICORN_HTTPTOOLS.label, UVICORN_HTTPTOOLS, f"{APPS}.raw_asgi:app"
        ),
    ),
    (HELLO,),
    baseline="uvicorn-h11",
)

STATIC_FILE = Endpoint("file", f"/static/{STATIC_NAME}", ONE_MIB_TEXT, "one 1 MiB static file")

STATIC = Scenario(
    "static",
    "Static files on uvicorn",
    "one 1 MiB file served from a folder under /static, uvicorn with httptools and uvloop; "
    "throughput relative to Starlette's StaticFiles",
    (
        Target(
            "bare-static",
            "bare_static.StaticFiles (stage 05)",
            UVICORN_HTTPTOOLS,
            f"{APPS}.bare_static_app:app",
            "05_bare",
        ),
        Target(
            "starlette-static",
            "Starlette StaticFiles",
            UVICORN_HTTPTOOLS,
            f"{APPS}.starlette_static_app:app",
        ),
    ),
    (STATIC_FILE,),
    baseline="starlette-static",
)

SCENARIOS = (ASGI, WSGI, WSGI_SERVERS, ASGI_SERVERS, STATIC)

#: The soak: the two frameworks of the course, every endpoint in turn, for a long while.
SOAK_TARGETS = (ASGI.targets[2], WSGI.targets[3])


def find_target(scenario: str, key: str) -> Target:
    """Return the target ``key`` of scenario ``scenario``."""
    for candidate in SCENARIOS:
        if candidate.key == scenario:
            for target in candidate.targets:
                if target.key == key:
                    return target
    raise ValueError(f"no target {key!r} in scenario {scenario!r}")


@dataclass(frozen=True)
class ThroughputGoal:
    """``target`` serves at least ``factor`` times ``versus``'s requests per second."""

    scenario: str
    target: str
    versus: str
    endpoint: str
    factor: float

    def describe(self) -> str:
        a = find_target(self.scenario, self.target).label
        b = find_target(self.scenario, self.versus).label
        return f"{a} >= {self.factor:g}x {b} on {self.endpoint}"


THROUGHPUT_GOALS = (
    ThroughputGoal("asgi", "bare", "raw-asgi", "hello", 0.85),
    ThroughputGoal("asgi", "bare", "starlette", "item", 1.5),
    ThroughputGoal("wsgi", "roob", "flask", "item", 1.3),
    ThroughputGoal("wsgi-servers", "stage01", "wsgiref", "hello", 1.5),
    ThroughputGoal("asgi-servers", "stage04", "uvicorn-h11", "hello", 1.0),
    ThroughputGoal("static", "bare-static", "starlette-static", "file", 1.0),
)

#: bare_forms' hand-written multipart parser parses at least this share of python-multipart's MB/s.
MULTIPART_GOAL = 0.5

#: Our routers: a lookup among 1,000 routes may cost at most this times one among 10.
ROUTER_SCALING_LIMIT = 1.5
OUR_ROUTERS = ("wsgirouter", "bare", "roob")

#: The soak passes with no failed request and memory within this share of the post-warm-up RSS.
SOAK_RSS_LIMIT = 0.10

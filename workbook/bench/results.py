"""What a benchmark run measured, as typed dataclasses, and its ``results.json``.

The run builds one :class:`Results`; ``report.py`` reads it to evaluate the
goals and draw the table and plots, and :func:`save` / :func:`load` write
and read it as ``results.json`` (``python -m workbook bench --report``
redraws from a committed file without measuring again).

The JSON keeps the shape it always had, one object per dataclass with the
field names as keys, so files written before these classes existed load
as they are: a part such a file lacks (``multipart``, a soak's figures
after an ``error``) takes its default. Loading checks every field's type
(pydantic's ``TypeAdapter`` over the dataclasses), so a damaged file fails
with the path of the bad field, not a ``KeyError`` deep in a table.

Units are in the names: ``_rps`` requests per second, ``_ms`` / ``_us``
milli- and microseconds, ``_s`` seconds, ``_kib`` KiB of memory.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import TypeAdapter


@dataclass(frozen=True)
class Settings:
    """How long and how hard: the full run, or the quick harness check."""

    quick: bool
    duration: float  # seconds per measured run
    repeats: int
    warmup: float  # seconds of load per target and endpoint before measuring
    connections: int
    soak_warmup: float
    soak_duration: float
    soak_connections: int
    router_budget: float  # seconds per timed loop of the router benchmark
    router_repeat: int
    pause: float  # seconds between runs
    client: str = ""  # the load client that ran: "wrk" or "python"


@dataclass
class Machine:
    """Where and with what the run happened (see ``report.machine``)."""

    date: str
    platform: str
    cpu: str
    cores: int | None
    memory_gib: float | None
    python: str
    packages: dict[str, str]
    load_client: str
    pinning: str
    commit: str
    load_average_before: list[float] | None
    load_average_after: list[float] | None = None
    seconds: float | None = None  # how long the whole run took


@dataclass(frozen=True)
class LoadRun:
    """One load run as recorded: requests, errors by kind, latency percentiles (ms)."""

    requests: int
    seconds: float
    errors: dict[str, int]
    latency_ms: dict[str, float]  # "mean", "p50", "p75", "p90", "p99", "p99.9", "max"
    server_cpu_s: float | None
    rps: float
    cpu_us_per_request: float | None


@dataclass(frozen=True)
class EndpointSummary:
    """A target's runs on one endpoint: median and range of req/s, median latencies."""

    median_rps: float
    min_rps: float
    max_rps: float
    latency_ms: dict[str, float]
    errors: int
    cpu_us_per_request: float | None
    runs: list[LoadRun]


@dataclass
class TargetResult:
    """One server-and-app target of a scenario, and its summary per endpoint key."""

    label: str
    server: str
    app: str
    endpoints: dict[str, EndpointSummary] = field(default_factory=dict)
    log_tail: str = ""


@dataclass
class ScenarioResult:
    """Every target of one scenario, on the same endpoints (key -> label)."""

    title: str
    about: str
    baseline: str  # the key of the target the others are divided by
    endpoints: dict[str, str]
    targets: dict[str, TargetResult]


@dataclass
class SoakResult:
    """One target under a long load: errors, and how its memory moved.

    A soak that could not run has only ``label``, ``server`` and ``error``.
    """

    label: str
    server: str
    error: str | None = None
    paths: list[str] = field(default_factory=list)
    warmup: LoadRun | None = None
    run: LoadRun | None = None
    errors: int = 0
    requests: int = 0
    rps: float = 0.0
    rss_after_warmup_kib: int = 0
    rss_after_kib: int = 0
    rss_growth: float | None = None  # (after - after warm-up) / after warm-up
    rss_peak_kib: int = 0
    rss_samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, KiB)


@dataclass(frozen=True)
class InprocessTarget:
    """Microseconds per request of one app called in a loop, per endpoint key."""

    label: str
    endpoints: dict[str, float] = field(default_factory=dict)
    error: str | None = None


@dataclass
class InprocessScenario:
    """The frameworks of one scenario timed in process, no server, no socket."""

    title: str
    baseline: str
    endpoints: list[str]
    targets: dict[str, InprocessTarget]


@dataclass(frozen=True)
class RouterSize:
    """One router at one table size: build seconds, microseconds per hit and per miss."""

    build_s: float
    hit_us: float
    miss_us: float

    def lookup_us(self, lookup: str) -> float:
        """Return the time of a ``"hit"`` or a ``"miss"`` lookup, in microseconds."""
        if lookup not in ("hit", "miss"):
            raise ValueError(f"lookup is 'hit' or 'miss', not {lookup!r}")
        return self.hit_us if lookup == "hit" else self.miss_us


@dataclass(frozen=True)
class RouterResult:
    """One router at every size (keys "10", "100", "1000", as JSON keys are text)."""

    label: str
    ours: bool
    sizes: dict[str, RouterSize] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class MultipartTarget:
    """One multipart parser's speed on the shared body (MB = 10**6 bytes)."""

    label: str
    mb_per_s: float | None = None
    seconds: float | None = None  # CPU seconds per parse, best loop
    error: str | None = None


@dataclass
class MultipartResult:
    """Both multipart parsers on the same body, fed in ``chunk_bytes`` pieces."""

    body_bytes: int = 0
    chunk_bytes: int = 0
    targets: dict[str, MultipartTarget] = field(default_factory=dict)


@dataclass(frozen=True)
class Goal:
    """One goal of bench/README.md, evaluated: ``met`` is None when not measured."""

    goal: str
    threshold: float
    kind: str  # "at least" or "at most"
    ratio: float | None
    met: bool | None
    measured: str  # the sentence the table shows
    cpu_ratio: float | None = None  # throughput goals: the ratio by server CPU per request

    @property
    def status(self) -> str:
        """Return the table's word for the goal: met, **not met**, not measured."""
        return {True: "met", False: "**not met**", None: "not measured"}[self.met]


@dataclass
class Results:
    """A whole run: where, how, every part's measurements, failures and goals."""

    machine: Machine
    settings: Settings
    notes: list[str] = field(default_factory=list)
    scenarios: dict[str, ScenarioResult] = field(default_factory=dict)
    soak: dict[str, SoakResult] = field(default_factory=dict)
    inprocess: dict[str, InprocessScenario] = field(default_factory=dict)
    routers: dict[str, RouterResult] = field(default_factory=dict)
    multipart: MultipartResult = field(default_factory=MultipartResult)
    failures: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)


@functools.cache
def results_json() -> TypeAdapter[Results]:
    """Return the pydantic adapter that writes and checks ``results.json`` (built on first use:
    importing pydantic and building it costs a second, which the servers and the
    measuring code never need)."""
    from pydantic import TypeAdapter

    return TypeAdapter(Results)


def to_json(results: Results) -> str:
    """Return ``results`` as the text of ``results.json``."""
    return json.dumps(results_json().dump_python(results, mode="json"), indent=1) + "\n"


def from_json(text: str) -> Results:
    """Return the :class:`Results` in a ``results.json`` text.

    Raises ``pydantic.ValidationError`` (a ``ValueError``) naming each field
    that is missing or of the wrong type.
    """
    return results_json().validate_json(text)


def save(results: Results, path: Path) -> None:
    """Write ``results`` to ``path`` as JSON."""
    path.write_text(to_json(results), encoding="utf-8")


def load(path: Path) -> Results:
    """Read a ``results.json`` written by any version of the harness."""
    return from_json(path.read_text(encoding="utf-8"))

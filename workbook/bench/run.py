"""Run the benchmarks: start every server of a scenario, check it, load it, stop it.

The order is what makes ratios trustworthy on a noisy machine. All targets
of a scenario run side by side (idle ones cost nothing), and the repetitions
are interleaved: round 1 loads every target once, then round 2, and so on,
each round starting one target further along. A burst of noise from
elsewhere then lands on every target, not on whichever ran at that moment.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from workbook.bench import servers
from workbook.bench.load import Client, LoadResult
from workbook.bench.results import (
    EndpointSummary,
    ScenarioResult,
    Settings,
    SoakResult,
    TargetResult,
)
from workbook.bench.scenarios import ENDPOINTS, Endpoint, Scenario, Target

#: The soak sends these paths in turn: every endpoint, and several item ids.
SOAK_PATHS = ["/hello", "/json", "/items/1", "/items/22", "/items/333"]

Say = Callable[[str], None]

#: In a quick run, how many load clients run at once (on a 2-core machine).
QUICK_PARALLEL = 6


FULL = Settings(
    quick=False,
    duration=3,
    repeats=5,
    warmup=1,
    connections=64,
    soak_warmup=5,
    soak_duration=30,
    soak_connections=64,
    router_budget=0.05,
    router_repeat=5,
    pause=0.2,
)
QUICK = Settings(
    quick=True,
    duration=1,
    repeats=1,
    warmup=0,
    connections=8,
    soak_warmup=1,
    soak_duration=1,
    soak_connections=16,
    router_budget=0.002,
    router_repeat=1,
    pause=0,
)
#: The built-in Python client measures in fractions of a second (wrk counts whole ones).
QUICK_PYTHON = replace(QUICK, duration=0.3, soak_warmup=0.3, soak_duration=0.5)


def summarize(runs: list[LoadResult]) -> EndpointSummary:
    """Return the median and range of throughput, the median latencies, and all errors."""
    rates = [run.rps for run in runs]
    latency = {
        name: statistics.median(run.latency_ms[name] for run in runs) for name in runs[0].latency_ms
    }
    costs = [cost for run in runs if (cost := run.cpu_us_per_request) is not None]
    return EndpointSummary(
        median_rps=statistics.median(rates),
        min_rps=min(rates),
        max_rps=max(rates),
        latency_ms=latency,
        errors=sum(run.error_count for run in runs),
        cpu_us_per_request=statistics.median(costs) if costs else None,
        runs=[run.as_run() for run in runs],
    )


def start_all(
    targets: tuple[Target, ...], logs: Path, failures: list[str], say: Say
) -> dict[str, servers.Running]:
    """Start every target at once, then wait for each; failed ones are left out."""
    launched: dict[str, servers.Running] = {}
    for target in targets:
        try:
            launched[target.key] = servers.start(target.server, target.app, target.stage, logs)
        except OSError as error:
            failures.append(f"{target.label}: could not start: {error}")
    ready: dict[str, servers.Running] = {}
    for target in targets:
        running = launched.get(target.key)
        if running is None:
            continue
        try:
            servers.ready(running)
            ready[target.key] = running
        except RuntimeError as error:
            failures.append(f"{target.label} on {target.server.label} did not start: {error}")
            say(f"  ! {target.label} did not start")
            servers.stop(running)
    return ready


def checked_cells(
    scenario: Scenario, running: dict[str, servers.Running], failures: list[str], say: Say
) -> list[tuple[Target, Endpoint]]:
    """Return the (target, endpoint) pairs that answered 200 with the right body."""
    cells = []
    for target in scenario.targets:
        if target.key not in running:
            continue
        for endpoint in scenario.endpoints:
            problem = servers.check(running[target.key].base, endpoint.path, endpoint.expected)
            if problem:
                failures.append(f"{target.label}: {problem}")
                say(f"  ! {target.label}: {problem}")
            else:
                cells.append((target, endpoint))
    return cells


def run_scenario(
    scenario: Scenario,
    settings: Settings,
    client: Client,
    logs: Path,
    failures: list[str],
    say: Say,
) -> ScenarioResult:
    """Measure every target of a scenario on every endpoint; return its results."""
    say(f"{scenario.title}: {scenario.about}")
    running = start_all(scenario.targets, logs, failures, say)
    results = ScenarioResult(
        title=scenario.title,
        about=scenario.about,
        baseline=scenario.baseline,
        endpoints={endpoint.key: endpoint.label for endpoint in scenario.endpoints},
        targets={
            target.key: TargetResult(target.label, target.server.label, target.app)
            for target in scenario.targets
        },
    )
    try:
        cells = checked_cells(scenario, running, failures, say)
        runs: dict[tuple[str, str], list[LoadResult]] = {}

        def load(cell: tuple[Target, Endpoint], seconds: float) -> LoadResult:
            target, endpoint = cell
            server = running[target.key]
            before = servers.cpu_seconds(server.process.pid)
            result = client.run(server.base + endpoint.path, settings.connections, seconds)
            after = servers.cpu_seconds(server.process.pid)
            if before is None or after is None:
                return result
            return replace(result, server_cpu_s=after - before)

        def attempt(cell: tuple[Target, Endpoint], seconds: float) -> LoadResult | None:
            """Load one cell; a failed run is recorded and skipped, never fatal."""
            try:
                return load(cell, seconds)
            except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as error:
                failures.append(f"{cell[0].label} {cell[1].key}: load run failed: {error}")
                return None

        if settings.quick:
            # Accuracy does not matter here, only that every cell loads and parses.
            with ThreadPoolExecutor(max_workers=QUICK_PARALLEL) as pool:
                outcomes = pool.map(lambda cell: attempt(cell, settings.duration), cells)
                for cell, outcome in zip(cells, outcomes, strict=True):
                    if outcome is not None:
                        runs[cell[0].key, cell[1].key] = [outcome]
        else:
            for cell in cells:
                if settings.warmup:
                    attempt(cell, settings.warmup)
            for round_number in range(settings.repeats):
                # Each round starts one target further along than the last.
                shift = round_number * len(scenario.endpoints) % max(len(cells), 1)
                for cell in cells[shift:] + cells[:shift]:
                    time.sleep(settings.pause)
                    result = attempt(cell, settings.duration)
                    if result is None:
                        continue
                    runs.setdefault((cell[0].key, cell[1].key), []).append(result)
                    say(
                        f"  round {round_number + 1}: {cell[0].label:<32} {cell[1].key:<6} "
                        f"{result.rps:>9,.0f} req/s  p99 {result.latency_ms['p99']:6.2f} ms  "
                        f"server CPU {result.cpu_us_per_request or 0:6.1f} us/request"
                        + (f"  {result.error_count} errors" if result.error_count else "")
                    )
        for (target_key, endpoint_key), measured in runs.items():
            results.targets[target_key].endpoints[endpoint_key] = summarize(measured)
    finally:
        for target_key, server in running.items():
            servers.stop(server)
            results.targets[target_key].log_tail = server.output()[-600:]
    return results


def run_soak(
    target: Target, settings: Settings, client: Client, logs: Path, failures: list[str], say: Say
) -> SoakResult:
    """Load one target for a long while; report errors and how its memory moved."""
    say(
        f"Soak: {target.label} on {target.server.label}, {settings.soak_duration:g} s "
        f"at {settings.soak_connections} connections"
    )
    result = SoakResult(target.label, target.server.label)
    running = start_all((target,), logs, failures, say).get(target.key)
    if running is None:
        result.error = "did not start"
        return result
    try:
        problems = [
            problem
            for endpoint in ENDPOINTS
            if (problem := servers.check(running.base, endpoint.path, endpoint.expected))
        ]
        if problems:
            failures += [f"{target.label}: {problem}" for problem in problems]
            result.error = "; ".join(problems)
            return result
        warm = client.run(
            running.base + "/", settings.soak_connections, settings.soak_warmup, SOAK_PATHS
        )
        baseline = servers.rss_kib(running.process.pid)
        samples: list[tuple[float, int]] = []
        stop = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(1.0):
                samples.append(
                    (round(time.monotonic() - started, 1), servers.rss_kib(running.process.pid))
                )

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            soak = client.run(
                running.base + "/", settings.soak_connections, settings.soak_duration, SOAK_PATHS
            )
        finally:
            stop.set()
            sampler.join()
        final = servers.rss_kib(running.process.pid)
        growth = (final - baseline) / baseline if baseline else 0.0
        result = SoakResult(
            target.label,
            target.server.label,
            paths=list(SOAK_PATHS),
            warmup=warm.as_run(),
            run=soak.as_run(),
            errors=soak.error_count,
            requests=soak.requests,
            rps=soak.rps,
            rss_after_warmup_kib=baseline,
            rss_after_kib=final,
            rss_growth=growth,
            rss_peak_kib=max([final, *(kib for _, kib in samples)]),
            rss_samples=samples,
        )
        say(
            f"  {soak.requests:,} requests, {soak.error_count} errors, RSS "
            f"{baseline / 1024:.1f} -> {final / 1024:.1f} MiB ({growth:+.1%})"
        )
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as error:
        failures.append(f"soak {target.label}: load run failed: {error}")
        result.error = f"load run failed: {error}"
    finally:
        servers.stop(running)
    return result

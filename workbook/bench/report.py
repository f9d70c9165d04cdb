"""Turn measurements into the results: goals, a Markdown table, plots and raw JSON.

Everything here reads the results dictionary that ``cli.py`` assembles (and
writes as ``results.json``), so the table and plots can be redrawn from a
committed run without measuring again: ``python -m workbook bench --report``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from workbook.bench.scenarios import (
    MULTIPART_GOAL,
    OUR_ROUTERS,
    ROUTER_SCALING_LIMIT,
    SOAK_RSS_LIMIT,
    THROUGHPUT_GOALS,
    ThroughputGoal,
)
from workbook.stages import REPO

PACKAGES = (
    "uvicorn",
    "httptools",
    "uvloop",
    "h11",
    "gunicorn",
    "starlette",
    "fastapi",
    "flask",
    "werkzeug",
    "bottle",
    "falcon",
    "webob",
    "parse",
    "matplotlib",
    "python-multipart",
)
#: Per-round ratios further apart than this factor mark a goal's ratio as noisy.
NOISY_SPREAD = 1.5
#: A 1-minute load average above this many cores' worth of work before the run
#: means something else was running: the machine was not quiet.
BUSY_LOAD_PER_CORE = 0.5
BUSY_PREFIX = "The machine was loaded during this run"
PLOTS = ("throughput.png", "latency.png", "routers.png", "soak.png")


# ── The machine ───────────────────────────────────────────────────────────────


def machine(client_version: str, pinning: str) -> dict[str, Any]:
    """Describe where and with what the run happened."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": versions,
        "load_client": client_version,
        "pinning": pinning,
        "commit": git_commit(),
        "load_average_before": load_average(),
    }


def memory_gib() -> float | None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return None
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "stages", "workbook/bench"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return commit + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def busy_note(info: dict[str, Any]) -> str | None:
    """Return a warning if something else kept the machine busy when the run began.

    Only the load *before* the run says so: during and after it, the server
    and wrk keep every core busy themselves, so the load average after the
    run is about the core count on any machine, quiet or not.
    """
    before = info.get("load_average_before")
    peak = before[0] if before else 0.0
    if peak > BUSY_LOAD_PER_CORE * info["cores"]:
        return (
            f"{BUSY_PREFIX} (1-minute load average {peak:.2f} before it, on {info['cores']} "
            "cores): absolute numbers may be low and noisy; ratios within a scenario hold "
            "better, because its targets were loaded in interleaved rounds, and the server "
            "CPU time per request hardly depends on the load."
        )
    return None


# ── Goals ─────────────────────────────────────────────────────────────────────


def rate(
    results: dict[str, Any], scenario: str, target: str, endpoint: str
) -> dict[str, Any] | None:
    """Return a target's summary on an endpoint, or None if it was not measured."""
    try:
        endpoints = results["scenarios"][scenario]["targets"][target]["endpoints"]
        summary: dict[str, Any] = endpoints[endpoint]
    except KeyError:
        return None
    return summary


def throughput_goal(results: dict[str, Any], goal: ThroughputGoal) -> dict[str, Any]:
    """Evaluate ``goal``: the ratio of medians, and the range of per-round ratios."""
    mine = rate(results, goal.scenario, goal.target, goal.endpoint)
    theirs = rate(results, goal.scenario, goal.versus, goal.endpoint)
    entry: dict[str, Any] = {"goal": goal.describe(), "threshold": goal.factor, "kind": "at least"}
    if not mine or not theirs:
        return {**entry, "ratio": None, "met": None, "measured": "not measured"}
    ratio = mine["median_rps"] / theirs["median_rps"]
    # Rounds are interleaved, so round i of one target is comparable with round i of the other.
    rounds = [
        a["rps"] / b["rps"] for a, b in zip(mine["runs"], theirs["runs"], strict=False) if b["rps"]
    ]
    spread = f" (rounds {min(rounds):.2f}-{max(rounds):.2f})" if len(rounds) > 1 else ""
    # A second opinion that a busy machine hardly moves: what a request costs the server.
    cpu_ratio = None
    if mine.get("cpu_us_per_request") and theirs.get("cpu_us_per_request"):
        cpu_ratio = theirs["cpu_us_per_request"] / mine["cpu_us_per_request"]
    cpu = f"; by server CPU per request {cpu_ratio:.2f}x" if cpu_ratio else ""
    caveats = []
    if len(rounds) > 1 and max(rounds) > NOISY_SPREAD * min(rounds):
        caveats.append("rounds disagree: the machine was noisy")
    if cpu_ratio and (cpu_ratio >= goal.factor) != (ratio >= goal.factor):
        caveats.append(
            f"the CPU-time ratio says {'met' if cpu_ratio >= goal.factor else 'not met'}"
        )
    caveat = f" ({'; '.join(caveats)})" if caveats else ""
    return {
        **entry,
        "ratio": ratio,
        "cpu_ratio": cpu_ratio,
        "met": ratio >= goal.factor,
        "measured": f"{ratio:.2f}x{spread}: {mine['median_rps']:,.0f} vs "
        f"{theirs['median_rps']:,.0f} req/s{cpu}{caveat}",
    }


def router_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Evaluate "1,000 routes cost at most 1.5x 10" for each of our routers, hit and miss."""
    goals = []
    for key in OUR_ROUTERS:
        entry = results.get("routers", {}).get(key, {})
        label = entry.get("label", key)
        for lookup, what in (("hit_us", "last dynamic route"), ("miss_us", "miss")):
            goal = {
                "goal": f"{label}: lookup among 1,000 routes <= {ROUTER_SCALING_LIMIT:g}x "
                f"among 10 ({what})",
                "threshold": ROUTER_SCALING_LIMIT,
                "kind": "at most",
            }
            sizes = entry.get("sizes", {})
            if "10" not in sizes or "1000" not in sizes:
                goals.append(
                    {
                        **goal,
                        "ratio": None,
                        "met": None,
                        "measured": entry.get("error", "not measured"),
                    }
                )
                continue
            small, large = sizes["10"][lookup], sizes["1000"][lookup]
            ratio = large / small
            goals.append(
                {
                    **goal,
                    "ratio": ratio,
                    "met": ratio <= ROUTER_SCALING_LIMIT,
                    "measured": f"{ratio:.2f}x: {large:.2f} vs {small:.2f} us",
                }
            )
    return goals


def soak_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Evaluate the soak: zero errors and RSS within 10% of its post-warm-up value."""
    goals = []
    for entry in results.get("soak", {}).values():
        goal = {
            "goal": f"soak {entry['label']}: zero errors, RSS within "
            f"{SOAK_RSS_LIMIT:.0%} of post-warm-up",
            "threshold": SOAK_RSS_LIMIT,
            "kind": "at most",
        }
        if "rss_growth" not in entry:
            goals.append(
                {**goal, "ratio": None, "met": None, "measured": entry.get("error", "not measured")}
            )
            continue
        growth, errors = entry["rss_growth"], entry["errors"]
        goals.append(
            {
                **goal,
                "ratio": growth,
                "met": errors == 0 and abs(growth) <= SOAK_RSS_LIMIT,
                "measured": f"{errors} errors in {entry['requests']:,} requests; RSS "
                f"{entry['rss_after_warmup_kib'] / 1024:.1f} -> "
                f"{entry['rss_after_kib'] / 1024:.1f} MiB ({growth:+.1%})",
            }
        )
    return goals


def multipart_goal(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Evaluate "bare_forms parses at least 0.5x python-multipart's MB/s"."""
    goal = {
        "goal": f"bare_forms multipart parser >= {MULTIPART_GOAL:g}x python-multipart (MB/s)",
        "threshold": MULTIPART_GOAL,
        "kind": "at least",
    }
    targets = results.get("multipart", {}).get("targets", {})
    mine, theirs = targets.get("bare_forms", {}), targets.get("python-multipart", {})
    if "mb_per_s" not in mine or "mb_per_s" not in theirs:
        problem = mine.get("error") or theirs.get("error") or "not measured"
        return [{**goal, "ratio": None, "met": None, "measured": problem}]
    ratio = mine["mb_per_s"] / theirs["mb_per_s"]
    return [
        {
            **goal,
            "ratio": ratio,
            "met": ratio >= MULTIPART_GOAL,
            "measured": f"{ratio:.2f}x: {mine['mb_per_s']:,.0f} vs {theirs['mb_per_s']:,.0f} MB/s "
            "(CPU time, best loop)",
        }
    ]


def evaluate_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    return (
        [throughput_goal(results, goal) for goal in THROUGHPUT_GOALS]
        + router_goals(results)
        + soak_goals(results)
        + multipart_goal(results)
    )


def status(goal: dict[str, Any]) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[goal["met"]]


# ── Markdown ──────────────────────────────────────────────────────────────────


def goals_table(goals: list[dict[str, Any]]) -> str:
    lines = ["| Goal | Measured | Status |", "| --- | --- | --- |"]
    lines += [f"| {goal['goal']} | {goal['measured']} | {status(goal)} |" for goal in goals]
    return "\n".join(lines)


def scenario_table(scenario: dict[str, Any]) -> str:
    """Return one row per target: median req/s (min-max) and x baseline per endpoint."""
    endpoints = list(scenario["endpoints"])
    baseline = scenario["targets"].get(scenario["baseline"], {}).get("endpoints", {})
    head = ["Target", "Server"] + [f"`{key}` req/s (min-max)" for key in endpoints]
    head += [f"`{key}` x {scenario['targets'][scenario['baseline']]['label']}" for key in endpoints]
    head += [
        f"`{endpoints[-1]}` latency p50 / p90 / p99 ms",
        "server CPU us/request (" + " / ".join(f"`{key}`" for key in endpoints) + ")",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for target in scenario["targets"].values():
        cells = [target["label"], target["server"]]
        measured = target["endpoints"]
        for key in endpoints:
            entry = measured.get(key)
            cells.append(
                f"{entry['median_rps']:,.0f} ({entry['min_rps']:,.0f}-{entry['max_rps']:,.0f})"
                + (f", {entry['errors']} errors" if entry["errors"] else "")
                if entry
                else "-"
            )
        for key in endpoints:
            entry, base = measured.get(key), baseline.get(key)
            cells.append(
                f"{entry['median_rps'] / base['median_rps']:.2f}" if entry and base else "-"
            )
        last = measured.get(endpoints[-1])
        cells.append(
            " / ".join(f"{last['latency_ms'][p]:.2f}" for p in ("p50", "p90", "p99"))
            if last
            else "-"
        )
        costs = [measured.get(key, {}).get("cpu_us_per_request") for key in endpoints]
        cells.append(" / ".join(f"{cost:.0f}" if cost else "-" for cost in costs))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def inprocess_table(scenario: dict[str, Any]) -> str:
    """Return microseconds per request of each framework, and the extra over the raw app."""
    endpoints = scenario["endpoints"]
    raw = scenario["targets"].get(scenario["baseline"], {}).get("endpoints", {})
    head = (
        ["Target"]
        + [f"`{key}` us" for key in endpoints]
        + [f"`{key}` + us over raw" for key in endpoints]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for entry in scenario["targets"].values():
        if "error" in entry:
            lines.append(
                f"| {entry['label']} | "
                + " | ".join(["-"] * (len(head) - 2))
                + f" | {entry['error']} |"
            )
            continue
        timed = entry["endpoints"]
        cells = [entry["label"]] + [f"{timed[key]:.1f}" for key in endpoints]
        cells += [f"{timed[key] - raw[key]:+.1f}" if key in raw else "-" for key in endpoints]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def router_table(routers: dict[str, Any]) -> str:
    sizes = ["10", "100", "1000"]
    head = ["Router"] + [f"{size} routes: hit / miss us" for size in sizes]
    head += ["1,000 / 10 (hit)", "1,000 / 10 (miss)", "build 1,000 (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for entry in routers.values():
        label = f"**{entry['label']}**" if entry["ours"] else entry["label"]
        if "error" in entry:
            lines.append(
                f"| {label} | " + " | ".join(["-"] * (len(head) - 2)) + f" | {entry['error']} |"
            )
            continue
        timed = entry["sizes"]
        cells = [label] + [
            f"{timed[size]['hit_us']:.2f} / {timed[size]['miss_us']:.2f}" if size in timed else "-"
            for size in sizes
        ]
        if "10" in timed and "1000" in timed:
            cells += [
                f"{timed['1000'][key] / timed['10'][key]:.2f}x" for key in ("hit_us", "miss_us")
            ]
            cells.append(f"{timed['1000']['build_s']:.3f}")
        else:
            cells += ["-", "-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def soak_table(soak: dict[str, Any]) -> str:
    lines = [
        "| Target | Server | Requests | req/s | Errors | RSS after warm-up | RSS after | Peak |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in soak.values():
        if "rss_growth" not in entry:
            lines.append(
                f"| {entry['label']} | {entry['server']} | {entry.get('error', '-')} | | | | | |"
            )
            continue
        lines.append(
            f"| {entry['label']} | {entry['server']} | {entry['requests']:,} | {entry['rps']:,.0f} "
            f"| {entry['errors']} | {entry['rss_after_warmup_kib'] / 1024:.1f} MiB "
            f"| {entry['rss_after_kib'] / 1024:.1f} MiB ({entry['rss_growth']:+.1%}) "
            f"| {entry['rss_peak_kib'] / 1024:.1f} MiB |"
        )
    return "\n".join(lines)


def multipart_table(measured: dict[str, Any]) -> str:
    lines = ["| Parser | MB/s |", "| --- | --- |"]
    for entry in measured["targets"].values():
        value = f"{entry['mb_per_s']:,.0f}" if "mb_per_s" in entry else entry.get("error", "-")
        lines.append(f"| {entry['label']} | {value} |")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """Return RESULTS.md: where it ran, the goals, every table, the plots."""
    info, settings = results["machine"], results["settings"]
    packages = ", ".join(f"{name} {version}" for name, version in info["packages"].items())
    parts = [
        "# Benchmark results",
        "",
        f"Run on {info['date']} by "
        f"`python -m workbook bench{' --quick' if settings['quick'] else ''}`"
        f" at commit {info['commit']}.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, "
        f"{info['platform']}",
        f"- Python: {info['python']}; load client: {info['load_client']}; "
        f"pinning: {info['pinning']}",
        f"- Packages: {packages}",
        f"- Load: {settings['connections']} connections, {settings['repeats']} interleaved "
        f"round{'s' if settings['repeats'] != 1 else ''} of "
        f"{settings['duration']:g} s per target and endpoint "
        f"after {settings['warmup']:g} s of warm-up; "
        f"medians quoted with (min-max). Load average before / after: "
        f"{info['load_average_before']} / {info.get('load_average_after')}.",
    ]
    for note in results.get("notes", []):
        parts += ["", f"> **Note.** {note}"]
    parts += ["", "## Goals", "", goals_table(results["goals"])]
    for scenario in results["scenarios"].values():
        about = scenario["about"][0].upper() + scenario["about"][1:]
        parts += ["", f"## {scenario['title']}", "", f"{about}.", "", scenario_table(scenario)]
    for scenario in results.get("inprocess", {}).values():
        parts += [
            "",
            f"## {scenario['title']}: cost per request in process",
            "",
            "Microseconds per request with no server and no socket: the app called in a "
            "loop with a ready-made environ or scope (best of the loops).",
            "",
            inprocess_table(scenario),
        ]
    parts += [
        "",
        "## Router scaling (in process)",
        "",
        "Microseconds per lookup of the last-registered dynamic route (hit) and of a path "
        "no route matches (miss); our routers in bold.",
        "",
        router_table(results["routers"]),
    ]
    parts += ["", "## Soak", "", soak_table(results["soak"])]
    if results.get("multipart", {}).get("targets"):
        parts += [
            "",
            "## Multipart parsing (in process)",
            "",
            f"MB/s of body parsed, the same {results['multipart']['body_bytes']:,}-byte "
            f"multipart/form-data body fed in {results['multipart']['chunk_bytes'] // 1024} KiB "
            "pieces (CPU time, best loop).",
            "",
            multipart_table(results["multipart"]),
        ]
    if results.get("failures"):
        parts += ["", "## Failures", ""] + [f"- {failure}" for failure in results["failures"]]
    parts += ["", "## Plots", ""] + [f"![{name[:-4]}]({name})" for name in PLOTS]
    return "\n".join(parts) + "\n"


# ── Plots ─────────────────────────────────────────────────────────────────────


def plot_all(results: dict[str, Any], folder: Path) -> list[Path]:
    """Draw every plot into ``folder`` with matplotlib's Agg backend; return the files."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    pyplot.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    drawn = [
        plot_throughput(results, folder / "throughput.png", pyplot),
        plot_latency(results, folder / "latency.png", pyplot),
        plot_routers(results, folder / "routers.png", pyplot),
        plot_soak(results, folder / "soak.png", pyplot),
    ]
    return drawn


def grouped_bars(
    axes: Any,
    labels: list[str],
    series: dict[str, list[float]],
    errors: dict[str, list[tuple[float, float]]] | None = None,
    label_format: str = "",
) -> None:
    """Draw one group of bars per label, one bar per series key."""
    width = 0.8 / max(len(series), 1)
    for index, (name, values) in enumerate(series.items()):
        positions = [
            group + (index - (len(series) - 1) / 2) * width for group in range(len(labels))
        ]
        bounds = None
        if errors:
            low_high = errors[name]
            bounds = [
                [max(0.0, value - low) for value, (low, _) in zip(values, low_high, strict=True)],
                [max(0.0, high - value) for value, (_, high) in zip(values, low_high, strict=True)],
            ]
        bars = axes.bar(positions, values, width, label=name, yerr=bounds, capsize=2)
        if label_format:
            axes.bar_label(bars, fmt=label_format, fontsize=6, padding=1)
    axes.set_xticks(range(len(labels)), labels, rotation=20, ha="right")


def plain_log_ticks(axis: Any) -> None:
    """Label a log axis 0.5, 1, 10, 1000 rather than 5x10^-1, 10^0, 10^1, 10^3."""
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axis.set_major_formatter(plain)
    axis.set_minor_formatter(
        FuncFormatter(lambda value, _: f"{value:g}" if str(round(value, 6))[0] in "25" else "")
    )


def hide_unused(grid: Any, used: int) -> None:
    """Hide the panels of a grid that no scenario filled (a run with --only)."""
    for axes in list(grid.flat)[used:]:
        axes.set_visible(False)


def plot_throughput(results: dict[str, Any], path: Path, pyplot: Any) -> Path:
    """Throughput of every target relative to its scenario's baseline (min-max as error bars)."""
    figure, grid = pyplot.subplots(3, 2, figsize=(12, 12))  # five scenarios
    for axes, scenario in zip(grid.flat, results["scenarios"].values(), strict=False):
        baseline = scenario["targets"].get(scenario["baseline"], {}).get("endpoints", {})
        labels: list[str] = []
        series: dict[str, list[float]] = {k: [] for k in scenario["endpoints"]}
        errors: dict[str, list[tuple[float, float]]] = {k: [] for k in scenario["endpoints"]}
        for target in scenario["targets"].values():
            labels.append(target["label"])
            for endpoint in scenario["endpoints"]:
                entry, base = target["endpoints"].get(endpoint), baseline.get(endpoint)
                if entry and base:
                    reference = base["median_rps"]
                    series[endpoint].append(entry["median_rps"] / reference)
                    errors[endpoint].append(
                        (entry["min_rps"] / reference, entry["max_rps"] / reference)
                    )
                else:
                    series[endpoint].append(0.0)
                    errors[endpoint].append((0.0, 0.0))
        grouped_bars(axes, labels, series, errors, label_format="%.2f")
        axes.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
        base_label = scenario["targets"][scenario["baseline"]]["label"]
        axes.set_title(f"{scenario['title']} (x {base_label})")
        axes.set_ylabel(f"throughput / {base_label}")
        axes.legend(fontsize=8)
    hide_unused(grid, len(results["scenarios"]))
    figure.suptitle("Requests per second relative to the baseline (median; bars: min-max)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path


def plot_latency(results: dict[str, Any], path: Path, pyplot: Any) -> Path:
    """Latency percentiles per target on each scenario's last endpoint."""
    figure, grid = pyplot.subplots(3, 2, figsize=(12, 12))  # five scenarios
    percentiles = ("p50", "p90", "p99")
    for axes, scenario in zip(grid.flat, results["scenarios"].values(), strict=False):
        endpoint = list(scenario["endpoints"])[-1]
        labels: list[str] = []
        series: dict[str, list[float]] = {p: [] for p in percentiles}
        for target in scenario["targets"].values():
            labels.append(target["label"])
            entry = target["endpoints"].get(endpoint)
            for p in percentiles:
                series[p].append(entry["latency_ms"][p] if entry else 0.0)
        grouped_bars(axes, labels, series)
        axes.set_yscale("log")
        plain_log_ticks(axes.yaxis)
        axes.set_title(f"{scenario['title']}: {scenario['endpoints'][endpoint]}")
        axes.set_ylabel("latency (ms, log scale)")
        axes.legend(fontsize=8)
    hide_unused(grid, len(results["scenarios"]))
    connections = results["settings"]["connections"]
    figure.suptitle(f"Latency percentiles at {connections} connections (median of the rounds)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path


def plot_routers(results: dict[str, Any], path: Path, pyplot: Any) -> Path:
    """Lookup time against route count, log-log: flat lines scale, rising lines scan."""
    figure, grid = pyplot.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for axes, (key, title) in zip(
        grid,
        (("hit_us", "last-registered dynamic route"), ("miss_us", "a path no route matches")),
        strict=True,
    ):
        for entry in results["routers"].values():
            sizes = sorted(entry.get("sizes", {}), key=int)
            if not sizes:
                continue
            axes.plot(
                [int(size) for size in sizes],
                [entry["sizes"][size][key] for size in sizes],
                marker="o",
                linewidth=2.2 if entry["ours"] else 1.2,
                linestyle="-" if entry["ours"] else "--",
                label=entry["label"],
            )
        axes.set_xscale("log")
        axes.set_yscale("log")
        plain_log_ticks(axes.xaxis)
        plain_log_ticks(axes.yaxis)
        axes.set_xlabel("routes registered")
        axes.set_title(f"Lookup of {title}")
        axes.grid(True, which="both", linewidth=0.3)
    grid[0].set_ylabel("microseconds per lookup")
    if grid[1].get_legend_handles_labels()[0]:
        grid[1].legend(fontsize=8)
    figure.suptitle("Router scaling: our routers solid, peers dashed")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path


def plot_soak(results: dict[str, Any], path: Path, pyplot: Any) -> Path:
    """Server memory over the soak, against the post-warm-up value and its 10% band."""
    figure, axes = pyplot.subplots(figsize=(8, 4))
    for entry in results["soak"].values():
        if "rss_samples" not in entry:
            continue
        times = [0.0] + [moment for moment, _ in entry["rss_samples"]]
        values = [entry["rss_after_warmup_kib"] / 1024] + [
            kib / 1024 for _, kib in entry["rss_samples"]
        ]
        line = axes.plot(times, values, marker=".", label=entry["label"])[0]
        start = entry["rss_after_warmup_kib"] / 1024
        axes.axhspan(
            start * (1 - SOAK_RSS_LIMIT),
            start * (1 + SOAK_RSS_LIMIT),
            color=line.get_color(),
            alpha=0.08,
        )
    axes.set_xlabel("seconds into the soak")
    axes.set_ylabel("server RSS (MiB)")
    axes.set_title("Soak: server memory, and a 10% band around its post-warm-up value")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path


# ── Files ─────────────────────────────────────────────────────────────────────


def write(results: dict[str, Any], folder: Path) -> list[Path]:
    """Write results.json, RESULTS.md and the plots into ``folder``; return the files."""
    folder.mkdir(parents=True, exist_ok=True)
    results["goals"] = evaluate_goals(results)
    note = busy_note(results["machine"])
    notes = [kept for kept in results.get("notes", []) if not kept.startswith(BUSY_PREFIX)]
    results["notes"] = ([note] if note else []) + notes
    raw = folder / "results.json"
    raw.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    table = folder / "RESULTS.md"
    table.write_text(markdown(results))
    return [raw, table, *plot_all(results, folder)]


def goals_summary(goals: list[dict[str, Any]]) -> str:
    """Return the goals as lines for the terminal."""
    width = max(len(goal["goal"]) for goal in goals)
    return "\n".join(
        f"  {status(goal).strip('*'):<12} {goal['goal']:<{width}}  {goal['measured']}"
        for goal in goals
    )

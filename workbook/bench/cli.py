"""``python -m workbook bench [--quick]``: measure, then write bench/results/.

``make bench`` is the full run (about 15 minutes on 2 cores): every scenario
in interleaved rounds, the soak, router scaling, then the table and plots.
``make bench-quick`` runs every scenario once with tiny durations and checks
that the harness works (every server starts, every endpoint answers 200,
every load result parses); it says nothing about the goals.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from workbook.bench import inprocess, multipart, report, routers
from workbook.bench.load import (
    CLIENT_CORES,
    INSTALL_WRK,
    SERVER_CORES,
    Client,
    can_pin,
    find_client,
)
from workbook.bench.results import Results, Settings, load
from workbook.bench.run import FULL, QUICK, QUICK_PYTHON, run_scenario, run_soak
from workbook.bench.scenarios import SCENARIOS, SOAK_TARGETS
from workbook.bench.servers import log_folder
from workbook.stages import REPO

RESULTS = REPO / "bench" / "results"
PARTS = ["soak", "inprocess", "routers", "multipart"]
CHAPTER = REPO / "bench" / "README.md"
GOALS_START, GOALS_END = "<!-- goals:start -->", "<!-- goals:end -->"


def parse(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workbook bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every scenario once, tiny durations: checks the harness, not the goals",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results folder (default: bench/results, or a temporary folder with --quick)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=[s.key for s in SCENARIOS] + PARTS, help="run only these parts"
    )
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk",
        help="load client (default wrk; --quick falls back to python without it)",
    )
    parser.add_argument(
        "--note", action="append", default=[], help="a note to print in the results"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="redraw the table and plots from the folder's results.json; measure nothing",
    )
    return parser.parse_args(args)


def choose_client(options: argparse.Namespace) -> Client | None:
    client = find_client(options.client)
    if client is None and options.quick:
        print("wrk is not installed: using the built-in Python load client for the quick check.")
        return find_client("python")
    return client


def main(command: str, args: list[str]) -> int:
    options = parse(args)
    if options.quick and options.out is None:
        # The quick check's table and plots go to a folder that is removed
        # afterwards: `make bench-quick` leaves nothing behind in /tmp.
        with tempfile.TemporaryDirectory(prefix="bench-quick-") as scratch:
            options.out = Path(scratch)
            code = run(options)
        print(
            "(the quick run's table and plots were in a temporary folder, now removed: "
            "--out DIR keeps them)"
        )
        return code
    return run(options)


def run(options: argparse.Namespace) -> int:
    """Measure (or, with --report, redraw) into ``options.out`` (default bench/results/)."""
    folder: Path = options.out or RESULTS
    if options.report:
        results = load(folder / "results.json")
        results.notes.extend(note for note in options.note if note not in results.notes)
        finish(results, folder, options)
        return 0
    client = choose_client(options)
    if client is None:
        print(INSTALL_WRK, file=sys.stderr)
        return 2
    settings: Settings = FULL
    if options.quick:
        settings = QUICK if client.name == "wrk" else QUICK_PYTHON
    results = measure(settings, client, options)
    finish(results, folder, options)
    if settings.quick:
        problems = results.failures + unparsed(results)
        for problem in problems:
            print(f"FAIL {problem}", file=sys.stderr)
        print(f"bench --quick: {'harness OK' if not problems else f'{len(problems)} problems'}")
        return 1 if problems else 0
    return 1 if results.failures else 0


def measure(settings: Settings, client: Client, options: argparse.Namespace) -> Results:
    """Run every selected part; return their results."""
    wanted = set(options.only or [s.key for s in SCENARIOS] + PARTS)
    pinning = (
        f"taskset: servers on core {SERVER_CORES}, load client on core {CLIENT_CORES}"
        if can_pin()
        else "none (taskset missing or a single core)"
    )
    results = Results(
        machine=report.machine(client.version(), pinning),
        settings=replace(settings, client=client.name),
        notes=list(options.note),
    )
    failures = results.failures
    started = time.monotonic()
    with log_folder() as logs:
        for scenario in SCENARIOS:
            if scenario.key in wanted:
                results.scenarios[scenario.key] = run_scenario(
                    scenario, settings, client, logs, failures, say
                )
        if "soak" in wanted:
            for target in SOAK_TARGETS:
                results.soak[target.key] = run_soak(target, settings, client, logs, failures, say)
    if "inprocess" in wanted:
        say("Framework cost per request, in process")
        results.inprocess = inprocess.measure(
            budget=settings.router_budget * 2, repeat=settings.router_repeat
        )
        for timed in results.inprocess.values():
            for key, entry in timed.targets.items():
                if entry.error is not None:
                    failures.append(f"in process {key}: {entry.error}")
    if "routers" in wanted:
        say("Router scaling, in process")
        routers.activate_stages()
        results.routers = routers.measure(
            budget=settings.router_budget, repeat=settings.router_repeat
        )
        for key, router in results.routers.items():
            if router.error is not None:
                failures.append(f"router {key}: {router.error}")
    if "multipart" in wanted:
        say("Multipart parsing, in process")
        results.multipart = multipart.measure(repeat=settings.router_repeat)
        for key, parser in results.multipart.targets.items():
            if parser.error is not None:
                failures.append(f"multipart {key}: {parser.error}")
    results.machine.load_average_after = report.load_average()
    results.machine.seconds = round(time.monotonic() - started, 1)
    return results


def unparsed(results: Results) -> list[str]:
    """Return every measured cell whose load run recorded no request at all."""
    problems = []
    for scenario in results.scenarios.values():
        for target in scenario.targets.values():
            for endpoint, entry in target.endpoints.items():
                if not all(run.requests for run in entry.runs):
                    problems.append(f"{target.label} {endpoint}: the load run completed no request")
    return problems


def finish(results: Results, folder: Path, options: argparse.Namespace) -> None:
    """Write the results, print the goals, and refresh the chapter's goals table."""
    files = report.write(results, folder)
    print(
        f"\nGoals ({'quick run: durations too short to judge' if options.quick else 'full run'}):"
    )
    print(report.goals_summary(results.goals))
    print(f"\nWrote {', '.join(str(path) for path in files)}")
    if folder.resolve() == RESULTS.resolve() and not results.settings.quick:
        refresh_chapter(results)


def refresh_chapter(results: Results) -> None:
    """Replace the goals table in bench/README.md (between its markers) with this run's."""
    if not CHAPTER.exists():
        return
    text = CHAPTER.read_text()
    table = (
        f"{GOALS_START}\nMeasured on {results.machine.date} "
        f"({results.machine.cpu}, {results.machine.cores} cores"
        + (", a loaded machine" if report.busy_note(results.machine) else "")
        + "); full tables in [results/RESULTS.md](results/RESULTS.md).\n\n"
        + report.goals_table(results.goals)
        + f"\n{GOALS_END}"
    )
    pattern = re.compile(re.escape(GOALS_START) + ".*?" + re.escape(GOALS_END), re.DOTALL)
    if pattern.search(text):
        CHAPTER.write_text(pattern.sub(lambda _: table, text))


def say(line: str) -> None:
    print(line, flush=True)

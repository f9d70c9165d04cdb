"""``python -m workbook COMMAND ...``: the course's command line.

Each command lives in its own module and is imported only when used, so a
broken benchmark never stops a learner from grading, and the other way round.

Every command needs the project's environment: the ``.venv`` that ``make
setup`` creates, whose ``wire_up_stages.pth`` puts stages 01-04 on the path
and which holds pytest and the other test tools. Started by another Python
(a bare ``python`` outside an activated ``.venv``), the commands would fail
half-way with confusing errors, so :func:`main` stops first, with exit
status 2 and the exact command to run instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shlex
import sys
from pathlib import Path

COMMANDS: dict[str, tuple[str, str]] = {
    "trace": ("workbook.tracer.cli", "trace one request through a stage's layers"),
    "exercise": ("workbook.grader.cli", "write a stage's starter into workspace/"),
    "grade": ("workbook.grader.cli", "grade a copy of a stage (yours, or a submission)"),
    "exercises": ("workbook.grader.exercises", "move exercise prompts into exercises.toml; check"),
    "notebooks": ("workbook.notebooks", "re-execute the notebooks in place"),
    "bench": ("workbook.bench.cli", "benchmark the stages beside their peers"),
    "watch": ("workbook.watch", "re-grade your copy of a stage on every save"),
    "progress": ("workbook.progress", "the course map with each exercise's state"),
}

#: What the project's environment provides: stages 01-04 (the venv's .pth),
#: the test runner the grader drives, and the clients the suites use.
ENVIRONMENT_MODULES = ("rawwsgi", "wsgirouter", "onion", "rawasgi", "pytest", "httpx")
REPO = Path(__file__).resolve().parent.parent


def missing_modules() -> list[str]:
    """Return the modules of the project's environment this Python cannot import."""
    return [name for name in ENVIRONMENT_MODULES if importlib.util.find_spec(name) is None]


def environment_problem(args: list[str], missing: list[str]) -> str:
    """Explain that this is the wrong Python, with the exact command to run instead."""
    python = REPO / ".venv" / "bin" / "python"
    try:
        shown = (
            os.path.relpath(python) if Path.cwd().resolve().is_relative_to(REPO) else str(python)
        )
    except ValueError:
        shown = str(python)
    command = shlex.join([shown, "-m", "workbook", *args])
    lines = [
        f"error: {sys.executable} is not the workbook's Python: it cannot import "
        f"{', '.join(missing)}.",
        "Run the command with the project's environment:",
        "",
        f"    {command}",
        "",
    ]
    if not python.exists():
        lines[3:3] = [
            "",
            f"    make setup          # first: create {os.path.relpath(REPO / '.venv')}",
        ]
    lines.append("or use its make target (`make help` lists them).")
    return "\n".join(lines)


def usage() -> str:
    lines = ["usage: python -m workbook COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<10} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(usage())
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    missing = missing_modules()
    if missing:
        print(environment_problem(args, missing), file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(command, rest) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""``python -m workbook COMMAND ...``: the course's command line.

Each command lives in its own module and is imported only when used, so a
broken benchmark never stops a learner from grading, and the other way round.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "trace": ("workbook.tracer.cli", "trace one request through a stage's layers"),
    "exercise": ("workbook.grader.cli", "write a stage's starter into workspace/"),
    "grade": ("workbook.grader.cli", "grade a copy of a stage (yours, or a submission)"),
    "exercises": ("workbook.grader.exercises", "move exercise prompts into exercises.toml; check"),
    "notebooks": ("workbook.notebooks", "re-execute the notebooks in place"),
    "bench": ("workbook.bench.cli", "benchmark the stages beside their peers"),
}


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
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(command, rest) or 0)


if __name__ == "__main__":
    sys.exit(main())

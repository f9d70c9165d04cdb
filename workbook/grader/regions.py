"""Find the exercise regions marked in a stage's reference code.

A region is the part of one function body a learner writes::

    def normalize_name(raw: str) -> str:
        \"\"\"Return the name stripped, each word capitalized.\"\"\"
        # EXERCISE 90.1: Normalize a name
        # Strip the spaces around the name and capitalize each word.
        # Hint: str.split() without arguments drops empty parts.
        words = raw.split()
        return " ".join(word.capitalize() for word in words)
        # END EXERCISE

In the reference code, the header is followed by code: what the learner
is told lives in the stage's ``exercises.toml`` (``exercises.py``), and the
cutter writes it into the starter as comments under the header. Those
comment lines right after the header are the task text; a comment line
starting ``Hint:`` opens a hint (the comment lines after it continue it).
Everything from the end of that comment block to ``# END EXERCISE`` is the
code the cutter takes out. Prompts still written in the code (the older
format) are read the same way, and moved to the file by
``python -m workbook exercises extract``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HEADER = re.compile(
    r"^(?P<indent>[ \t]*)# EXERCISE (?P<id>(?P<stage>\d+)\.(?P<index>\d+)):"
    r"[ \t]*(?P<title>\S.*?)[ \t]*$"
)
END = re.compile(r"^(?P<indent>[ \t]*)# END EXERCISE[ \t]*$")
LOOSE_MARKER = re.compile(r"^[ \t]*#[ \t]*(END[ \t]+)?EXERCISE\b")
COMMENT = re.compile(r"^[ \t]*#[ \t]?(?P<text>.*?)[ \t]*$")
HINT = re.compile(r"^Hint:[ \t]*(?P<text>.*)$", re.IGNORECASE)
SKIPPED_FOLDERS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".ruff_cache"}


class RegionError(ValueError):
    """A stage's exercise markers break the format the cutter relies on."""


@dataclass(frozen=True)
class Region:
    """One exercise: where it sits in the stage and what the learner is told."""

    id: str  # "2.1"
    stage: int  # 2
    index: int  # 1
    title: str
    path: str  # file inside the stage folder, POSIX style: "wsgirouter/routing.py"
    start: int  # line of "# EXERCISE N.k: ..." (1-based)
    comment_end: int  # last line of the task-text comment block (== start if none)
    end: int  # line of "# END EXERCISE"
    indent: str
    task: tuple[str, ...]
    hints: tuple[str, ...]

    @property
    def hint(self) -> str:
        """Return every hint as one paragraph (empty if the region has none)."""
        return " ".join(self.hints)

    @property
    def stub(self) -> str:
        """Return the statement that replaces the region's code in a starter."""
        message = f"exercise {self.id}: {self.title} — see README"
        return f"{self.indent}raise NotImplementedError({quote(message)})\n"

    def location(self) -> str:
        """Return ``path:line`` of the region's header."""
        return f"{self.path}:{self.start}"


def quote(text: str) -> str:
    """Return ``text`` as a double-quoted Python string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def folder_number(folder: Path) -> int | None:
    """Return the stage number a folder name starts with (``02_router`` -> 2), if any."""
    match = re.match(r"^(\d+)_", folder.name)
    return int(match.group(1)) if match else None


def python_files(folder: Path) -> list[Path]:
    """Return the stage's Python files in a stable order, skipping caches."""
    return sorted(
        path
        for path in folder.rglob("*.py")
        if not SKIPPED_FOLDERS.intersection(path.relative_to(folder).parts)
    )


def parse_source(text: str, path: str) -> tuple[list[Region], list[str]]:
    """Return the regions marked in one file's text, and the problems found."""
    lines = text.splitlines()
    regions: list[Region] = []
    problems: list[str] = []
    open_header: re.Match[str] | None = None
    open_line = 0
    for number, line in enumerate(lines, start=1):
        header, end = HEADER.match(line), END.match(line)
        if header:
            if open_header:
                problems.append(
                    f"{path}:{number}: exercise {header['id']} starts inside "
                    f"exercise {open_header['id']} (line {open_line}): regions cannot nest"
                )
            open_header, open_line = header, number
        elif end:
            if not open_header:
                problems.append(
                    f"{path}:{number}: '# END EXERCISE' without an opening '# EXERCISE N.k: Title'"
                )
                continue
            if end["indent"] != open_header["indent"]:
                problems.append(
                    f"{path}:{number}: '# END EXERCISE' is not indented like its "
                    f"header (line {open_line}); both sit at the function body's indentation"
                )
            if not open_header["indent"]:
                problems.append(
                    f"{path}:{open_line}: exercise {open_header['id']} is at module level; "
                    f"a region belongs inside one function body"
                )
            regions.append(build_region(open_header, lines, path, open_line, number))
            open_header = None
        elif LOOSE_MARKER.match(line):
            problems.append(
                f"{path}:{number}: malformed exercise marker {line.strip()!r}; "
                f"write '# EXERCISE N.k: Title' and '# END EXERCISE'"
            )
    if open_header:
        problems.append(f"{path}:{open_line}: exercise {open_header['id']} has no '# END EXERCISE'")
    return regions, problems


def build_region(
    header: re.Match[str], lines: list[str], path: str, start: int, end: int
) -> Region:
    """Read the task text and hints from the comment block under a header."""
    task: list[str] = []
    hints: list[str] = []
    comment_end = start
    for number in range(start + 1, end):
        comment = COMMENT.match(lines[number - 1])
        if not comment:
            break
        comment_end = number
        text = comment["text"].strip()
        hint = HINT.match(text)
        if hint:
            hints.append(hint["text"])
        elif hints:
            hints[-1] = f"{hints[-1]} {text}".strip()
        elif text:
            task.append(comment["text"].rstrip())  # a task line keeps its indentation (lists)
    return Region(
        id=header["id"],
        stage=int(header["stage"]),
        index=int(header["index"]),
        title=header["title"],
        path=path,
        start=start,
        comment_end=comment_end,
        end=end,
        indent=header["indent"],
        task=tuple(task),
        hints=tuple(hints),
    )


def scan(folder: Path, *, with_prompts: bool = True) -> tuple[list[Region], list[str]]:
    """Return every region of a stage folder in exercise order, and every problem found.

    Problems are format errors (unterminated, nested, module-level regions),
    duplicate ids, ids of another stage, and gaps in the numbering. With
    ``with_prompts``, a region whose code carries no task text gets its task
    and hints from the folder's ``exercises.toml`` (see ``exercises.py``).
    """
    regions: list[Region] = []
    problems: list[str] = []
    for file in python_files(folder):
        text = file.read_text(encoding="utf-8")
        if "EXERCISE" not in text:
            continue
        found, wrong = parse_source(text, file.relative_to(folder).as_posix())
        regions += found
        problems += wrong
    regions.sort(key=lambda region: (region.stage, region.index))
    problems += check_numbering(regions, folder_number(folder))
    if with_prompts:
        from workbook.grader.exercises import merge

        regions = merge(regions, folder)
    return regions, problems


def check_numbering(regions: list[Region], stage: int | None) -> list[str]:
    """Return problems with the ids: duplicates, another stage's number, gaps."""
    problems: list[str] = []
    seen: dict[str, Region] = {}
    for region in regions:
        if region.id in seen:
            problems.append(
                f"{region.location()}: exercise {region.id} is also marked at "
                f"{seen[region.id].location()}; ids must be unique"
            )
        seen[region.id] = region
        if stage is not None and region.stage != stage:
            problems.append(
                f"{region.location()}: exercise {region.id} is numbered for stage "
                f"{region.stage}, but this is stage {stage}"
            )
    indexes = sorted({region.index for region in regions})
    if indexes and indexes != list(range(1, len(indexes) + 1)):
        problems.append(f"exercise numbers should run 1, 2, 3, ... without gaps; found {indexes}")
    return problems


def find_regions(folder: Path, *, with_prompts: bool = True) -> list[Region]:
    """Return every region of a stage folder in exercise order, or raise RegionError."""
    regions, problems = scan(folder, with_prompts=with_prompts)
    if problems:
        raise RegionError(
            "the exercise markers of " + folder.name + " are broken:\n  " + "\n  ".join(problems)
        )
    return regions

"""Exercise prompts live in ``stages/NN_name/exercises.toml``, not in the reference code.

The reference code marks only where an exercise is::

    # EXERCISE 2.1: Decode the path
    ...the code the learner writes...
    # END EXERCISE

and ``exercises.toml`` beside the stage's README says what to write, one
table per exercise::

    [[exercise]]
    id = "2.1"
    title = "Decode the path"
    file = "wsgirouter/request.py"
    where = "`Request.path` in `request.py`"      # the README table's columns
    summary = "..."
    graded_by = "..."
    task = \"\"\"...the task text, as the starter shows it...\"\"\"
    hint = "..."

The cutter writes task and hint into the starter as comments under each
header (``regions.scan`` fills them in from this file); the stage README's
exercise table is generated from it, between two markers; the meta-test
``tests/grader/test_stages.py`` checks that code, file and table agree.

``python -m workbook exercises extract [STAGE ...]`` moves prompts written
in the code (the older in-code format, which other branches may still add)
into the file, takes them out of the code and regenerates the README
tables. It is safe to run again: with nothing in the code, it only
refreshes the tables. ``python -m workbook exercises check`` reports any
disagreement and exits 1.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from workbook.stages import STAGES, STAGES_ROOT, stage_name

PROMPTS = "exercises.toml"
TABLE_START = (
    "<!-- exercise table: generated from exercises.toml by "
    "`python -m workbook exercises extract`; edit the .toml, not this table -->"
)
TABLE_END = "<!-- end of the exercise table -->"
FILE_HEADER = """\
# The exercises of this stage: what the learner is told, one table each.
# The code marks where each one is (# EXERCISE N.k: Title ... # END EXERCISE);
# the cutter puts task and hint into the starter, and the README's exercise
# table is generated from this file: python -m workbook exercises extract
"""
FIELDS = ("id", "title", "file", "where", "summary", "graded_by", "task", "hint")


@dataclass
class Prompt:
    """One exercise's entry in ``exercises.toml``."""

    id: str
    title: str
    file: str
    where: str = ""
    summary: str = ""
    graded_by: str = ""
    task: str = ""
    hint: str = ""

    @property
    def task_lines(self) -> tuple[str, ...]:
        return tuple(line.rstrip() for line in self.task.strip("\n").splitlines())

    @property
    def hints(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.hint.split("\n\n") if part.strip())


def prompts_path(folder: Path) -> Path:
    return folder / PROMPTS


def load(folder: Path) -> dict[str, Prompt]:
    """Return a stage folder's prompts by exercise id (empty when it has no file)."""
    path = prompts_path(folder)
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    prompts = {}
    for entry in data.get("exercise", []):
        known = {key: str(value) for key, value in entry.items() if key in FIELDS}
        prompts[known["id"]] = Prompt(**known)
    return prompts


def dump(prompts: dict[str, Prompt]) -> str:
    """Return the file's text: the header comment, then one table per exercise in id order."""
    ordered = sorted(
        prompts.values(), key=lambda prompt: tuple(int(part) for part in prompt.id.split("."))
    )
    body = tomli_w.dumps(
        {
            "exercise": [
                {name: getattr(prompt, name) for name in FIELDS if getattr(prompt, name)}
                for prompt in ordered
            ]
        },
        multiline_strings=True,
    )
    return FILE_HEADER + "\n" + body


# ── the README table ─────────────────────────────────────────────────────────


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table(prompts: dict[str, Prompt], stage: int) -> str:
    """Return the README's exercise table, with its markers."""
    ordered = sorted(prompts.values(), key=lambda prompt: int(prompt.id.split(".")[1]))
    lines = [
        TABLE_START,
        "| id | title | where | what to write "
        f'| graded by (tests tagged `exercise("{stage}.k")`) |',
        "|---|---|---|---|---|",
    ]
    for prompt in ordered:
        where = prompt.where or f"`{prompt.file}`"
        graded = prompt.graded_by or f'the tests tagged `exercise("{prompt.id}")`'
        summary = prompt.summary or first_sentence(prompt.task)
        lines.append(
            f"| {prompt.id} | {cell(prompt.title)} | {cell(where)} "
            f"| {cell(summary)} | {cell(graded)} |"
        )
    lines.append(TABLE_END)
    return "\n".join(lines)


def old_table_rows(readme: str) -> dict[str, list[str]]:
    """Return the cells of a hand-written exercise table's rows, by id (to seed the file)."""
    rows = {}
    for line in readme.splitlines():
        if not line.startswith("| ") or line.startswith("| id "):
            continue
        cells = [part.strip() for part in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 5 and re.fullmatch(r"\d+\.\d+", cells[0]):
            rows[cells[0]] = cells
    return rows


SECTION = re.compile(r"^#+ (?P<id>\d+\.\d+) (?P<title>.+?)(?: \((?P<where>`[^)]*`)\))?\s*$")


def old_sections(readme: str, files: dict[str, str]) -> dict[str, list[str]]:
    """Return table cells seeded from per-exercise README sections (``### 5.1 Title (`where`)``).

    The summary is the section's first sentence, "graded by" its ``*Graded by:*`` paragraph.
    """
    rows: dict[str, list[str]] = {}
    blocks = re.split(r"(?m)^(?=#+ \d+\.\d+ )", readme)
    for block in blocks:
        lines = block.splitlines()
        match = SECTION.match(lines[0]) if lines else None
        if not match:
            continue
        following = next(
            (index for index, line in enumerate(lines[1:], start=1) if line.startswith("#")),
            len(lines),
        )
        lines = lines[:following]  # up to the next heading, of any level
        paragraphs = [
            " ".join(part.split()) for part in "\n".join(lines[1:]).split("\n\n") if part.strip()
        ]
        prose = next(
            (part for part in paragraphs if not part.startswith(("*", "#", "|", "```"))), ""
        )
        graded = next((part for part in " ".join(paragraphs).split("*Graded by:*")[1:]), "")
        graded = graded.split("*Hint:*")[0].strip()
        name = Path(files.get(match["id"], "")).name
        where = (
            f"{match['where']} in `{name}`" if match["where"] and name else (match["where"] or "")
        )
        rows[match["id"]] = [match["id"], match["title"], where, first_sentence(prose), graded]
    return rows


def first_sentence(text: str) -> str:
    """Return the first sentence of a text (up to the first ". "), whole if it has none."""
    text = " ".join(text.split())
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def with_table(readme: str, generated: str) -> str:
    """Return the README with its exercise table replaced by (or given) the generated one."""
    if TABLE_START in readme and TABLE_END in readme:
        before, _, rest = readme.partition(TABLE_START)
        _, _, after = rest.partition(TABLE_END)
        return before + generated + after
    lines = readme.splitlines(keepends=True)
    section = next(
        (
            index
            for index, line in enumerate(lines)
            if re.match(r"^#+ .*Exercises", line, re.IGNORECASE)
        ),
        None,
    )
    if section is None:
        return readme.rstrip("\n") + "\n\n## Exercises\n\n" + generated + "\n"
    table_lines = [
        index for index in range(section + 1, len(lines)) if lines[index].startswith("|")
    ]
    if table_lines:  # the hand-written table: replace its contiguous rows
        first = table_lines[0]
        last = first
        while last + 1 < len(lines) and lines[last + 1].startswith("|"):
            last += 1
        return "".join(lines[:first]) + generated + "\n" + "".join(lines[last + 1 :])
    # No table yet: put it after the section's first paragraph.
    index = section + 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    while index < len(lines) and lines[index].strip():
        index += 1
    return "".join(lines[:index]) + "\n" + generated + "\n" + "".join(lines[index:])


# ── extract and check ────────────────────────────────────────────────────────


def extract(folder: Path) -> list[str]:
    """Move in-code prompts of one stage folder into its exercises.toml; return what changed."""
    from workbook.grader.regions import find_regions

    regions = find_regions(folder, with_prompts=False)
    if not regions:
        return []
    prompts = load(folder)
    readme_path = folder / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.exists() else ""
    changes: list[str] = []
    # Seed the README columns from what was written by hand. A row of the generated
    # table that someone edited (or a merge brought) is taken into the file too.
    handwritten, edited = readme, {}
    if TABLE_START in readme and TABLE_END in readme:
        before, _, rest = readme.partition(TABLE_START)
        block, _, after = rest.partition(TABLE_END)
        handwritten = before + after
        number = int(folder.name.split("_", 1)[0])
        generated = old_table_rows(table(prompts, number))
        edited = {
            id_: cells
            for id_, cells in old_table_rows(block).items()
            if id_ in prompts and cells != generated.get(id_)
        }
    seeds = old_sections(handwritten, {region.id: region.path for region in regions})
    seeds.update(old_table_rows(handwritten))
    for id_, cells in edited.items():
        prompt = prompts[id_]
        prompt.where, prompt.summary, prompt.graded_by = cells[2], cells[3], cells[4]
        changes.append(f"README.md: took the edited table row of {id_} into {PROMPTS}")
    stripped: dict[str, list[tuple[int, int]]] = {}
    for region in regions:
        prompt = prompts.get(region.id) or Prompt(region.id, region.title, region.path)
        prompt.title, prompt.file = region.title, region.path
        if region.task or region.hints:
            prompt.task = "\n".join(region.task) + "\n"
            prompt.hint = "\n\n".join(region.hints)
            stripped.setdefault(region.path, []).append((region.start + 1, region.comment_end))
            changes.append(
                f"{region.path}:{region.start}: moved the prompt of {region.id} to {PROMPTS}"
            )
        seed = seeds.get(region.id)
        if seed:
            prompt.where = prompt.where or seed[2]
            prompt.summary = prompt.summary or seed[3]
            prompt.graded_by = prompt.graded_by or seed[4]
        prompts[region.id] = prompt
    marked = {region.id for region in regions}
    for gone in sorted(set(prompts) - marked):
        changes.append(f"{PROMPTS}: dropped {gone}, which the code no longer marks")
        del prompts[gone]
    for path, spans in stripped.items():
        file = folder / path
        lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
        for first, last in sorted(spans, reverse=True):
            del lines[first - 1 : last]
        file.write_text("".join(lines), encoding="utf-8")
    text = dump(prompts)
    if (
        not prompts_path(folder).exists()
        or prompts_path(folder).read_text(encoding="utf-8") != text
    ):
        prompts_path(folder).write_text(text, encoding="utf-8")
        changes.append(f"wrote {PROMPTS}")
    if readme:
        number = int(folder.name.split("_", 1)[0])
        updated = with_table(readme, table(prompts, number))
        if updated != readme:
            readme_path.write_text(updated, encoding="utf-8")
            changes.append("regenerated the README's exercise table")
    return changes


def check(folder: Path) -> list[str]:
    """Return every way code, exercises.toml and the README table disagree (empty: they agree)."""
    from workbook.grader.regions import scan

    regions, problems = scan(folder, with_prompts=False)
    if not regions:
        return problems
    prompts = load(folder)
    for region in regions:
        if region.task or region.hints:
            problems.append(
                f"{region.location()}: exercise {region.id}'s prompt is written in the "
                f"code; move it: python -m workbook exercises extract"
            )
        prompt = prompts.get(region.id)
        if prompt is None:
            problems.append(
                f"{PROMPTS} has no entry for exercise {region.id} ({region.location()})"
            )
            continue
        if (prompt.title, prompt.file) != (region.title, region.path):
            problems.append(
                f"{PROMPTS}: exercise {region.id} is {prompt.title!r} in {prompt.file}, "
                f"the code says {region.title!r} in {region.path}"
            )
        if not prompt.task.strip():
            problems.append(f"{PROMPTS}: exercise {region.id} has no task text")
    for extra in sorted(set(prompts) - {region.id for region in regions}):
        problems.append(f"{PROMPTS}: exercise {extra} is not marked in the code")
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    number = int(folder.name.split("_", 1)[0])
    if table(prompts, number) not in text:
        problems.append(
            f"{readme.name}: the exercise table is not the one {PROMPTS} gives; "
            f"regenerate it: python -m workbook exercises extract"
        )
    return problems


def main(command: str, args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook exercises",
        description="Keep exercise prompts in stages/NN_name/exercises.toml.",
    )
    parser.add_argument("action", choices=("extract", "check"))
    parser.add_argument("stages", nargs="*", help="stage numbers or folder names (default: all)")
    options = parser.parse_args(args)
    names = [stage_name(stage) for stage in options.stages] or list(STAGES.values())
    failed = False
    for name in names:
        folder = STAGES_ROOT / name
        if options.action == "extract":
            for change in extract(folder):
                print(f"{name}: {change}")
        else:
            for problem in check(folder):
                failed = True
                print(f"{name}: {problem}")
    if options.action == "check" and not failed:
        print("code, exercises.toml and README tables agree")
    return 1 if failed else 0


def merge(regions: list[Any], folder: Path) -> list[Any]:
    """Return the regions with task and hints filled in from the folder's exercises.toml."""
    from dataclasses import replace

    prompts = load(folder)
    merged = []
    for region in regions:
        prompt = prompts.get(region.id)
        if prompt is not None and not region.task and not region.hints:
            region = replace(region, task=prompt.task_lines, hints=prompt.hints)
        merged.append(region)
    return merged

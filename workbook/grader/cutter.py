"""Cut the exercises out of a stage: the learner's starter, or a copy with one stub.

The cutter keeps each region's header, task text, hints and
``# END EXERCISE`` line, and replaces the code between them with one
statement at the region's indentation::

    raise NotImplementedError("exercise 2.1: Compile a route — see README")

so the module still imports and the app still starts; only calling the
unfinished function fails, with a message that names the exercise.
"""

from __future__ import annotations

import ast
import shutil
import textwrap
from collections.abc import Collection, Iterable
from pathlib import Path

from workbook.grader.regions import Region

# Files a stage folder may hold that are not part of the stage: caches, local databases.
IGNORED = shutil.ignore_patterns(
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
    "*.egg-info",
    "*.sqlite3",
    "*.sqlite3-*",
    "*.db",
    "*.db-*",
)


def prompt_comments(region: Region, width: int = 100) -> list[str]:
    """Return the region's task and hints as comment lines at its indentation.

    The parser in ``regions.py`` reads them back: task lines first, each
    hint opened by ``Hint:`` and continued on the lines after it.
    """
    prefix = f"{region.indent}# "
    lines = [f"{prefix}{line}".rstrip() + "\n" for line in region.task]
    for hint in region.hints:
        wrapped = textwrap.wrap(f"Hint: {hint}", width=max(40, width - len(prefix)))
        lines += [f"{prefix}{line}\n" for line in wrapped]
    return lines


def stub_source(text: str, regions: Iterable[Region]) -> str:
    """Return a file's text with the code of each given region replaced by its stub.

    The header stays, followed by the prompt: the comments the code already
    carries under it, else the task and hints from ``exercises.toml``.
    """
    lines = text.splitlines(keepends=True)
    for region in sorted(regions, key=lambda region: region.start, reverse=True):
        kept = lines[region.start - 1 : region.comment_end]
        if region.comment_end == region.start:
            kept += prompt_comments(region)
        closing = lines[region.end - 1]
        lines[region.start - 1 : region.end] = [*kept, region.stub, closing]
    return "".join(lines)


def copy_stage(source: Path, target: Path) -> None:
    """Copy a stage folder without its caches or local databases."""
    shutil.copytree(source, target, ignore=IGNORED)


def write_copy(
    reference: Path, target: Path, regions: Iterable[Region], stubbed: Collection[str] | None = None
) -> list[Region]:
    """Copy a stage to ``target`` with the code of some regions cut out.

    ``stubbed`` names the exercise ids to cut (all of them when None). Return
    the regions that were cut. ``target`` must not exist yet.
    """
    chosen = [region for region in regions if stubbed is None or region.id in stubbed]
    copy_stage(reference, target)
    by_file: dict[str, list[Region]] = {}
    for region in chosen:
        by_file.setdefault(region.path, []).append(region)
    for path, file_regions in by_file.items():
        file = target / path
        file.write_text(
            stub_source(file.read_text(encoding="utf-8"), file_regions), encoding="utf-8"
        )
    return chosen


def stub_problems(text: str, regions: Iterable[Region]) -> list[str]:
    """Return why a file with these regions stubbed would break, if it would.

    The stubbed file must compile, and every stub must sit inside a function
    body (a stub at module or class level would run at import time).
    """
    regions = list(regions)
    if not regions:
        return []
    path = regions[0].path
    stubbed = stub_source(text, regions)
    try:
        tree = ast.parse(stubbed, filename=path)
    except SyntaxError as error:
        return [
            f"{path}:{error.lineno}: with the exercises cut out "
            f"the file does not compile: {error.msg}"
        ]
    functions = {
        id(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    stub_owner: dict[str, bool] = {}
    visit_stubs(tree, inside_function=False, functions=functions, found=stub_owner)
    problems = []
    for region in regions:
        if region.id not in stub_owner:
            problems.append(
                f"{region.location()}: the stub of exercise {region.id} was not found after cutting"
            )
        elif not stub_owner[region.id]:
            problems.append(
                f"{region.location()}: exercise {region.id} is not inside a function body"
            )
    return problems


def visit_stubs(
    node: ast.AST, *, inside_function: bool, functions: set[int], found: dict[str, bool]
) -> None:
    """Record, for each stub ``raise`` in the tree, whether a function encloses it."""
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
        call = node.exc
        if (
            isinstance(call.func, ast.Name)
            and call.func.id == "NotImplementedError"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
            and call.args[0].value.startswith("exercise ")
        ):
            exercise = call.args[0].value.split()[1].rstrip(":")
            found[exercise] = inside_function
    for child in ast.iter_child_nodes(node):
        visit_stubs(
            child,
            inside_function=inside_function or id(node) in functions,
            functions=functions,
            found=found,
        )


def cut_problems(folder: Path, regions: Iterable[Region]) -> list[str]:
    """Return every reason the stage's regions cannot be cut cleanly (empty if none)."""
    by_file: dict[str, list[Region]] = {}
    for region in regions:
        by_file.setdefault(region.path, []).append(region)
    problems: list[str] = []
    for path, file_regions in sorted(by_file.items()):
        problems += stub_problems((folder / path).read_text(encoding="utf-8"), file_regions)
    return problems

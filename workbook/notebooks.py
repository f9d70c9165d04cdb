"""``python -m workbook notebooks``: execute the notebooks, top to bottom, in a fresh kernel.

    python -m workbook notebooks                  # re-execute all, write the outputs back
    python -m workbook notebooks 06_roob          # one (or a few) by name
    python -m workbook notebooks --check          # execute, report errors, write nothing

``make notebooks`` runs the first form, so the outputs committed with the
notebooks (what a reader on a code host sees) are real traces. Each
notebook runs in its own kernel, with ``notebooks/`` as its working
folder, using this interpreter's ``python3`` kernel (the venv's
ipykernel). Outputs are scrubbed of the machine's paths before writing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from workbook.stages import REPO

NOTEBOOKS = REPO / "notebooks"
KERNEL = "python3"
#: Seconds one cell may take before the run fails (a whole notebook takes a few).
CELL_TIMEOUT = 60


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    """Return the notebooks to run: all of them, or those whose names start with ``names``."""
    every = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        found = [path for path in every if path.stem.startswith(name.removesuffix(".ipynb"))]
        if not found:
            known = ", ".join(path.stem for path in every)
            raise ValueError(f"no notebook {name!r}; there are: {known}")
        chosen += [path for path in found if path not in chosen]
    return chosen


def scrub_text(text: str) -> str:
    """Replace this machine's paths in an output with ones relative to the repo."""
    text = text.replace(str(REPO) + os.sep, "").replace(str(REPO), ".")
    text = re.sub(r"/tmp/ipykernel_\d+/\d+\.py", "<notebook cell>", text)
    return re.sub(r"/tmp/[\w.-]*roob-trace-\w+", "<temporary folder>", text)


def scrub(notebook: Any) -> None:
    """Clean every output of machine paths, in place."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = scrub_text(output["text"])
            for kind, value in output.get("data", {}).items():
                if isinstance(value, str) and (kind.startswith("text/") or kind == "image/svg+xml"):
                    output["data"][kind] = scrub_text(value)
            if "traceback" in output:
                output["traceback"] = [scrub_text(line) for line in output["traceback"]]


def execute(path: Path, *, timeout: int = CELL_TIMEOUT) -> Any:
    """Run a notebook top to bottom in a fresh kernel; return it with its outputs.

    Raises ``nbclient.exceptions.CellExecutionError`` at the first cell
    that fails, naming the cell and the error.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=KERNEL,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel's own start-up chatter (it listens on loopback TCP) is not news.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    client.execute()
    scrub(notebook)
    return notebook


def write(notebook: Any, path: Path) -> None:
    """Write a notebook back in the standard format (one-space JSON indent)."""
    import nbformat

    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")


def main(command: str, args: list[str]) -> int:
    """Run ``python -m workbook notebooks ARGS``; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m workbook notebooks",
        description="Execute the notebooks in a fresh kernel each.",
    )
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all), e.g. 06_roob")
    parser.add_argument("--check", action="store_true", help="execute only; write nothing back")
    options = parser.parse_args(args)
    # ipykernel's debugger warns about frozen modules on stderr; nothing is debugged here.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    try:
        paths = notebook_paths(options.names)
    except ValueError as error:
        print(f"notebooks: {error}", file=sys.stderr)
        return 2
    from nbclient.exceptions import CellExecutionError

    failed = 0
    for path in paths:
        started = time.monotonic()
        try:
            notebook = execute(path)
        except CellExecutionError as error:
            failed += 1
            print(f"FAIL  {path.name}\n{scrub_text(str(error))}", file=sys.stderr)
            continue
        if not options.check:
            write(notebook, path)
        verb = "ran" if options.check else "wrote"
        print(f"{verb:5} {path.relative_to(REPO)}  ({time.monotonic() - started:.1f} s)")
    return 1 if failed else 0

"""The one small app every framework writes: what it answers, and its 50 routes.

Every benchmark app serves the same three endpoints, registered in the same
order among the same 50 routes, so that a difference in throughput is a
difference in the framework and nothing else:

- ``GET /hello``     -> ``Hello, World!`` as ``text/plain``   (registered 1st)
- ``GET /json``      -> ``{"message": "Hello, World!"}``      (registered 2nd)
- 47 filler routes, half static, half with a path parameter   (3rd to 49th)
- ``GET /items/{id:int}`` -> ``{"id": <the int>}``             (registered last)

The path-parameter route comes last on purpose: a router that tries every
pattern in turn pays for the 49 routes in front of it on every request, and
the benchmark shows what that costs.
"""

from __future__ import annotations

HELLO_TEXT = "Hello, World!"
HELLO_BYTES = HELLO_TEXT.encode()
MESSAGE = {"message": HELLO_TEXT}
FILLER_TEXT = "filler"
ROUTE_COUNT = 50
FILLER_COUNT = ROUTE_COUNT - 3


def filler_paths(placeholder: str) -> list[str]:
    """Return the 47 filler paths, with ``placeholder`` in the dynamic ones.

    >>> filler_paths("{id:int}")[:3]
    ['/api/resource0', '/api/resource1/{id:int}', '/api/resource2']
    """
    return [
        f"/api/resource{index}/{placeholder}" if index % 2 else f"/api/resource{index}"
        for index in range(FILLER_COUNT)
    ]


def item(identifier: int) -> dict[str, int]:
    """Return the body of ``/items/{id}``: the id, to prove it arrived as an int."""
    return {"id": identifier}


# ── The static-file scenario ──────────────────────────────────────────────────

#: The served file: 1 MiB of text (so the harness can check the body it gets back).
ONE_MIB_TEXT = "0123456789abcdef" * 65536
STATIC_NAME = "one-mib.txt"


def static_folder() -> str:
    """Return a folder holding ``one-mib.txt`` (1 MiB), created the first time.

    Both static-file apps serve this folder, so they send the very same bytes.
    """
    import os
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), f"wire-up-bench-static-{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, STATIC_NAME)
    if not os.path.exists(path) or os.path.getsize(path) != len(ONE_MIB_TEXT):
        partial = f"{path}.{os.getpid()}"
        with open(partial, "w", encoding="ascii") as out:
            out.write(ONE_MIB_TEXT)
        os.replace(partial, path)  # atomic: a server starting alongside never sees half a file
    return folder

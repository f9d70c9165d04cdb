"""The benchmark app on stage 02's router (``wsgirouter``).

A segment trie; handlers return Responses.
"""

from __future__ import annotations

from wsgirouter import Request, Response, Router

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item


def build() -> Router:
    """Return the router with the benchmark's 50 routes (stage 03 wraps this one)."""
    router = Router()

    @router.get("/hello")
    def hello(request: Request) -> Response:
        return Response.text(HELLO_TEXT)

    @router.get("/json")
    def message(request: Request) -> Response:
        return Response.json(MESSAGE)

    def filler(request: Request, **params: int) -> Response:
        return Response.text(FILLER_TEXT)

    for index, path in enumerate(filler_paths("{id:int}")):
        router.add(path, filler, name=f"filler{index}")

    @router.get("/items/{id:int}")
    def get_item(request: Request, id: int) -> Response:
        return Response.json(item(id))

    return router


app = build()

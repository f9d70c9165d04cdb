"""The benchmark app on ``bare`` (stage 05): decorators, a segment trie, dicts sent as JSON."""

from __future__ import annotations

from typing import Any

from bare import Bare, Request, Response

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item

app = Bare()


@app.get("/hello")
async def hello(request: Request) -> Response:
    return Response(HELLO_TEXT)


@app.get("/json")
async def message(request: Request) -> dict[str, Any]:
    return MESSAGE


async def filler(request: Request) -> Response:
    return Response(FILLER_TEXT)


for path in filler_paths("{id:int}"):
    app.get(path)(filler)


@app.get("/items/{id:int}")
async def get_item(request: Request) -> dict[str, Any]:
    return item(request.path_params["id"])

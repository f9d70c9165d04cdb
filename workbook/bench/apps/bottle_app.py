"""The benchmark app on Bottle (one file; ``<id:int>`` wildcards, routes grouped in regexes)."""

from __future__ import annotations

import bottle

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item

app = bottle.Bottle()


@app.get("/hello")
def hello() -> str:
    bottle.response.content_type = "text/plain; charset=utf-8"
    return HELLO_TEXT


@app.get("/json")
def message() -> dict[str, str]:
    return MESSAGE


def filler(id: int = 0) -> str:
    return FILLER_TEXT


for path in filler_paths("<id:int>"):
    app.route(path, "GET", filler)


@app.get("/items/<id:int>")
def get_item(id: int) -> dict[str, int]:
    return item(id)

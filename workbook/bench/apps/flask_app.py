"""The benchmark app on Flask (Werkzeug's state-machine router, ``<int:id>`` converters)."""

from __future__ import annotations

from flask import Flask, Response

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item

app = Flask(__name__)


@app.get("/hello")
def hello() -> Response:
    return Response(HELLO_TEXT, content_type="text/plain; charset=utf-8")


@app.get("/json")
def message() -> dict[str, str]:
    return MESSAGE


def filler(id: int = 0) -> str:
    return FILLER_TEXT


for index, path in enumerate(filler_paths("<int:id>")):
    app.add_url_rule(path, f"filler{index}", filler, methods=["GET"])


@app.get("/items/<int:id>")
def get_item(id: int) -> dict[str, int]:
    return item(id)

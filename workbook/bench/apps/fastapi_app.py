"""The benchmark app on FastAPI (Starlette's router, plus validation from type hints)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/hello", response_class=PlainTextResponse)
async def hello() -> str:
    return HELLO_TEXT


@app.get("/json")
async def message() -> dict[str, str]:
    return MESSAGE


async def filler(id: int = 0) -> str:
    return FILLER_TEXT


for path in filler_paths("{id}"):
    app.add_api_route(path, filler, methods=["GET"])


@app.get("/items/{id}")
async def get_item(id: int) -> dict[str, int]:
    return item(id)

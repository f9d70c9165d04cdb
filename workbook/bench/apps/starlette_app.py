"""The benchmark app on Starlette (a list of ``Route``; each tried in turn by regex)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(HELLO_TEXT)


async def message(request: Request) -> JSONResponse:
    return JSONResponse(MESSAGE)


async def filler(request: Request) -> PlainTextResponse:
    return PlainTextResponse(FILLER_TEXT)


async def get_item(request: Request) -> JSONResponse:
    return JSONResponse(item(request.path_params["id"]))


routes = [Route("/hello", hello), Route("/json", message)]
routes += [Route(path, filler) for path in filler_paths("{id:int}")]
routes.append(Route("/items/{id:int}", get_item))

app = Starlette(routes=routes)

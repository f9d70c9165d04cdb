"""The benchmark app on stage 04's ASGI router (``rawasgi.routing``): endpoints are ASGI apps."""

from __future__ import annotations

from rawasgi.protocol import Receive, Scope, Send
from rawasgi.responses import send_json, send_text
from rawasgi.routing import Route, Router

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    await send_text(send, 200, HELLO_TEXT)


async def message(scope: Scope, receive: Receive, send: Send) -> None:
    await send_json(send, 200, MESSAGE)


async def filler(scope: Scope, receive: Receive, send: Send) -> None:
    await send_text(send, 200, FILLER_TEXT)


async def get_item(scope: Scope, receive: Receive, send: Send) -> None:
    await send_json(send, 200, item(scope["path_params"]["id"]))


routes = [Route("/hello", hello), Route("/json", message)]
routes += [Route(path, filler) for path in filler_paths("{id:int}")]
routes.append(Route("/items/{id:int}", get_item))

app = Router(routes)

"""The benchmark app on Falcon (WSGI; routes compiled into generated Python source)."""

from __future__ import annotations

import falcon

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item


class Hello:
    def on_get(self, request: falcon.Request, response: falcon.Response) -> None:
        response.content_type = falcon.MEDIA_TEXT
        response.text = HELLO_TEXT


class Message:
    def on_get(self, request: falcon.Request, response: falcon.Response) -> None:
        response.media = MESSAGE


class Filler:
    def on_get(self, request: falcon.Request, response: falcon.Response, id: int = 0) -> None:
        response.text = FILLER_TEXT


class Item:
    def on_get(self, request: falcon.Request, response: falcon.Response, id: int) -> None:
        response.media = item(id)


app = falcon.App()
app.add_route("/hello", Hello())
app.add_route("/json", Message())
for path in filler_paths("{id:int}"):
    app.add_route(path, Filler())
app.add_route("/items/{id:int}", Item())

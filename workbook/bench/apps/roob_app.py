"""The benchmark app on ``roob`` (stage 06): webob objects, parse patterns, a class-based view.

Served the way the chapter serves its product API: the framework wrapped in
``ErrorHandlerMiddleware``. ``/items/{id:d}`` is a class-based view, like the
chapter's controllers, so its cost includes one view instance per request.
"""

from __future__ import annotations

from roob import ErrorHandlerMiddleware, Roob
from webob import Request, Response

from workbook.bench.apps.common import FILLER_TEXT, HELLO_TEXT, MESSAGE, filler_paths, item

framework = Roob()


@framework.route("/hello")
def hello(request: Request) -> Response:
    return Response(text=HELLO_TEXT, content_type="text/plain", charset="utf-8")


@framework.route("/json")
def message(request: Request) -> Response:
    return Response(json_body=MESSAGE)


def filler(request: Request, **params: int) -> Response:
    return Response(text=FILLER_TEXT, content_type="text/plain", charset="utf-8")


for path in filler_paths("{id:d}"):
    framework.route(path)(filler)


@framework.route("/items/{id:d}")
class ItemController:
    def get(self, request: Request, id: int) -> Response:
        return Response(json_body=item(id))


app = ErrorHandlerMiddleware(framework)

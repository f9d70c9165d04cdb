"""The benchmark app as a bare WSGI callable: the ceiling every WSGI framework is measured against.

No router, no request object: a dict lookup for the two static paths and a
prefix test for ``/items/``. It still does the per-request work any app must
do (serialise the JSON, measure the body), so the frameworks are compared
with an app that does the job, not with a constant.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rawwsgi.protocol import Environ, StartResponse

from workbook.bench.apps.common import HELLO_BYTES, MESSAGE, item

ITEMS_PREFIX = "/items/"


def hello() -> tuple[str, bytes]:
    return "text/plain; charset=utf-8", HELLO_BYTES


def message() -> tuple[str, bytes]:
    return "application/json", json.dumps(MESSAGE).encode()


STATIC = {"/hello": hello, "/json": message}


def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Answer ``/hello``, ``/json`` and ``/items/{id:int}``; anything else is a 404."""
    path = environ.get("PATH_INFO", "")
    answer = STATIC.get(path)
    if answer is not None:
        content_type, body = answer()
    elif path.startswith(ITEMS_PREFIX) and path[len(ITEMS_PREFIX) :].isdigit():
        content_type = "application/json"
        body = json.dumps(item(int(path[len(ITEMS_PREFIX) :]))).encode()
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"Not Found"]
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]

"""The benchmark app as a bare ASGI callable: the ceiling every ASGI framework is measured against.

No router, no request object: a dict lookup for the two static paths and a
prefix test for ``/items/``, then the two response events. It still
serialises the JSON per request, as every framework must.
"""

from __future__ import annotations

import json

from rawasgi.apps import lifespan  # stage 04's: acknowledge start-up and shut-down
from rawasgi.protocol import Receive, Scope, Send

from workbook.bench.apps.common import HELLO_BYTES, MESSAGE, item

ITEMS_PREFIX = "/items/"
TEXT = b"text/plain; charset=utf-8"
JSON = b"application/json"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``/hello``, ``/json`` and ``/items/{id:int}``; anything else is a 404."""
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
        return
    if scope["type"] != "http":
        raise ValueError(f"this app serves HTTP only, not {scope['type']!r}")
    path = scope["path"]
    status = 200
    if path == "/hello":
        content_type, body = TEXT, HELLO_BYTES
    elif path == "/json":
        content_type, body = JSON, json.dumps(MESSAGE).encode()
    elif path.startswith(ITEMS_PREFIX) and path[len(ITEMS_PREFIX) :].isdigit():
        content_type, body = JSON, json.dumps(item(int(path[len(ITEMS_PREFIX) :]))).encode()
    else:
        status, content_type, body = 404, TEXT, b"Not Found"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

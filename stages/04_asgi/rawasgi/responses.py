"""Send a whole response in two ASGI events: the helpers every raw app repeats.

A complete HTTP response in ASGI is always the same pair of events::

    await send({"type": "http.response.start", "status": 200, "headers": [...]})
    await send({"type": "http.response.body", "body": b"...", "more_body": False})

These helpers write that pair for text and JSON, with the ``Content-Length``
the server would otherwise have to work out. They are deliberately thin: a
learner should always be able to see the two events underneath.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rawasgi.protocol import Send

#: A response header as ASGI carries it: lowercased name, value, both bytes.
Header = tuple[bytes, bytes]

# Work that can happen once happens at import, not per response.
TEXT_PLAIN: Header = (b"content-type", b"text/plain; charset=utf-8")
APPLICATION_JSON: Header = (b"content-type", b"application/json")


async def send_response(
    send: Send, status: int, body: bytes, *, headers: Iterable[Header] = ()
) -> None:
    """Send a complete response: start (with Content-Length) then the whole body."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode("ascii"))],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_text(send: Send, status: int, text: str, *, headers: Iterable[Header] = ()) -> None:
    """Send ``text`` as a UTF-8 ``text/plain`` response."""
    await send_response(send, status, text.encode("utf-8"), headers=[TEXT_PLAIN, *headers])


async def send_json(send: Send, status: int, data: Any, *, headers: Iterable[Header] = ()) -> None:
    """Send ``data`` serialized as a JSON response.

    ``NaN`` and infinities are a ValueError: JSON has no such numbers (RFC
    8259, section 6), and a body a strict client cannot parse is worse than
    the handler's 500.
    """
    body = json.dumps(data, allow_nan=False).encode("utf-8")
    await send_response(send, status, body, headers=[APPLICATION_JSON, *headers])

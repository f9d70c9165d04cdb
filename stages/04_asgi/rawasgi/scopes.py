"""Build ASGI scopes from parsed request heads: the server's description of a connection.

Stage 01's parser turns bytes into a ``RequestHead`` (strings, as the
request line and headers were written). An ASGI app wants a *scope*: a dict
whose keys and types the ASGI 3.0 spec fixes. This is the WSGI ``environ``
of the async world, with two differences worth noticing:

- headers stay a list of ``(name, value)`` byte pairs, lowercased, repeats
  kept (no ``HTTP_ACCEPT_ENCODING``-style renaming, no lost duplicates);
- ``path`` is decoded (``%20`` -> space, UTF-8 -> characters) while
  ``raw_path`` and ``query_string`` stay the bytes that were sent.

Nothing here does I/O, so ``build_http_scope`` can be tested with a head
parsed from a byte string.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from rawwsgi.http11 import RequestHead, list_elements

from rawasgi.protocol import Scope

#: The ASGI version this server speaks, and the version of the HTTP/WebSocket sub-spec.
ASGI_VERSION = "3.0"
#: 2.4: ``send()`` on a closed connection raises OSError; 2.5: disconnect carries a reason.
SPEC_VERSION = "2.5"

#: A ``(host, port)`` pair, as ``client`` and ``server`` carry it.
Address = tuple[str, int]


def build_http_scope(
    head: RequestHead,
    *,
    client: Address | None,
    server: Address | None,
    root_path: str = "",
    state: dict[str, Any] | None = None,
    scheme: str = "http",
) -> Scope:
    """Return the ASGI 3.0 ``http`` scope for a parsed request head.

    ``GET /caf%C3%A9?q=1 HTTP/1.1`` with ``Host: x`` becomes ``{"type": "http",
    "http_version": "1.1", "method": "GET", "path": "/café", "raw_path":
    b"/caf%C3%A9", "query_string": b"q=1", "headers": [(b"host", b"x")], ...}``.
    ``state`` is the lifespan's shared dict: each request gets a shallow copy.
    """
    # EXERCISE 4.2: Build the HTTP scope
    return {
        "type": "http",
        "asgi": {"version": ASGI_VERSION, "spec_version": SPEC_VERSION},
        "http_version": head.version.removeprefix("HTTP/"),
        # NOTE: methods are case-sensitive (RFC 9110 §9.1): "get" is not GET, so it is
        # passed on as sent rather than uppercased into a different method.
        "method": head.method,
        "scheme": scheme,
        "path": unquote(head.path),
        "raw_path": head.path.encode("latin-1"),
        "query_string": head.query.encode("latin-1"),
        "root_path": root_path,
        "headers": [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in head.headers
        ],
        "client": client,
        "server": server,
        "state": dict(state) if state is not None else {},
    }
    # END EXERCISE


def build_websocket_scope(
    head: RequestHead,
    *,
    client: Address | None,
    server: Address | None,
    root_path: str = "",
    state: dict[str, Any] | None = None,
    scheme: str = "ws",
) -> Scope:
    """Return the ``websocket`` scope for an upgrade request: the HTTP one, adjusted.

    A WebSocket scope has no ``method`` and adds ``subprotocols``, the
    protocols the client offered in ``Sec-WebSocket-Protocol``, in order.
    """
    scope = build_http_scope(
        head, client=client, server=server, root_path=root_path, state=state, scheme=scheme
    )
    scope["type"] = "websocket"
    del scope["method"]
    # A comma-separated list (RFC 6455 §11.3.4): split at commas, trim SP and HTAB only.
    scope["subprotocols"] = list_elements(head.header("sec-websocket-protocol"))
    return scope

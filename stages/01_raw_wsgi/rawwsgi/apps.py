"""Raw WSGI apps, no framework: each is one function of (environ, start_response).

This is all PEP 3333 asks of an app: take the environ dict and the
``start_response`` callable, call ``start_response(status, headers)`` once,
and return an iterable of bytes. Every server that speaks WSGI (this
stage's own, ``wsgiref``, gunicorn) can run these functions unchanged::

    python -m rawwsgi.server rawwsgi.apps:app
    gunicorn rawwsgi.apps:app
    curl -i 'http://127.0.0.1:8000/echo?name=wsgi' -d 'hello'
"""

from __future__ import annotations

from collections.abc import Iterable

from rawwsgi.http11 import READ_SIZE  # the size of each read from wsgi.input
from rawwsgi.protocol import Environ, StartResponse


def hello(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Say hello: GET / -> 200 "Hello, WSGI!" (405 for other methods)."""
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
        return method_not_allowed(environ, start_response, allow="GET, HEAD")
    body = b"Hello, WSGI!"
    # A fresh list each time: some servers (wsgiref) append their own headers to it.
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def echo(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Echo the request back as text: its method, path, query string and body.

    POST /echo?name=wsgi with body "hello" -> 200 with the body
    b"method: POST\\npath: /echo\\nquery: name=wsgi\\nbody: hello\\n"
    """
    # EXERCISE 1.1: The echo app
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH", "")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        pieces = []
        while piece := stream.read(READ_SIZE):
            pieces.append(piece)
        body = b"".join(pieces)
    else:
        body = b""
    text = b"".join(
        [
            b"method: ",
            environ["REQUEST_METHOD"].encode("latin-1"),
            b"\n",
            b"path: ",
            environ["PATH_INFO"].encode("latin-1"),
            b"\n",
            b"query: ",
            environ.get("QUERY_STRING", "").encode("latin-1"),
            b"\n",
            b"body: ",
            body,
            b"\n",
        ]
    )
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(text))),
        ],
    )
    return [text]
    # END EXERCISE


def not_found(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Answer 404 Not Found."""
    body = b"Not Found"
    start_response(
        "404 Not Found",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def method_not_allowed(
    environ: Environ, start_response: StartResponse, *, allow: str
) -> Iterable[bytes]:
    """Answer 405 Method Not Allowed, naming the methods that are (RFC 9110 §15.5.6)."""
    body = b"Method Not Allowed"
    start_response(
        "405 Method Not Allowed",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Allow", allow),
        ],
    )
    return [body]


def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Dispatch on PATH_INFO: "/" -> hello, "/echo" -> echo, anything else -> 404.

    Stage 02 replaces this if-chain with a router.
    """
    path = environ.get("PATH_INFO") or "/"
    if path == "/":
        return hello(environ, start_response)
    if path == "/echo":
        return echo(environ, start_response)
    return not_found(environ, start_response)

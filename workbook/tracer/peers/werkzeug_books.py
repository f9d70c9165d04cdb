"""Stage 02's books API on Werkzeug: ``Map`` / ``Rule``, ``Request``, ``Response``.

Werkzeug is the WSGI toolkit under Flask. Its router compiles the rules
into a state machine (``Map.bind_to_environ(environ).match()``), raises
``NotFound`` or ``MethodNotAllowed`` (an ``HTTPException`` that is itself a
WSGI response) and converts ``<int:id>`` on the way. The books and their
store are stage 02's own (:class:`wsgirouter.example.BookStore`, ``SEED``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response
from wsgirouter.example import SEED, BookStore

Environ = dict[str, Any]

url_map = Map(
    [
        Rule("/books", endpoint="list_books", methods=["GET"]),
        Rule("/books/<int:id>", endpoint="get_book", methods=["GET"]),
    ]
)
books = BookStore(SEED)


def list_books(request: Request) -> Response:
    """Return every book (``?author=`` filters, repeatable)."""
    authors = request.args.getlist("author")
    found = [book for book in books.list() if not authors or book["author"] in authors]
    return json_response({"books": found})


def get_book(request: Request, id: int) -> Response:
    """Return one book, or 404."""
    book = books.get(id)
    if book is None:
        raise NotFound(f"no book with id {id}")
    return json_response(book)


HANDLERS: dict[str, Callable[..., Response]] = {"list_books": list_books, "get_book": get_book}


def json_response(data: Any, status: int = 200) -> Response:
    """Return ``data`` as a JSON response, compact as stage 02 writes it."""
    return Response(
        json.dumps(data, separators=(",", ":")), status=status, mimetype="application/json"
    )


def app(environ: Environ, start_response: Any) -> Iterable[bytes]:
    """The WSGI app: match, call the handler, answer an HTTPException as its response."""
    request = Request(environ)
    adapter = url_map.bind_to_environ(environ)
    try:
        endpoint, params = adapter.match()
        response = HANDLERS[endpoint](request, **params)
    except HTTPException as error:
        return error(environ, start_response)
    return response(environ, start_response)

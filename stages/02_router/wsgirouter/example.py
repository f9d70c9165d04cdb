"""A JSON API on the router: a shelf of books kept in memory.

    GET    /books             list them (filter: ?author=NAME, repeatable)
    POST   /books             add one: {"title": "...", "author": "...", "year": 1969}
    GET    /books/export      every book as NDJSON, streamed one line at a time
    GET    /books/{id:int}    one book
    PUT    /books/{id:int}    replace it (same body as POST)
    DELETE /books/{id:int}    remove it

Every error is JSON too: ``{"error": "..."}`` with a 400 (invalid JSON, a
missing or wrong field), 404 (unknown route or book), 405 (wrong method,
with ``Allow``), 413 (body too large) or 415 (not JSON).

Serve it with ``make stage-2`` (stage 01's server) or
``gunicorn --chdir stages/02_router wsgirouter.example:app``, and print its
compiled route table with ``python -m wsgirouter.example``.

The shelf lives in this process's memory: it starts again from ``SEED`` on
every start, and under several gunicorn workers each worker has its own
(stage 06 keeps its data in SQLite for that reason).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from wsgirouter.request import Request
from wsgirouter.response import HTTPError, Response
from wsgirouter.router import Router

Book = dict[str, Any]

SEED: tuple[Book, ...] = (
    {"title": "A Wizard of Earthsea", "author": "Ursula K. Le Guin", "year": 1968},
    {"title": "The Left Hand of Darkness", "author": "Ursula K. Le Guin", "year": 1969},
    {"title": "Kindred", "author": "Octavia E. Butler", "year": 1979},
    {"title": "The Fifth Season", "author": "N. K. Jemisin", "year": 2015},
)
FIELDS = ("title", "author", "year")
MAX_TEXT = 200


class BookStore:
    """Books by id, in memory; a lock makes it safe for a threaded server."""

    def __init__(self, books: Iterable[Mapping[str, Any]] = ()) -> None:
        self._lock = threading.Lock()
        self._books: dict[int, Book] = {}
        self._next_id = 1
        for book in books:
            self.create(book)

    def list(self) -> list[Book]:
        """Return every book, oldest first."""
        with self._lock:
            return [dict(book) for book in self._books.values()]

    def get(self, book_id: int) -> Book | None:
        """Return the book with this id, or None."""
        with self._lock:
            book = self._books.get(book_id)
            return dict(book) if book is not None else None

    def create(self, fields: Mapping[str, Any]) -> Book:
        """Store a new book and return it with its id."""
        with self._lock:
            book = {"id": self._next_id, **{name: fields.get(name) for name in FIELDS}}
            self._books[self._next_id] = book
            self._next_id += 1
            return dict(book)

    def replace(self, book_id: int, fields: Mapping[str, Any]) -> Book | None:
        """Replace a book's fields; return it, or None if there is no such book."""
        with self._lock:
            if book_id not in self._books:
                return None
            book = {"id": book_id, **{name: fields.get(name) for name in FIELDS}}
            self._books[book_id] = book
            return dict(book)

    def delete(self, book_id: int) -> bool:
        """Remove a book; return whether it was there."""
        with self._lock:
            return self._books.pop(book_id, None) is not None


def validate_book(data: Any) -> Book:
    """Return a book's fields from a parsed JSON body, or raise HTTPError(400)."""
    if not isinstance(data, dict):
        raise HTTPError(400, "the body must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise HTTPError(400, f"unknown field(s): {', '.join(unknown)}")
    book: Book = {}
    for name in ("title", "author"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise HTTPError(400, f"{name}: required, a non-empty string")
        if len(value) > MAX_TEXT:
            raise HTTPError(400, f"{name}: at most {MAX_TEXT} characters")
        book[name] = value.strip()
    year = data.get("year")
    # bool is a subclass of int in Python: refuse true/false explicitly.
    if year is not None and (type(year) is not int or not -9999 <= year <= 9999):
        raise HTTPError(400, "year: an integer from -9999 to 9999, or null")
    book["year"] = year
    return book


def create_app(seed: Iterable[Mapping[str, Any]] = SEED) -> Router:
    """Return the books API: a Router with its routes registered."""
    router = Router(json_errors=True)
    books = BookStore(seed)

    def find(book_id: int) -> Book:
        book = books.get(book_id)
        if book is None:
            raise HTTPError(404, f"no book with id {book_id}")
        return book

    @router.get("/books")
    def list_books(request: Request) -> Response:
        authors = request.query.get_all("author")
        found = [book for book in books.list() if not authors or book["author"] in authors]
        return Response.json({"books": found})

    @router.post("/books")
    def create_book(request: Request) -> Response:
        book = books.create(validate_book(request.json()))
        location = request.absolute_url(router.url_for("get_book", id=book["id"]))
        return Response.json(book, 201, [("Location", location)])

    @router.get("/books/export")
    def export_books(request: Request) -> Response:
        def lines(snapshot: list[Book]) -> Iterator[bytes]:
            for book in snapshot:
                yield (
                    json.dumps(
                        book, ensure_ascii=False, allow_nan=False, separators=(",", ":")
                    ).encode()
                    + b"\n"
                )

        return Response(lines(books.list()), content_type="application/x-ndjson")

    @router.get("/books/{id:int}")
    def get_book(request: Request, id: int) -> Response:
        return Response.json(find(id))

    @router.put("/books/{id:int}")
    def update_book(request: Request, id: int) -> Response:
        fields = validate_book(request.json())
        book = books.replace(id, fields)
        if book is None:
            raise HTTPError(404, f"no book with id {id}")
        return Response.json(book)

    @router.delete("/books/{id:int}")
    def delete_book(request: Request, id: int) -> Response:
        if not books.delete(id):
            raise HTTPError(404, f"no book with id {id}")
        # 200 with a body rather than 204: a 204 must not carry Content-Length,
        # and some tools (werkzeug's lint) expect one. See the README.
        return Response.json({"deleted": id})

    return router


app = create_app()

if __name__ == "__main__":
    print(app.describe())

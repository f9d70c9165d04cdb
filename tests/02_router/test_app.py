"""The router as a WSGI app, and the example books API, in process behind both linters."""

from __future__ import annotations

from typing import Any

import pytest
from stage02_helpers import call, post_json
from wsgirouter.request import Request
from wsgirouter.response import HTTPError, Response
from wsgirouter.router import Router


def tiny_router(**options: Any) -> Router:
    """A router with a few routes that show what a handler receives."""
    router = Router(**options)

    @router.get("/books/{id:int}")
    def get_book(request: Request, id: int) -> Response:
        return Response.json({"id": id, "type": type(id).__name__})

    @router.post("/books")
    def create_book(request: Request) -> Response:
        return Response.json(request.json(), 201)

    @router.get("/café/{name}")
    def cafe(request: Request, name: str) -> Response:
        return Response.text(f"{request.path} {name}")

    @router.get("/teapot")
    def teapot(request: Request) -> Response:
        raise HTTPError(418, "short and stout", [("X-Brew", "earl grey")])

    @router.get("/wrong")
    def wrong(request: Request) -> Response:
        return {"not": "a Response"}  # type: ignore[return-value]

    @router.get("/broken")
    def broken(request: Request) -> Response:
        raise RuntimeError("bug in a handler")

    return router


# ── Routing through WSGI ─────────────────────────────────────────────────────


def test_handler_receives_typed_params() -> None:
    """{id:int} arrives in the handler as an int."""
    assert call(tiny_router(), "GET", "/books/42").json() == {"id": 42, "type": "int"}


def test_unknown_path_is_a_404_with_a_message() -> None:
    """A path no route matches is a 404 whose plain-text body names the path."""
    reply = call(tiny_router(), "GET", "/nowhere")
    assert (reply.status, reply.text) == (404, "no route matches /nowhere\n")


def test_converter_mismatch_is_a_404_not_a_500() -> None:
    """/books/abc on {id:int} is a 404."""
    assert call(tiny_router(), "GET", "/books/abc").status == 404


def test_wrong_method_is_a_405_with_allow() -> None:
    """A known path with a wrong method is a 405 carrying an Allow header."""
    reply = call(tiny_router(), "DELETE", "/books/1")
    assert (reply.status, reply.header("Allow")) == (405, "GET, HEAD, OPTIONS")


def test_options_is_answered_with_allow_and_no_body() -> None:
    """OPTIONS on a known path is a 200 with Allow and an empty body."""
    reply = call(tiny_router(), "OPTIONS", "/books")
    assert (reply.status, reply.header("Allow"), reply.body) == (200, "OPTIONS, POST", b"")


@pytest.mark.filterwarnings("ignore:Content-Length and the number of bytes:Warning")
def test_head_runs_the_get_handler_and_sends_no_body() -> None:
    """HEAD is served by the GET handler: same headers, no body."""
    get, head = (call(tiny_router(), method, "/books/5") for method in ("GET", "HEAD"))
    assert (head.status, head.headers, head.body) == (200, get.headers, b"")


def test_non_ascii_path_routes_and_arrives_decoded() -> None:
    """A UTF-8 path (PATH_INFO in latin-1 clothing) matches a non-ASCII pattern."""
    reply = call(tiny_router(), "GET", "/café/crème")
    assert (reply.status, reply.text) == (200, "/café/crème crème")


def test_path_that_is_not_utf8_is_a_400() -> None:
    """A path whose bytes are not UTF-8 is a 400, not a 500."""
    reply = call(tiny_router(), "GET", path_info="/caf\u00e9")
    assert reply.status == 400


def test_http_error_from_a_handler_becomes_its_response() -> None:
    """A handler raising HTTPError answers with its status, message and headers."""
    reply = call(tiny_router(), "GET", "/teapot")
    assert (reply.status, reply.text, reply.header("X-Brew")) == (
        418,
        "short and stout\n",
        "earl grey",
    )


def test_json_errors_are_json() -> None:
    """With json_errors=True, a 404 body is {"error": message}."""
    reply = call(tiny_router(json_errors=True), "GET", "/nowhere")
    assert (reply.header("Content-Type"), reply.json()) == (
        "application/json",
        {"error": "no route matches /nowhere"},
    )


def test_invalid_json_is_a_400_through_the_router() -> None:
    """A handler calling request.json() on bad JSON makes the router answer 400."""
    reply = call(
        tiny_router(),
        "POST",
        "/books",
        headers=[("Content-Type", "application/json")],
        body=b'{"title": ',
    )
    assert (reply.status, reply.text.startswith("invalid JSON")) == (400, True)


def test_handler_returning_something_else_is_a_type_error() -> None:
    """A handler must return a Response: anything else is a TypeError that names it."""
    with pytest.raises(TypeError, match="'wrong' returned dict"):
        call(tiny_router(), "GET", "/wrong")


def test_handler_exception_is_left_to_the_server() -> None:
    """The router hides no bug: the exception reaches the server (stage 03 adds a 500 page)."""
    with pytest.raises(RuntimeError, match="bug in a handler"):
        call(tiny_router(), "GET", "/broken")


# ── The example API ──────────────────────────────────────────────────────────


@pytest.fixture
def books() -> Router:
    from wsgirouter.example import create_app

    return create_app()


def test_list_returns_the_seeded_books(books: Router) -> None:
    """GET /books lists the seeded books."""
    reply = call(books, "GET", "/books")
    assert (reply.status, [book["id"] for book in reply.json()["books"]]) == (200, [1, 2, 3, 4])


def test_list_filters_by_repeated_author(books: Router) -> None:
    """?author=A&author=B keeps books by either author (the README's example), and only those."""
    reply = call(books, "GET", "/books", query="author=Octavia+E.+Butler&author=N.+K.+Jemisin")
    assert [book["title"] for book in reply.json()["books"]] == ["Kindred", "The Fifth Season"]
    reply = call(books, "GET", "/books", query="author=Octavia+E.+Butler&author=Nobody")
    assert [book["title"] for book in reply.json()["books"]] == ["Kindred"]


def test_post_creates_a_book_with_an_absolute_location_that_get_fetches(books: Router) -> None:
    """POST /books creates a book (201, absolute Location); GET fetches it."""
    created = post_json(books, "/books", {"title": "Dune", "author": "Frank Herbert", "year": 1965})
    fetched = call(books, "GET", "/books/5")
    assert (created.status, created.header("Location"), fetched.json()) == (
        201,
        "http://testserver/books/5",
        {"id": 5, "title": "Dune", "author": "Frank Herbert", "year": 1965},
    )


def test_update_replaces_the_book(books: Router) -> None:
    """PUT /books/{id} replaces the book's fields."""
    reply = post_json(books, "/books/3", {"title": "Kindred", "author": "O. E. Butler"}, "PUT")
    assert reply.json() == {"id": 3, "title": "Kindred", "author": "O. E. Butler", "year": None}


def test_delete_then_get_is_a_404(books: Router) -> None:
    """DELETE /books/{id} removes it; a GET afterwards is a 404 with a message."""
    deleted = call(books, "DELETE", "/books/1")
    missing = call(books, "GET", "/books/1")
    assert (deleted.json(), missing.status, missing.json()) == (
        {"deleted": 1},
        404,
        {"error": "no book with id 1"},
    )


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/books/99"), ("PUT", "/books/99"), ("DELETE", "/books/99")]
)
def test_unknown_book_is_a_404(books: Router, method: str, path: str) -> None:
    """An id with no book is a 404 for GET, PUT and DELETE."""
    reply = (
        post_json(books, path, {"title": "t", "author": "a"}, method)
        if method == "PUT"
        else call(books, method, path)
    )
    assert (reply.status, reply.json()) == (404, {"error": "no book with id 99"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"author": "a"}, "title: required, a non-empty string"),
        ({"title": "   ", "author": "a"}, "title: required, a non-empty string"),
        ({"title": "t", "author": 7}, "author: required, a non-empty string"),
        ({"title": "t" * 201, "author": "a"}, "title: at most 200 characters"),
        (
            {"title": "t", "author": "a", "year": "1969"},
            "year: an integer from -9999 to 9999, or null",
        ),
        (
            {"title": "t", "author": "a", "year": True},
            "year: an integer from -9999 to 9999, or null",
        ),
        ({"title": "t", "author": "a", "isbn": "x"}, "unknown field(s): isbn"),
        (["t", "a"], "the body must be a JSON object"),
    ],
)
def test_invalid_book_is_a_400_with_a_message(books: Router, data: Any, message: str) -> None:
    """A body that is JSON but not a valid book is a 400 saying which field is wrong."""
    reply = post_json(books, "/books", data)
    assert (reply.status, reply.json()) == (400, {"error": message})


def test_create_with_invalid_json_is_a_400(books: Router) -> None:
    """Invalid JSON is a 400 with a message saying where it broke."""
    reply = call(
        books,
        "POST",
        "/books",
        headers=[("Content-Type", "application/json")],
        body=b'{"title": "x",}',
    )
    assert (reply.status, reply.json()["error"][:13]) == (400, "invalid JSON:")


def test_create_without_json_content_type_is_a_415(books: Router) -> None:
    """A body not declared as JSON is a 415."""
    reply = call(books, "POST", "/books", headers=[("Content-Type", "text/plain")], body=b"{}")
    assert reply.status == 415


def test_export_streams_one_json_line_per_book(books: Router) -> None:
    """GET /books/export streams NDJSON, one chunk per book, with no Content-Length."""
    reply = call(books, "GET", "/books/export")
    assert (len(reply.chunks), reply.header("Content-Length"), reply.chunks[2]) == (
        4,
        None,
        b'{"id":3,"title":"Kindred","author":"Octavia E. Butler","year":1979}\n',
    )


def test_wrong_method_on_the_example_is_a_405_with_allow(books: Router) -> None:
    """PATCH /books/1 is a 405 listing the methods the path has."""
    reply = call(books, "PATCH", "/books/1")
    assert (reply.status, reply.header("Allow")) == (405, "DELETE, GET, HEAD, OPTIONS, PUT")

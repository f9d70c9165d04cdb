"""The books API over a real socket: on stage 01's own server and on gunicorn.

Each server runs in a child process on a free loopback port (see the
``base_url`` fixture). The ``client`` fixture records every request as it
sends it, so a failure shows the request as a curl command.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit
from wsgiref.validate import validator

import httpx
import pytest

from workbook.testing import RequestLog, recording_client, wsgiref_serving

JSON = {"Content-Type": "application/json"}


def test_list_books_is_200_json_with_every_book(client: httpx.Client) -> None:
    """GET /books answers 200 with the books as JSON."""
    response = client.get("/books")
    assert (response.status_code, response.headers["content-type"]) == (200, "application/json")
    assert {
        "id": 3,
        "title": "Kindred",
        "author": "Octavia E. Butler",
        "year": 1979,
    } in response.json()["books"]


def test_create_then_fetch_by_location(client: httpx.Client) -> None:
    """POST /books answers 201 with a Location that fetches the new book."""
    body = json.dumps({"title": "Parable of the Sower", "author": "Octavia E. Butler"})
    created = client.post("/books", content=body, headers=JSON)
    fetched = client.get(created.headers["location"])
    assert (created.status_code, fetched.status_code, fetched.json()) == (201, 200, created.json())


def test_invalid_json_is_a_400_with_a_message(client: httpx.Client) -> None:
    """Invalid JSON is a 400 whose JSON body says what is wrong."""
    response = client.post("/books", content=b'{"title": ', headers=JSON)
    assert (response.status_code, response.json()["error"][:13]) == (400, "invalid JSON:")


def test_unknown_route_is_a_404(client: httpx.Client) -> None:
    """A path with no route is a 404 with a JSON message."""
    response = client.get("/authors")
    assert (response.status_code, response.json()) == (404, {"error": "no route matches /authors"})


def test_non_ascii_path_arrives_decoded(client: httpx.Client) -> None:
    """A UTF-8 path goes through the server's latin-1 PATH_INFO and back intact."""
    response = client.get("/b%C3%BCcher")
    assert (response.status_code, response.json()) == (404, {"error": "no route matches /bücher"})


def test_wrong_method_is_a_405_with_allow(client: httpx.Client) -> None:
    """PATCH on a book is a 405 with an Allow header listing the methods."""
    response = client.patch("/books/1")
    assert (response.status_code, response.headers["allow"]) == (
        405,
        "DELETE, GET, HEAD, OPTIONS, PUT",
    )


def test_int_converter_mismatch_is_a_404(client: httpx.Client) -> None:
    """/books/abc is a 404, not a 500."""
    assert client.get("/books/abc").status_code == 404


def test_head_has_get_headers_and_no_body(client: httpx.Client) -> None:
    """HEAD /books/2 gets the GET headers, Content-Length included, and no body."""
    head, get = client.head("/books/2"), client.get("/books/2")
    assert (head.status_code, head.headers["content-length"], head.content) == (
        200,
        get.headers["content-length"],
        b"",
    )


def test_options_answers_allow(client: httpx.Client) -> None:
    """OPTIONS /books answers 200 with Allow."""
    response = client.options("/books")
    assert (response.status_code, response.headers["allow"]) == (200, "GET, HEAD, OPTIONS, POST")


def test_export_is_streamed_chunked(base_url: str, sent) -> None:
    """The NDJSON export has no Content-Length, so HTTP/1.1 sends it chunked."""
    sent("GET", f"{base_url}/books/export")
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", "/books/export")
        response = connection.getresponse()
        lines = response.read().splitlines()
        assert (response.getheader("Transfer-Encoding"), json.loads(lines[0])["id"]) == (
            "chunked",
            1,
        )
    finally:
        connection.close()


# ── wsgiref's server in a thread, with the validator between it and the app ──


@pytest.fixture
def wsgiref_url() -> Iterator[str]:
    from wsgirouter.example import create_app

    with wsgiref_serving(validator(create_app())) as (host, port):
        yield f"http://{host}:{port}"


def test_bad_input_on_wsgiref_gets_4xx(wsgiref_url: str, sent: RequestLog) -> None:
    """Under wsgiref with the validator: bad JSON is 400, unknown route 404, wrong method 405."""
    with recording_client(sent, base_url=wsgiref_url, timeout=10) as client:
        statuses = (
            client.post("/books", content=b"nope", headers=JSON).status_code,
            client.get("/nope").status_code,
            client.delete("/books").status_code,
        )
    assert statuses == (400, 404, 405)

"""Fuzzing the books API: no request gets a 5xx, a malformed answer or changes data it was refused.

The requests and the checks are ``workbook.fuzzing``'s (see its docstring
for the properties and ``HYPOTHESIS_PROFILE=long`` for a deep run).
"""

from __future__ import annotations

from hypothesis import given

from workbook.fuzzing import (
    FUZZ_TIMEOUT,
    FuzzRequest,
    call_wsgi,
    check_wsgi_request,
    fuzz_settings,
    requests,
    seed_requests,
    seeded,
    strict_json,
)

pytestmark = FUZZ_TIMEOUT

#: A body each write accepts, and the writes the seeded examples aim at.
BASE = {"title": "t", "author": "a", "year": 1969}
WRITES = [("POST", "/books"), ("PUT", "/books/1")]

BOOK_REQUESTS = requests(
    ["/", "/books", "/books/1", "/books/export", "/books/2"],
    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"],
    media_types=["application/json", "application/merge-patch+json", "text/plain"],
    base=BASE,
    writes=WRITES,
    oversize=1024 * 1024 + 1,
)


def shelf(app) -> list:
    """Return every book, read through the API itself."""
    return strict_json(call_wsgi(app, FuzzRequest("GET", b"/books")).body)["books"]


@fuzz_settings()
@seeded(seed_requests(BASE, WRITES))
@given(request=BOOK_REQUESTS)
def test_books_api_answers_every_request_below_500_and_well_formed(request: FuzzRequest) -> None:
    """Whatever a client sends, the answer is a well-formed 2xx-4xx; a refusal changes nothing."""
    from wsgirouter.example import create_app

    check_wsgi_request(create_app(), request, shelf)

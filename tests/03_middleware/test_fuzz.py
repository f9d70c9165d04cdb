"""Fuzzing the onion: the books API behind every layer still answers every request below 500.

Besides the books API's hostile requests (``workbook.fuzzing``), these carry
what the layers read: Basic credentials (valid, broken base64, not UTF-8),
CORS origins and preflight headers, request ids that could forge a log
line, ``Accept-Encoding`` with odd q-values. The two routes that fail on
purpose (``/boom``...) are left out: their 500 is the lesson.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from workbook.fuzzing import (
    FUZZ_TIMEOUT,
    Answer,
    FuzzRequest,
    basic_credentials,
    call_wsgi,
    check_wsgi_request,
    decoded_body,
    fuzz_settings,
    header_values,
    requests,
    seed_requests,
    seeded,
    strict_json,
)

pytestmark = FUZZ_TIMEOUT

#: A body each write accepts, and the writes the seeded examples aim at.
BASE = {"title": "t", "author": "a", "year": 1969}
WRITES = [("POST", "/books"), ("PUT", "/books/1"), ("DELETE", "/books/2")]

LAYER_HEADERS = [
    st.tuples(st.just("Authorization"), basic_credentials([("admin", "secret"), ("ädmin", "s")])),
    st.tuples(st.just("Origin"), st.one_of(st.just("http://localhost:3000"), header_values)),
    st.tuples(
        st.just("Access-Control-Request-Method"), st.sampled_from(["POST", "DELETE", "", "G T"])
    ),
    st.tuples(st.just("Access-Control-Request-Headers"), header_values),
    st.tuples(
        st.just("X-Request-ID"), st.sampled_from(["abc", "a" * 200, "x\ty", "é", "1:2.3-4_5"])
    ),
]

STACK_REQUESTS = requests(
    ["/", "/books", "/books/1", "/books/export", "/boomx"],
    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"],
    media_types=["application/json", "text/plain"],
    base=BASE,
    writes=WRITES,
    oversize=1024 * 1024 + 1,
    extra_headers=LAYER_HEADERS,
).filter(
    lambda request: not request.raw_path.startswith(b"/boom/") and request.raw_path != b"/boom"
)


def shelf(app: Any) -> Any:
    """Return every book, read through the whole stack (GET needs no password)."""
    answer: Answer = call_wsgi(app, FuzzRequest("GET", b"/books"))
    return strict_json(decoded_body(answer))["books"]


@fuzz_settings()
@seeded(seed_requests(BASE, WRITES))
@given(request=STACK_REQUESTS)
def test_the_onion_answers_every_request_below_500_and_well_formed(request: FuzzRequest) -> None:
    """Whatever a client sends through the layers: well-formed 2xx-4xx; refusals change nothing."""
    from onion.example import create_stack

    check_wsgi_request(create_stack(), request, shelf)

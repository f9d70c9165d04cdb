"""Fuzzing the router example: the ASGI onion answers every request below 500, well formed.

The requests are ``workbook.fuzzing``'s, sent in process as an ASGI server
would build their scope, with and without a ``root_path`` (the app mounted
at ``/api``: ``path`` then includes it, as the ASGI spec says). ``/boom``,
which fails on purpose, is left out; ``/echo`` sends the client's own body
back, so its JSON is not checked.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workbook.fuzzing import (
    FUZZ_TIMEOUT,
    FuzzRequest,
    call_asgi,
    check_answer,
    fuzz_settings,
    requests,
)

pytestmark = FUZZ_TIMEOUT

EXAMPLE_REQUESTS = requests(
    ["/", "/hello/ada", "/hello", "/add/2", "/add/2/40", "/add", "/echo", "/rooms/lobby"],
    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "BREW"],
    media_types=["application/json", "text/plain"],
    base={"a": 1},
    writes=[("POST", "/echo"), ("GET", "/add/2/40")],
    oversize=64 * 1024 + 1,
).filter(lambda request: not request.raw_path.startswith(b"/boom"))


@fuzz_settings()
@given(request=EXAMPLE_REQUESTS, root_path=st.sampled_from(["", "/api"]))
def test_router_example_answers_every_request_below_500_and_well_formed(
    request: FuzzRequest, root_path: str
) -> None:
    """Whatever a client sends, the router example answers a well-formed 2xx-4xx."""
    from rawasgi.example import build_app

    answer = call_asgi(build_app(), request, root_path)
    check_answer(
        request,
        answer,
        server_drops_head_body=True,
        check_json=not request.raw_path.startswith(b"/echo"),
    )


def test_add_refuses_numbers_json_cannot_carry_with_a_400() -> None:
    """Two 4,300-digit ids route, but their sum is past what JSON carries: 400, not 500."""
    from rawasgi.example import build_app

    nines = "9" * 4300
    answer = call_asgi(build_app(), FuzzRequest("GET", f"/add/{nines}/{nines}".encode()))
    assert (answer.status, b"at most" in answer.body) == (400, True)
    answer = call_asgi(build_app(), FuzzRequest("GET", b"/add/2/40"))
    assert (answer.status, answer.body) == (200, b'{"a": 2, "b": 40, "sum": 42}')

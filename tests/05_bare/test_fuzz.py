"""Fuzzing the tasks API: bare answers every request below 500, well formed; refusals keep data.

The requests are ``workbook.fuzzing``'s, sent in process as an ASGI server
builds their scope, with and without a ``root_path`` (``uvicorn
example_app:app --root-path /api``: ``path`` then includes ``/api``). One
task, ``t1``, exists before each request, so PATCH and DELETE reach a task.
"""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from workbook.fuzzing import (
    FUZZ_TIMEOUT,
    FuzzRequest,
    call_asgi,
    check_answer,
    fuzz_settings,
    requests,
    seed_requests,
    seeded,
)

pytestmark = FUZZ_TIMEOUT

#: A body each write accepts, and the writes the seeded examples aim at.
BASE = {"title": "t", "done": False}
WRITES = [("POST", "/tasks"), ("PATCH", "/tasks/t1")]

TASK_REQUESTS = requests(
    ["/", "/tasks", "/tasks/t1", "/tasks/nope", "/ws"],
    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "BREW"],
    media_types=["application/json", "application/x-www-form-urlencoded", "text/plain"],
    base=BASE,
    writes=WRITES,
    oversize=1024 * 1024 + 1,
)


@fuzz_settings()
@seeded(seed_requests(BASE, WRITES), root_path="")
@given(request=TASK_REQUESTS, root_path=st.sampled_from(["", "/api"]))
def test_tasks_api_answers_every_request_below_500_and_well_formed(
    request: FuzzRequest, root_path: str
) -> None:
    """Whatever a client sends, bare answers a well-formed 2xx-4xx; a refusal changes nothing."""
    import example_app

    example_app.tasks.clear()
    example_app.tasks["t1"] = {"id": "t1", "title": "first", "done": False}
    before = copy.deepcopy(example_app.tasks)
    try:
        answer = call_asgi(example_app.app, request, root_path)
        check_answer(request, answer)
        if answer.status >= 400:
            assert example_app.tasks == before, (
                f"{request!r} was refused ({answer.status}) but changed the data"
            )
    finally:
        example_app.tasks.clear()

"""Bad input of every kind issue 13 names: bare answers a clear 4xx, and never breaks the wire.

The kinds: an exception other than the one expected reaching the top
(RecursionError, NaN, lone surrogates, a charset no codec knows); a
response that breaks the wire format (a raw non-ASCII ``Location``, NaN in
JSON); ``root_path`` ignored (every route a 404 under ``--root-path``).
``test_fuzz.py`` looks for more of each kind.
"""

from __future__ import annotations

from typing import Any

import pytest
from bare import Bare, JSONResponse, RedirectResponse, Request, route_path
from bare_helpers import call

from workbook.fuzzing import FuzzRequest, call_asgi


def json_echo() -> Bare:
    """An app whose one route sends back the JSON it was sent."""
    app = Bare()

    @app.post("/echo")
    async def echo(request: Request) -> Any:
        return {"got": await request.json()}

    @app.post("/text")
    async def text(request: Request) -> Any:
        return {"got": await request.text()}

    return app


# ── Kind 1: an unexpected exception must not reach the top ───────────────────


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000, "nested too deeply"),  # RecursionError was a 500
        (b'{"title": NaN}', "NaN"),
        (b"[Infinity]", "Infinity"),
        (b"[1e999]", "out of a float's range"),
        (b'["\\ud800"]', "lone surrogate"),
        (b"[" + b"1" * 5000 + b"]", "not valid JSON"),  # int() past 4,300 digits
    ],
)
def test_json_python_reads_but_json_forbids_is_a_400(body: bytes, reason: str) -> None:
    """request.json() refuses what RFC 8259 forbids or cannot carry: 400, never 500."""
    response = call(
        json_echo(), "POST", "/echo", content=body, headers={"content-type": "application/json"}
    )
    assert (response.status_code, reason in response.json()["error"]) == (400, True), response.text


def test_a_surrogate_pair_is_text_and_is_accepted() -> None:
    """A valid pair of escapes is one character: accepted, sent back as JSON."""
    response = call(
        json_echo(),
        "POST",
        "/echo",
        content=b'["\\ud83d\\ude00"]',
        headers={"content-type": "application/json"},
    )
    assert (response.status_code, response.json()) == (200, {"got": ["\U0001f600"]})


@pytest.mark.parametrize("charset", ["hex", "rot13", "nope", "base64", "zlib"])
def test_a_charset_that_is_not_a_text_codec_is_a_400(charset: str) -> None:
    """text() with a charset no codec decodes as text is the client's error, not a 500."""
    response = call(
        json_echo(),
        "POST",
        "/text",
        content=b"a" * 70,
        headers={"content-type": f"text/plain; charset={charset}"},
    )
    assert response.status_code == 400, response.text


def test_the_example_refuses_nan_titles_and_keeps_its_tasks(example: Any) -> None:
    """POST /tasks with {"title": NaN} is a 400, and GET /tasks stays valid JSON."""
    response = call(
        example.app,
        "POST",
        "/tasks",
        content=b'{"title": NaN}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert call(example.app, "GET", "/tasks").json() == []


@pytest.mark.parametrize("title", [[[[]]], 5, None, {"a": 1}])
def test_the_example_refuses_a_title_that_is_not_text(example: Any, title: Any) -> None:
    """A title is a string: anything else is a 400 on create and on update, changing nothing."""
    assert call(example.app, "POST", "/tasks", json={"title": title}).status_code == 400
    task = call(example.app, "POST", "/tasks", json={"title": "keep"}).json()
    response = call(
        example.app, "PATCH", f"/tasks/{task['id']}", json={"title": title, "done": True}
    )
    assert response.status_code == 400
    assert call(example.app, "GET", f"/tasks/{task['id']}").json() == task


# ── Kind 2: no response breaks the wire format ───────────────────────────────


@pytest.mark.parametrize(
    ("location", "sent"),
    [
        ("/café", b"/caf%C3%A9"),
        ("/a b?q=ü&x=1#top", b"/a%20b?q=%C3%BC&x=1#top"),
        ("/already%20encoded/%zz", b"/already%20encoded/%25zz"),
        ("https://example.com/日本", b"https://example.com/%E6%97%A5%E6%9C%AC"),
    ],
)
def test_redirect_location_is_percent_encoded_ascii(location: str, sent: bytes) -> None:
    """A URL in a header is ASCII (RFC 9110, 10.2.2): non-ASCII text goes out as UTF-8 escapes."""
    assert dict(RedirectResponse(location).raw_headers)[b"location"] == sent


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_json_response_never_emits_nan_or_infinity(value: float) -> None:
    """JSON has no NaN or Infinity: building such a response is a ValueError (a handler bug)."""
    with pytest.raises(ValueError):
        JSONResponse({"x": value})


# ── Kind 4: root_path ────────────────────────────────────────────────────────


def test_routes_answer_below_root_path(example: Any) -> None:
    """Under --root-path /api, path includes /api (ASGI spec): /api/tasks reaches /tasks."""
    answer = call_asgi(example.app, FuzzRequest("GET", b"/tasks"), root_path="/api")
    assert (answer.status, answer.body) == (200, b"[]")


@pytest.mark.parametrize(
    ("root_path", "path", "routed"),
    [
        ("/api", "/api/tasks", "/tasks"),
        ("/api", "/api", "/"),
        ("/api/", "/api/tasks", "/tasks"),
        ("/api", "/apix/tasks", "/apix/tasks"),  # not below /api: segment boundaries count
        ("/api", "/tasks", "/tasks"),  # a server that leaves root_path out of path
        ("", "/tasks", "/tasks"),
    ],
)
def test_route_path_is_the_path_below_root_path(root_path: str, path: str, routed: str) -> None:
    """route_path strips root_path at a segment boundary, and only there."""
    assert route_path({"path": path, "root_path": root_path}) == routed

"""bare_errors: HTML error pages for browsers, JSON for programs, tracebacks only in debug."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from bare import Bare, HTTPError, Request
from bare_errors import ErrorPages, prefers_html, quality
from bare_helpers import Channels, call, http_scope

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


# ── Negotiation (exercise 5.11) ───────────────────────────────────────────────


@pytest.mark.exercise("5.11")
@pytest.mark.parametrize(
    ("accept", "media_type", "q"),
    [
        (BROWSER, "text/html", 1.0),
        (BROWSER, "application/json", 0.8),
        ("application/json", "text/html", 0.0),
        ("text/*;q=0.5, text/html;q=0.2", "text/html", 0.2),
        ("text/*;q=0.5", "text/plain", 0.5),
        ("*/*", "application/json", 1.0),
        ("TEXT/HTML", "text/html", 1.0),
        ("text/html;level=1;q=0.3", "text/html", 0.3),
        ("text/html;q=abc", "text/html", 0.0),
        ("text/html;q=nan", "text/html", 0.0),
        ("text/html;q=2", "text/html", 0.0),
        ("", "text/html", 0.0),
    ],
)
def test_quality_is_the_weight_of_the_most_specific_matching_range(
    accept: str, media_type: str, q: float
) -> None:
    # RFC 9110 §12.5.1: the most specific matching range gives the weight.
    assert quality(accept, media_type) == q


@pytest.mark.exercise("5.11")
@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("*/*", False),
        ("", False),
        ("application/json", False),
        ("application/json;q=0.5, text/html", True),
    ],
)
def test_prefers_html_only_when_html_outranks_json(accept: str, html: bool) -> None:
    assert prefers_html(accept) is html


# ── The middleware ────────────────────────────────────────────────────────────


def make_app(*, debug: bool = False, bare_debug: bool = False) -> Bare:
    app = Bare(debug=bare_debug)
    app.add_middleware(ErrorPages, debug=debug)

    @app.get("/ok")
    async def ok(request: Request) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/teapot")
    async def teapot(request: Request) -> None:
        raise HTTPError(418, "<b>short & stout</b>")

    @app.get("/boom")
    async def boom(request: Request) -> None:
        raise RuntimeError("db password is hunter2")

    return app


@pytest.mark.exercise("5.11")
def test_browser_gets_an_html_404() -> None:
    response = call(make_app(), "GET", "/nothing", headers={"accept": BROWSER})
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>404 Not Found</h1>" in response.text
    assert response.headers["content-length"] == str(len(response.content))


@pytest.mark.exercise("5.11")
def test_program_gets_json_as_before() -> None:
    response = call(make_app(), "GET", "/nothing", headers={"accept": "*/*"})
    assert (response.status_code, response.json()) == (404, {"error": "not found"})


@pytest.mark.exercise("5.11")
def test_message_is_escaped_on_the_page() -> None:
    response = call(make_app(), "GET", "/teapot", headers={"accept": BROWSER})
    assert response.status_code == 418
    assert "&lt;b&gt;short &amp; stout&lt;/b&gt;" in response.text and "<b>" not in response.text


@pytest.mark.exercise("5.11")
def test_405_keeps_its_allow_header_on_the_page() -> None:
    response = call(make_app(), "POST", "/ok", headers={"accept": BROWSER})
    assert response.status_code == 405 and "405 Method Not Allowed" in response.text
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("accept", [BROWSER, "application/json"])
def test_500_never_leaks_outside_debug(accept: str, caplog: pytest.LogCaptureFixture) -> None:
    # Even behind Bare(debug=True), a production ErrorPages strips the traceback.
    with caplog.at_level(logging.CRITICAL, logger="bare"):
        response = call(make_app(bare_debug=True), "GET", "/boom", headers={"accept": accept})
    assert response.status_code == 500
    assert "hunter2" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("accept", [BROWSER, "application/json"])
def test_debug_mode_shows_the_traceback(accept: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.CRITICAL, logger="bare"):
        response = call(
            make_app(debug=True, bare_debug=True), "GET", "/boom", headers={"accept": accept}
        )
    assert response.status_code == 500
    assert "RuntimeError: db password is hunter2" in response.text


def test_success_passes_through_untouched() -> None:
    response = call(make_app(), "GET", "/ok", headers={"accept": BROWSER})
    assert response.json() == {"ok": "yes"}


def test_exception_before_the_answer_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    # An app that raises instead of answering still gets a clean 500, and the log has it.
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("secret detail")

    channels = Channels([], after={"type": "http.disconnect"})
    scope = http_scope(headers=[(b"accept", BROWSER.encode())])
    with caplog.at_level(logging.ERROR, logger="bare.errors"):
        asyncio.run(ErrorPages(broken)(scope, channels.receive, channels.send))
    assert channels.sent[0]["status"] == 500
    assert b"secret detail" not in channels.sent[1]["body"]
    assert "secret detail" in caplog.text

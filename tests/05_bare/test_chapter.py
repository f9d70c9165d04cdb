"""The chapter's own code, unchanged, runs on the stage: its harness and its curl commands."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bare_helpers import call, load_copy


def test_chapter_harness_passes(example: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The chapter's test_bare_framework coroutine, copied verbatim, passes."""
    harness = load_copy("chapter_harness.py", "bare_chapter_harness")
    asyncio.run(harness.test_bare_framework())
    assert capsys.readouterr().out.endswith("Framework tests passed.\n")


def test_chapter_curl_index_gives_the_chapters_html_page(example: Any, sent: Any) -> None:
    """`curl http://localhost:8000/` gives the chapter's HTML page."""
    response = call(example.app, "GET", "/", record=sent)
    assert (response.status_code, response.headers["content-type"]) == (
        200,
        "text/html; charset=utf-8",
    )
    assert response.text == "<h1>Bare Framework</h1><p>It's just callables.</p>"


def test_chapter_curl_create_task(example: Any, sent: Any) -> None:
    """The chapter's POST /tasks curl creates a task: 201 with id, title, done."""
    body = '{"title": "Built with bare"}'
    response = call(
        example.app,
        "POST",
        "/tasks",
        record=sent,
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201
    task = response.json()
    assert (sorted(task), task["title"], task["done"]) == (
        ["done", "id", "title"],
        "Built with bare",
        False,
    )
    assert example.tasks == {task["id"]: task}

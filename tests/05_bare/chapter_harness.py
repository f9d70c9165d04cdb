# ruff: noqa
# The chapter's test harness ("Testing Our Framework"), verbatim: the coroutine
# and its imports. Only the last line, `asyncio.run(test_bare_framework())`, is
# left out, so that importing this file does not run it;
# tests/05_bare/test_chapter.py runs it with asyncio.run. This file is not a
# test module itself (pytest would try to collect an async def named test_*).
import asyncio
import json


async def test_bare_framework():
    from example_app import app

    # Build a minimal test harness
    async def request(method, path, body=b"", headers=None):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "method": method,
            "path": path,
            "query_string": b"",
            "headers": headers or ([(b"content-type", b"application/json")] if body else []),
            "server": ("testserver", 8000),
        }
        events = [{"type": "http.request", "body": body, "more_body": False}]
        idx = [0]

        async def receive():
            e = events[idx[0]] if idx[0] < len(events) else {"type": "http.disconnect"}
            idx[0] += 1
            return e

        response_events = []

        async def send(event):
            response_events.append(event)

        await app(scope, receive, send)
        start = next(e for e in response_events if e["type"] == "http.response.start")
        body_data = b"".join(
            e.get("body", b"") for e in response_events if e["type"] == "http.response.body"
        )
        return start["status"], json.loads(body_data) if body_data else None

    # Test cases
    status, data = await request("GET", "/tasks")
    assert status == 200, f"Expected 200, got {status}"

    status, data = await request(
        "POST", "/tasks", body=json.dumps({"title": "Framework test"}).encode()
    )
    assert status == 201
    task_id = data["id"]

    status, data = await request("GET", f"/tasks/{task_id}")
    assert status == 200
    assert data["title"] == "Framework test"

    status, data = await request("GET", "/tasks/nonexistent")
    assert status == 404

    print("Framework tests passed.")

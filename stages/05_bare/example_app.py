"""The chapter's example: a tasks API and a WebSocket echo, built on bare.

    python example_app.py                                   # uvicorn with reload, port 8000
    uvicorn example_app:app --host 127.0.0.1 --port 8000    # what `make stage-5` runs

    curl http://localhost:8000/
    curl -X POST http://localhost:8000/tasks \\
      -H "Content-Type: application/json" \\
      -d '{"title": "Built with bare"}'

Tasks live in a dict in this module, as in the chapter: they last as long as
the process, and each worker process would have its own.
"""

from __future__ import annotations

import uuid
from typing import Any

from bare import Bare, HTMLResponse, JSONResponse, Request, WebSocket
from bare_logging import LoggingMiddleware

app = Bare()

# In-memory store
tasks: dict[str, dict[str, Any]] = {}


@app.on_startup
async def startup() -> None:
    print("App started. Ready to serve.")
    # Connect to database, load config, etc.


@app.on_shutdown
async def shutdown() -> None:
    print("App stopping. Cleaning up.")


@app.get("/")
async def index(request: Request) -> HTMLResponse:
    return HTMLResponse("<h1>Bare Framework</h1><p>It's just callables.</p>")


@app.get("/tasks")
async def list_tasks(request: Request) -> JSONResponse:
    done = request.query("done")
    result = list(tasks.values())
    if done == "true":
        result = [t for t in result if t["done"]]
    elif done == "false":
        result = [t for t in result if not t["done"]]
    return JSONResponse(result)


@app.post("/tasks")
async def create_task(request: Request) -> JSONResponse:
    data = await request.json()  # invalid JSON or a wrong Content-Type: bare answers 400
    # NOTE: the chapter checks only `"title" not in data`; a body of `5` made that a
    # TypeError, i.e. a 500. Anything but a JSON object is the client's mistake.
    if not isinstance(data, dict) or "title" not in data:
        return JSONResponse({"error": "title is required"}, 400)
    # NOTE: the chapter stores any JSON value as the title. A title is text; a
    # value nested 900 levels deep would also be too deep to send back later.
    if not isinstance(data["title"], str):
        return JSONResponse({"error": "title must be a string"}, 400)
    task: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "title": data["title"],
        "done": False,
    }
    tasks[task["id"]] = task
    return JSONResponse(task, 201)


@app.get("/tasks/{task_id}")
async def get_task(request: Request) -> JSONResponse:
    task_id = request.path_params["task_id"]
    task = tasks.get(task_id)
    if not task:
        return JSONResponse({"error": "not found"}, 404)
    return JSONResponse(task)


@app.patch("/tasks/{task_id}")
async def update_task(request: Request) -> JSONResponse:
    task_id = request.path_params["task_id"]
    task = tasks.get(task_id)
    if not task:
        return JSONResponse({"error": "not found"}, 404)
    data = await request.json()
    if not isinstance(data, dict):
        return JSONResponse({"error": "expected a JSON object"}, 400)
    # NOTE: the chapter ran str() on any title; str() of a deeply nested list
    # raises RecursionError (a 500). Check everything before changing anything,
    # so a refused request leaves the task as it was.
    if "title" in data and not isinstance(data["title"], str):
        return JSONResponse({"error": "title must be a string"}, 400)
    if "done" in data:
        task["done"] = bool(data["done"])
    if "title" in data:
        task["title"] = data["title"]
    return JSONResponse(task)


@app.delete("/tasks/{task_id}")
async def delete_task(request: Request) -> JSONResponse:
    task_id = request.path_params["task_id"]
    if task_id not in tasks:
        return JSONResponse({"error": "not found"}, 404)
    return JSONResponse(tasks.pop(task_id))


@app.websocket("/ws")
async def chat(ws: WebSocket) -> None:
    async with ws:  # accept on enter, close on exit
        await ws.send_text("Welcome! Type messages to see them echoed.")
        while True:
            message = await ws.receive_text()
            if message is None:  # disconnect
                break
            await ws.send_json(
                {
                    "type": "echo",
                    "original": message,
                    "upper": message.upper(),
                }
            )


# The chapter's "Adding Middleware to Our Framework": one stderr line per request.
app.add_middleware(LoggingMiddleware)


if __name__ == "__main__":
    # uvicorn reloads only an app given as an import string ("example_app:app");
    # bare's run() finds that string for itself, so the chapter's call works as written.
    app.run(reload=True)

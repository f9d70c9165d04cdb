"""Both sides of WSGI are interchangeable: our apps on other servers, others' apps on ours."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from wsgiref.validate import validator

import flask
import pytest
from rawwsgi import apps
from rawwsgi.server import WSGIServer
from stage01_helpers import url
from werkzeug.middleware.lint import LintMiddleware

from workbook.testing import (
    fetch,
    free_port,
    loopback_client,
    serving,
    venv_script,
    wsgiref_serving,
)

Serve = Callable[..., WSGIServer]
ECHO = b"method: POST\npath: /echo\nquery: name=wsgi\nbody: hello\n"


def check_the_apps(base: str) -> None:
    """Ask a server running rawwsgi.apps:app for each of its pages."""
    with loopback_client(base_url=base, timeout=10) as client:
        assert client.get("/").text == "Hello, WSGI!"
        assert client.post("/echo?name=wsgi", content=b"hello").content == ECHO
        assert client.get("/nope").status_code == 404


def test_apps_run_under_gunicorn() -> None:
    """The same app module runs unchanged under gunicorn."""
    port = free_port()
    command = [
        venv_script("gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--log-level",
        "warning",
        "rawwsgi.apps:app",
    ]
    with serving(1, command, port) as process:
        check_the_apps(f"http://127.0.0.1:{port}")
        chunked = fetch("POST", f"http://127.0.0.1:{port}/echo", content=iter([b"chunk", b"ed"]))
        assert chunked.content.endswith(b"body: chunked\n")  # gunicorn sets wsgi.input_terminated
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture
def reference_server() -> Iterator[tuple[str, int]]:
    """wsgiref.simple_server, the standard library's reference server, running validator(app)."""
    with wsgiref_serving(validator(apps.app)) as address:
        yield address


def test_apps_run_under_wsgiref(reference_server: tuple[str, int]) -> None:
    """The same app runs unchanged under wsgiref.simple_server, validated."""
    host, port = reference_server
    check_the_apps(f"http://{host}:{port}")


def test_apps_run_on_our_server_validated(serve: Serve) -> None:
    """Our server serving validator(app): every page passes PEP 3333's checks."""
    server = serve(validator(apps.app))
    check_the_apps(url(server, ""))


# ── Someone else's app on our server ─────────────────────────────────────────


def flask_app() -> flask.Flask:
    app = flask.Flask("flask_on_rawwsgi")

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> dict[str, object]:
        return {"id": user_id, "agent": flask.request.headers.get("User-Agent")}

    @app.post("/form")
    def form() -> str:
        return f"{flask.request.form['name']} is {flask.request.form['age']}"

    @app.post("/json")
    def json_body() -> dict[str, object]:
        return {"got": flask.request.get_json()}

    @app.get("/stream")
    def stream() -> flask.Response:
        return flask.Response((f"{n}," for n in range(5)), mimetype="text/plain")

    return app


@pytest.fixture
def flask_server(serve: Serve) -> WSGIServer:
    # Werkzeug reads a terminated wsgi.input with read() and no size, which both
    # linters flag: Flask runs bare here, and under the linters in the test below.
    return serve(flask_app())


def test_flask_route_with_a_path_parameter(serve: Serve) -> None:
    """A Flask route with a converter answers JSON through our server, linted both ways."""
    server = serve(validator(LintMiddleware(flask_app())))
    response = fetch("GET", url(server, "/users/42"), headers={"User-Agent": "test/1"})
    assert (response.status_code, response.json()) == (200, {"id": 42, "agent": "test/1"})


def test_flask_reads_a_form_body(flask_server: WSGIServer) -> None:
    """Flask parses a urlencoded form that arrived through our wsgi.input."""
    response = fetch("POST", url(flask_server, "/form"), data={"name": "Ada", "age": "36"})
    assert response.text == "Ada is 36"


def test_flask_reads_a_chunked_json_body(flask_server: WSGIServer) -> None:
    """A chunked body reaches Flask too: wsgi.input_terminated tells Werkzeug to read it."""
    response = fetch(
        "POST",
        url(flask_server, "/json"),
        content=iter([b'{"a": ', b"[1, 2]}"]),
        headers={"Content-Type": "application/json"},
    )
    assert response.json() == {"got": {"a": [1, 2]}}


def test_flask_streams_a_response(flask_server: WSGIServer) -> None:
    """A streamed Flask response of unknown length arrives chunked and whole."""
    response = fetch("GET", url(flask_server, "/stream"))
    assert (response.headers.get("transfer-encoding"), response.text) == ("chunked", "0,1,2,3,4,")


def test_flask_404_and_405(flask_server: WSGIServer) -> None:
    """Flask's own 404 and 405 pass through unchanged."""
    assert fetch("GET", url(flask_server, "/nowhere")).status_code == 404
    assert fetch("DELETE", url(flask_server, "/form")).status_code == 405

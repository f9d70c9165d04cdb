"""Class-based views: one method per HTTP method, a fresh instance per request.

Tests tagged 6.2 grade ``RoutingHelper._find_class_based_handler`` through
tiny apps (no middleware, no service code).
"""

from __future__ import annotations

import pytest
from roob.framework import Roob
from webob import Request, Response


class Product:
    """A view answering GET and DELETE, with an attribute that is not a handler."""

    def __init__(self) -> None:
        self.service = "not a handler"
        self.calls = 0

    def get(self, request: Request, id: int) -> Response:
        self.calls += 1
        return Response(json_body={"method": "get", "id": id, "calls": self.calls})

    def delete(self, request: Request, id: int) -> Response:
        return Response(json_body={"method": "delete", "id": id})


class Upload:
    """A view answering POST only."""

    def post(self, request: Request) -> Response:
        return Response(json_body={"method": "post"})


class Report:
    """A view with its own HEAD handler."""

    def get(self, request: Request) -> Response:
        return Response(json_body={"method": "get"})

    def head(self, request: Request) -> Response:
        response = Response(json_body={"method": "head"})
        response.headers["X-Handler"] = "head"
        return response


def app_with_views() -> Roob:
    """Return an app with the three views above."""
    app = Roob()
    app.route("/products/{id:d}")(Product)
    app.route("/uploads")(Upload)
    app.route("/report")(Report)
    return app


@pytest.mark.exercise("6.2")
@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET", {"method": "get", "id": 4, "calls": 1}),
        ("DELETE", {"method": "delete", "id": 4}),
    ],
)
def test_a_view_method_answers_its_http_method(client, method, expected):
    """GET calls view.get, DELETE calls view.delete, with the path parameters."""
    response = client(app_with_views()).request("/products/4", method=method)
    assert response.json == expected


@pytest.mark.exercise("6.2")
def test_each_request_gets_a_fresh_view(client):
    """A view is instantiated per request: state on self does not carry over."""
    app = client(app_with_views())
    calls = [app.get("/products/1").json["calls"] for _ in range(3)]
    assert calls == [1, 1, 1]


@pytest.mark.exercise("6.2")
@pytest.mark.parametrize(
    ("path", "method", "allow"),
    [
        ("/products/4", "PUT", "DELETE, GET, HEAD"),
        ("/products/4", "POST", "DELETE, GET, HEAD"),
        ("/uploads", "GET", "POST"),
        ("/uploads", "HEAD", "POST"),
        ("/report", "DELETE", "GET, HEAD"),
    ],
)
def test_a_method_the_view_lacks_is_405_with_allow(client, path, method, allow):
    """A method the view does not define gets 405 and an Allow header listing the ones it does."""
    response = client(app_with_views()).request(path, method=method, status=405)
    assert response.headers["Allow"] == allow
    if method != "HEAD":
        assert response.json == {"message": f"{method} request is not allowed for {path}"}


@pytest.mark.exercise("6.2")
@pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")  # an unknown method is the point
@pytest.mark.filterwarnings("ignore::wsgiref.validate.WSGIWarning")
@pytest.mark.parametrize("method", ["SERVICE", "CALLS", "__INIT__", "__CLASS__"])
def test_the_request_method_cannot_reach_other_attributes(client, method):
    """Only HTTP method names are looked up: 'SERVICE' cannot call view.service (405, not 500)."""
    response = client(app_with_views()).request("/products/4", method=method, status=405)
    assert response.headers["Allow"] == "DELETE, GET, HEAD"


@pytest.mark.exercise("6.2")
def test_head_falls_back_to_get_without_a_body(client):
    """HEAD on a view with get but no head runs get and sends its headers, no body."""
    app = client(app_with_views())
    get = app.get("/products/9")
    head = app.head("/products/9")
    assert (head.status_int, head.body) == (200, b"")
    assert head.headers["Content-Length"] == get.headers["Content-Length"]


@pytest.mark.exercise("6.2")
def test_a_view_with_its_own_head_uses_it(client):
    """HEAD on a view that defines head runs head, not get."""
    response = client(app_with_views()).head("/report")
    assert response.headers["X-Handler"] == "head"


@pytest.mark.exercise("6.2")
def test_a_view_on_a_static_path_answers(client):
    """A view on a path without placeholders is found by the exact-match table."""
    response = client(app_with_views()).post("/uploads")
    assert response.json == {"method": "post"}

"""Each flaw of the chapter's code, pinned: it fails on the chapter's code, passes on the stage's.

Every test runs twice: on ``roob_chapter.py`` (the chapter's code rebuilt
from its listings), marked strict xfail, so the test must fail there; and on
the stage under test, where it must pass. A check that stopped catching the
flaw would XPASS on the chapter's code and fail the suite.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import parse
import pytest
from webob import Request, Response

FLAWED = pytest.mark.xfail(strict=True, reason="the chapter's code has this flaw")
CODE = [pytest.param("chapter", marks=FLAWED), "stage"]


@pytest.fixture(params=CODE)
def framework(request, chapter) -> SimpleNamespace:
    """The framework under test: the chapter's or the stage's Roob and middleware."""
    if request.param == "chapter":
        return SimpleNamespace(
            Roob=chapter.Roob, ErrorHandlerMiddleware=chapter.ErrorHandlerMiddleware
        )
    from roob.framework import Roob
    from roob.middlewares import ErrorHandlerMiddleware

    return SimpleNamespace(Roob=Roob, ErrorHandlerMiddleware=ErrorHandlerMiddleware)


@pytest.fixture(params=CODE)
def products(request, chapter, client):
    """The product API under test: the chapter's (fresh lists) or the stage's (fresh database)."""
    if request.param == "chapter":
        return client(chapter.build_product_app())
    return request.getfixturevalue("product_app")


def echo(request: Request, **params: object) -> Response:
    """Answer with the path parameters."""
    return Response(json_body=params)


def app_with_routes(framework, paths: list[str]):
    """Return an app with an echo route per path, registered the chapter's way."""
    app = framework.Roob()
    for path in paths:
        app.route(path)(echo)
    return app


# ── Routing ──────────────────────────────────────────────────────────────────


def test_a_request_compiles_no_pattern(framework, client, monkeypatch):
    """Patterns are compiled at registration; serving a request builds no parse.Parser."""
    app = client(
        app_with_routes(
            framework, ["/api/products", "/api/products/{id:d}", "/api/products/{category}"]
        )
    )
    built = []
    original = parse.Parser.__init__

    def counting_init(self, *args, **kwargs):
        built.append(args[0] if args else kwargs.get("format"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(parse.Parser, "__init__", counting_init)
    app.get("/api/products/7")
    app.get("/api/products/mobile")
    assert built == []


def test_a_lookup_does_not_try_every_route(framework, client, monkeypatch):
    """Among 1,000 routes, a request tries only the patterns on its own path (here: one)."""
    app = client(app_with_routes(framework, [f"/items{number}/{{id:d}}" for number in range(1000)]))
    tried = []
    original = parse.Parser.parse

    def counting_parse(self, string, *args, **kwargs):
        tried.append(string)
        return original(self, string, *args, **kwargs)

    monkeypatch.setattr(parse.Parser, "parse", counting_parse)
    assert app.get("/items999/7").json == {"id": 7}
    assert len(tried) == 1


def test_a_placeholder_matches_one_segment(framework, client):
    """{category} matches one path segment: /api/products/a/b is a 404."""
    app = client(app_with_routes(framework, ["/api/products/{category}"]))
    app.get("/api/products/a/b", status=404)


def test_literal_segments_are_case_sensitive(framework, client):
    """/API/PRODUCTS/1 does not reach /api/products/{id:d}: paths are case-sensitive."""
    app = client(app_with_routes(framework, ["/api/products/{id:d}"]))
    app.get("/API/PRODUCTS/1", status=404)


def test_a_function_route_answers_only_get_by_default(products):
    """POST /api/products/mobile does not run get_products_by_cat: 405."""
    products.post("/api/products/mobile", status=405)


def test_405_has_an_allow_header(products):
    """PUT /api/products: the 405 lists the methods the path answers in Allow."""
    response = products.put("/api/products", status=405)
    assert response.headers["Allow"] == "GET, HEAD, POST"


def test_head_is_served_by_get(products):
    """HEAD /api/products/1 is answered by the view's get, without a body."""
    response = products.head("/api/products/1", status=200)
    assert response.body == b""


@pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")  # the unknown method is the point
@pytest.mark.filterwarnings("ignore::wsgiref.validate.WSGIWarning")
def test_a_request_method_cannot_reach_a_view_attribute(products):
    """SERVICE /api/products is a 405, not a call of the view's self.service (a 500)."""
    products.request("/api/products", method="SERVICE", status=405)


# ── Data ─────────────────────────────────────────────────────────────────────


def test_a_created_product_is_listed(products):
    """A product created by POST /api/products appears in GET /api/products."""
    products.post_json("/api/products", {"id": 5, "product_name": "Galaxy Tab", "brand": "Samsung"})
    listed = products.get("/api/products").json
    ids = [product.get("id") for group in listed.values() for product in group]
    assert 5 in ids


def test_invalid_json_is_400(products):
    """A create with a body that is not JSON is a 400, not a 500."""
    products.post("/api/products", "{not json", content_type="application/json", status=400)


def test_missing_fields_are_400(products):
    """A create without product_name and brand is a 400."""
    products.post_json("/api/products", {"id": 6}, status=400)


def test_a_duplicate_id_is_409(products):
    """A create with a taken id is a 409."""
    products.post_json(
        "/api/products", {"id": 1, "product_name": "Copy", "brand": "Copy"}, status=409
    )


# ── Errors ───────────────────────────────────────────────────────────────────


def test_a_500_body_does_not_show_the_exception(framework, client, caplog):
    """A handler's exception text stays in the log; the 500 body is generic."""
    app = framework.Roob()

    @app.route("/fail")
    def fail(request: Request) -> Response:
        raise ValueError("password=hunter2")

    with caplog.at_level(logging.ERROR):
        response = client(framework.ErrorHandlerMiddleware(app)).get("/fail", status=500)
    assert "hunter2" in caplog.text
    assert "hunter2" not in response.text

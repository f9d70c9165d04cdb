"""The product API in process: the chapter's curl commands, and bad input as 4xx.

Each test runs ``core.main:app`` (the app gunicorn serves) through webtest
with both WSGI linters on, on its own fresh database.
"""

from __future__ import annotations

import json

import pytest

BASE = "http://localhost:8000"

S25 = {"id": 1, "product_name": "S25 Ultra", "brand": "Samsung", "category": "mobile"}
IPHONE = {"id": 2, "product_name": "iPhone", "brand": "Apple", "category": "mobile"}
MACBOOK = {"id": 3, "product_name": "Macbook Pro M4", "brand": "Apple", "category": "laptop"}
XPS = {"id": 4, "product_name": "Dell XPS", "brand": "Dell", "category": "laptop"}
GALAXY_TAB = {"id": 5, "product_name": "Galaxy Tab", "brand": "Samsung"}
GALAXY_TAB_STORED = dict(GALAXY_TAB, category="uncategorized")


# ── "Testing the API": the chapter's curl commands ───────────────────────────


def test_get_all_products_groups_them_by_category(product_app):
    """curl /api/products: every product, grouped by category as the chapter's inventory."""
    response = product_app.get("/api/products")
    assert (response.status_int, response.content_type) == (200, "application/json")
    assert response.json == {"mobile": [S25, IPHONE], "laptop": [MACBOOK, XPS]}


def test_create_a_product_answers_the_list_with_it(product_app):
    """curl -X POST /api/products: the updated product list, with the new product."""
    body = json.dumps(GALAXY_TAB)
    response = product_app.post("/api/products", body, content_type="application/json")
    assert response.status_int == 200
    assert response.json == [S25, IPHONE, MACBOOK, XPS, GALAXY_TAB_STORED]


def test_get_product_by_id_answers_that_product(product_app):
    """curl /api/products/1: that one product."""
    assert product_app.get("/api/products/1").json == S25


def test_delete_product_answers_the_remaining_products(product_app):
    """curl -X DELETE /api/products/2: the remaining products."""
    assert product_app.delete("/api/products/2").json == [S25, MACBOOK, XPS]


def test_get_products_by_category_answers_that_category(product_app):
    """curl /api/products/mobile: the products in that category."""
    assert product_app.get("/api/products/mobile").json == [S25, IPHONE]


def test_unknown_path_is_404(product_app):
    """GET /api/invalid: 404 with the chapter's message."""
    response = product_app.get("/api/invalid", status=404)
    assert response.json == {"message": "Requested path: /api/invalid does not exist"}


def test_put_is_405(product_app):
    """PUT /api/products: 405 with the chapter's message and an Allow header."""
    response = product_app.put("/api/products", status=405)
    assert response.json == {"message": "PUT request is not allowed for /api/products"}
    assert response.headers["Allow"] == "GET, HEAD, POST"


# ── One model: what one request changes, the next one sees ──────────────────


def test_a_created_product_is_everywhere(product_app):
    """After a create, the product is in the list, by id, and in its category."""
    product_app.post_json("/api/products", dict(GALAXY_TAB, category="tablet"))
    stored = dict(GALAXY_TAB, category="tablet")
    assert product_app.get("/api/products").json["tablet"] == [stored]
    assert product_app.get("/api/products/5").json == stored
    assert product_app.get("/api/products/tablet").json == [stored]


def test_a_deleted_product_is_gone_everywhere(product_app):
    """After a delete, the product is missing from the list, by id, and from its category."""
    product_app.delete("/api/products/1")
    assert S25 not in product_app.get("/api/products").json["mobile"]
    assert product_app.get("/api/products/1", status=404).json == {
        "message": "No product found with product id 1"
    }
    assert product_app.get("/api/products/mobile").json == [IPHONE]


def test_an_emptied_category_is_gone(product_app):
    """A category whose last product is deleted no longer exists."""
    product_app.delete("/api/products/3")
    product_app.delete("/api/products/4")
    assert "laptop" not in product_app.get("/api/products").json
    assert product_app.get("/api/products/laptop", status=404).json == {
        "message": "laptop doesn't exist in the inventory"
    }


# ── Bad input: a clear 4xx, never a 500 ──────────────────────────────────────


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Request body is not valid JSON"),
        (b"", "Request body is not valid JSON"),
        (b'{"id": 5, "product_name": "\xff"}', "Request body is not valid JSON"),
        (b"[1, 2]", "A product is a JSON object with id, product_name and brand"),
        (b'{"id": 5}', "Missing required field(s): product_name, brand"),
        (b'{"id": "5", "product_name": "Tab", "brand": "X"}', "id must be a positive integer"),
        (
            b'{"id": 5, "product_name": "Tab", "brand": "X", "colour": "red"}',
            "Unknown field(s): colour",
        ),
    ],
)
def test_bad_product_data_is_400(product_app, body, message):
    """Invalid JSON, a non-object, missing or wrong fields: 400 with a message saying which."""
    response = product_app.post("/api/products", body, content_type="application/json", status=400)
    assert response.json == {"message": message}


def test_a_taken_id_is_409(product_app):
    """Creating a product with an id that exists: 409, and the first product stays."""
    body = json.dumps({"id": 1, "product_name": "Other", "brand": "Other"})
    response = product_app.post("/api/products", body, content_type="application/json", status=409)
    assert response.json == {"message": "A product with product id 1 already exists"}
    assert product_app.get("/api/products/1").json == S25


def test_a_huge_body_is_413(product_app):
    """A body far larger than any product is refused before it is read: 413."""
    body = json.dumps(dict(GALAXY_TAB, product_name="x" * 70_000))
    response = product_app.post("/api/products", body, content_type="application/json", status=413)
    assert response.json == {"message": "Request body is larger than 65536 bytes"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/products/99"),
        ("DELETE", "/api/products/99"),
        ("GET", "/api/products/123456789012345678901234567890"),
    ],
)
def test_an_unknown_id_is_404_with_the_chapter_message(product_app, method, path):
    """GET or DELETE of an id no product has: 404 'No product found with product id N'."""
    response = product_app.request(path, method=method, status=404)
    number = int(path.rsplit("/", 1)[1])
    assert response.json == {"message": f"No product found with product id {number}"}


def test_an_unknown_category_is_404(product_app):
    """A category no product has: 404 with the chapter's message."""
    response = product_app.get("/api/products/tablet", status=404)
    assert response.json == {"message": "tablet doesn't exist in the inventory"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/api/products/mobile", "GET, HEAD"),
        ("DELETE", "/api/products/mobile", "GET, HEAD"),
        ("POST", "/api/products/1", "DELETE, GET, HEAD"),
        ("PATCH", "/api/products", "GET, HEAD, POST"),
    ],
)
def test_a_method_a_route_does_not_answer_is_405(product_app, method, path, allow):
    """Every route answers only its methods: 405 with the ones it does in Allow."""
    response = product_app.request(path, method=method, status=405)
    assert response.headers["Allow"] == allow


def test_head_is_get_without_a_body(product_app):
    """HEAD /api/products/1: GET's status and headers, no body."""
    get = product_app.get("/api/products/1")
    head = product_app.head("/api/products/1")
    assert (head.status_int, head.body) == (200, b"")
    assert head.headers["Content-Length"] == get.headers["Content-Length"]


def test_a_non_utf8_path_is_400(product_app):
    """A path whose escapes are not UTF-8 is a 400, not a 500."""
    response = product_app.get("/api/products/%C3%28", status=400)
    assert response.json == {"message": "Request path is not valid UTF-8"}


def test_a_database_failure_is_a_generic_500(product_app, database, tmp_path, caplog):
    """If the database cannot be opened, the client gets a generic 500 and the log the details."""
    database.path = tmp_path  # a directory: SQLite cannot open it as a database file
    response = product_app.get("/api/products", status=500)
    assert response.json == {"message": "Internal server error"}
    assert "OperationalError" in caplog.text

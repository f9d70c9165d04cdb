"""Bad input of every kind issue 13 names: roob answers a clear 4xx, never a 500.

The kinds met here: an exception other than the one expected reaching the
top (``int()`` of 5,000 digits inside parse, a JSON body Python parses but
SQLite cannot store, a charset no codec knows, nesting too deep).
``test_fuzz.py`` looks for more of each kind.
"""

from __future__ import annotations

from typing import Any

import pytest
from roob.framework import Roob
from webob import Response

PRODUCT = b'{"id": 5, "product_name": "Tab", "brand": "Acme"}'


def test_a_path_value_parse_cannot_convert_is_no_match(client: Any) -> None:
    """{id:d} on 5,000 digits: int() raises ValueError inside parse; the route does not match."""
    app = Roob()

    @app.route("/items/{id:d}")
    def item(request: Any, id: int) -> Response:
        return Response(json_body={"id": id})

    assert client(app).get("/items/" + "1" * 5000, status=404).status_code == 404
    assert client(app).get("/items/7").json == {"id": 7}


def test_the_product_route_with_a_huge_id_falls_through_to_the_category_route(
    product_app: Any,
) -> None:
    """GET /api/products/111...(5,000 digits): not an id, so the {category} route answers (404)."""
    response = product_app.get("/api/products/" + "1" * 5000, status=404)
    assert "doesn't exist" in response.json["message"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": 5, "product_name": "\\ud800", "brand": "Acme"}',  # SQLite cannot store it
        b'{"id": 5, "product_name": "Tab", "brand": "x\\udfffy"}',
        b'{"id": NaN, "product_name": "Tab", "brand": "Acme"}',
        b'{"id": 1e999, "product_name": "Tab", "brand": "Acme"}',
        b"[" * 60_000,  # RecursionError (under 64 KiB)
        b'{"id": ' + b"1" * 5000 + b', "product_name": "Tab", "brand": "Acme"}',
    ],
)
def test_json_that_cannot_be_stored_is_a_400_and_changes_nothing(
    product_app: Any, body: bytes
) -> None:
    """A body Python's json reads but the product store cannot take is the client's error."""
    before = product_app.get("/api/products").json
    response = product_app.post("/api/products", body, content_type="application/json", status=400)
    assert response.json == {"message": "Request body is not valid JSON"}
    assert product_app.get("/api/products").json == before


@pytest.mark.parametrize("charset", ["hex", "nope", "utf-16"])
def test_the_charset_parameter_is_ignored_json_is_utf8(product_app: Any, charset: str) -> None:
    """application/json has no charset (RFC 8259, 11): the body is UTF-8 whatever it says."""
    response = product_app.post(
        "/api/products", PRODUCT, content_type=f"application/json; charset={charset}"
    )
    assert response.status_code == 200

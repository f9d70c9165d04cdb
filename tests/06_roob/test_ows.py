"""Optional whitespace in a field value is SP and HTAB only (RFC 9110 §5.6.3).

roob reads one field value itself: the request's Content-Length, which sizes
the body it reads. webob's ``request.content_length`` is ``int()`` of the
value, and ``int()`` also skips ``"\\xa0"``, ``"\\x85"``, ``"\\x1c"``... and
reads ``"٥"`` and ``"5_0"``: ``roob.bodies.content_length`` takes 1*DIGIT
(§8.6) with SP/HTAB around it, and anything else is a 400. (roob never
compares Content-Type: a product body is read as JSON whatever it says.)
"""

from __future__ import annotations

from typing import Any
from wsgiref.validate import validator

import pytest
from roob.bodies import content_length, read_json
from webob import Request

from workbook.fuzzing import FUZZ_TIMEOUT, NOT_OWS_SPACE, whitespace_properties

pytestmark = FUZZ_TIMEOUT  # no time limit under HYPOTHESIS_PROFILE=long

PRODUCT = b'{"id": 5, "product_name": "Tab", "brand": "Acme"}'


def post(app: Any, length: str, *, lint: bool = True) -> tuple[int, Any]:
    """POST PRODUCT with Content-Length ``length`` as the server passed it; return status and JSON.

    ``lint=False`` for a length wsgiref's validator itself refuses to pass on.
    """
    request = Request.blank(
        "/api/products", method="POST", body=PRODUCT, content_type="application/json"
    )
    request.environ["CONTENT_LENGTH"] = length
    # As from a server: a plain input stream (blank() marks its own as seekable,
    # which the validator's wrapper around it is not).
    del request.environ["webob.is_body_seekable"]
    response = request.get_response(validator(app) if lint else app)
    return response.status_code, response.json


@pytest.fixture
def app(database: Any) -> Any:
    from core.main import app

    return app


def test_ows_around_the_length_is_trimmed(app: Any) -> None:
    """Content-Length: " 50\\t" is 50 bytes: the product is created."""
    status, _ = post(app, f" {len(PRODUCT)}\t")
    assert status == 200


@pytest.mark.parametrize(
    "length",
    [
        *(space + str(len(PRODUCT)) for space in NOT_OWS_SPACE),
        str(len(PRODUCT)) + "\xa0",
        "٥٠",
        "5_0",
        "+50",
        "-1",
        "0x32",
    ],
)
def test_a_length_that_is_not_digits_is_a_400_and_changes_nothing(app: Any, length: str) -> None:
    """Content-Length \\xa050 (or ٥٠, 5_0, +50) is invalid: 400, nothing stored (RFC 9110 §8.6)."""
    before = Request.blank("/api/products").get_response(app).json
    status, body = post(app, length, lint=False)
    after = Request.blank("/api/products").get_response(app).json
    assert (status, "invalid Content-Length" in body["message"], after) == (400, True, before)


def test_read_json_refuses_a_malformed_length_before_reading() -> None:
    """read_json on its own: a ValueError naming the Content-Length, not a short read."""
    request = Request.blank("/", method="POST", body=b"[1]")
    request.environ["CONTENT_LENGTH"] = "\xa03"
    with pytest.raises(ValueError, match="invalid Content-Length"):
        read_json(request)


def reads_as_the_token(field: str, before: str, after: str) -> bool:
    """Return whether a padded Content-Length of 3 is read as 3 (and the body with it)."""
    request = Request.blank("/", method="POST", body=b"[1]")
    request.environ["CONTENT_LENGTH"] = before + "3" + after
    try:
        return (content_length(request), read_json(request)) == (3, [1])
    except ValueError:
        return False


(
    test_property_a_value_padded_with_non_ows_whitespace_is_never_the_token,
    test_property_a_value_padded_with_ows_is_the_token,
) = whitespace_properties(["content-length"], reads_as_the_token, 100)

"""The controller layer: the product API's routes, one thin handler each.

A controller turns a request into a call on the service and the result into
a Response: no SQL here, no HTTP in the service. The decorators run when
this module is imported (by ``core.main``) and register the routes:

    /api/products             ProductCreatController   GET, POST
    /api/products/{id:d}      ProductModifyController  GET, DELETE
    /api/products/{category}  get_products_by_cat      GET

``/api/products/7`` reaches the ``{id:d}`` route and ``/api/products/mobile``
the ``{category}`` one: a placeholder with a type is tried first.
"""

from __future__ import annotations

from roob.bodies import content_length, read_json
from roob.constants import HttpStatus
from webob import Request, Response

from core import app, database
from core.service.product_service import (
    DuplicateProduct,
    InvalidProduct,
    ProductNotFound,
    ProductService,
    not_found,
)

#: A product's JSON is a few dozen bytes; refuse bodies far beyond that
#: before reading them into memory.
MAX_BODY_BYTES = 64 * 1024


def message(text: str, status: HttpStatus) -> Response:
    """Return a JSON ``{"message": text}`` response with ``status``."""
    return Response(json_body={"message": text}, status=status)


@app.route("/api/products")
class ProductCreatController:
    """List every product, or create one."""

    def __init__(self) -> None:
        self.service = ProductService(database)

    def get(self, request: Request) -> Response:
        """Return every product grouped by category."""
        return Response(json_body=self.service.get_all_products())

    def post(self, request: Request) -> Response:
        """Create a product from the JSON body; return every product.

        Bad JSON, bad fields or a bad Content-Length -> 400, a taken id -> 409,
        a huge body -> 413.
        """
        try:
            length = content_length(request)
        except ValueError as error:
            return message(str(error), HttpStatus.BAD_REQUEST)
        if (length or 0) > MAX_BODY_BYTES:
            return message(
                f"Request body is larger than {MAX_BODY_BYTES} bytes", HttpStatus.CONTENT_TOO_LARGE
            )
        try:
            payload = read_json(request)
        except ValueError:  # not UTF-8, not JSON, NaN, too deep, a lone surrogate
            return message("Request body is not valid JSON", HttpStatus.BAD_REQUEST)
        try:
            products = self.service.create_new_product(payload)
        except InvalidProduct as error:
            return message(str(error), HttpStatus.BAD_REQUEST)
        except DuplicateProduct as error:
            return message(str(error), HttpStatus.CONFLICT)
        return Response(json_body=products)


@app.route("/api/products/{id:d}")
class ProductModifyController:
    """Read or delete one product by its id."""

    def __init__(self) -> None:
        self.service = ProductService(database)

    def get(self, request: Request, id: int) -> Response:
        """Return the product with this id, or 404."""
        product = self.service.get_product_by_id(id)
        if not product:
            return message(not_found(id), HttpStatus.NOT_FOUND)
        return Response(json_body=product)

    def delete(self, request: Request, id: int) -> Response:
        """Delete the product with this id and return the rest, or 404."""
        try:
            products = self.service.delete_product_by_id(id)
        except ProductNotFound as error:
            return message(str(error), HttpStatus.NOT_FOUND)
        return Response(json_body=products)


@app.route("/api/products/{category}")
def get_products_by_cat(request: Request, category: str) -> Response:
    """Return the products in a category, or 404 if it has none."""
    products = ProductService(database).get_products_by_category(category)
    if not products:
        return message(f"{category} doesn't exist in the inventory", HttpStatus.NOT_FOUND)
    return Response(json_body=products)

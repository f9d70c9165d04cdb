"""Stage 06's product API on Flask: ``MethodView`` classes over roob's own service.

roob's controllers are classes with ``get`` / ``post`` methods that the
framework picks by the request method; Flask's ``MethodView`` does the
same. Both call the very same ``ProductService`` on the same SQLite
database (stage 06's ``core``), so the two traces differ only in the
framework: ``Flask.wsgi_app`` -> ``full_dispatch_request`` ->
``dispatch_request`` -> ``MethodView.dispatch_request`` -> ``get``.
"""

from __future__ import annotations

from typing import Any

from core import database
from core.service.product_service import ProductService
from flask import Flask, jsonify
from flask.views import MethodView

app = Flask(__name__)


class ProductsView(MethodView):
    """``/api/products``: list every product grouped by category."""

    def __init__(self) -> None:
        self.service = ProductService(database)

    def get(self) -> Any:
        return jsonify(self.service.get_all_products())


app.add_url_rule("/api/products", view_func=ProductsView.as_view("products"))

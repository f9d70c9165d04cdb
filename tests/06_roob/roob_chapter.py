"""The chapter's code, rebuilt from its listings, to show its flaws are real.

Everything the chapter prints is copied as printed (``Roob``,
``RouteManager``, ``RoutingHelper``, ``ErrorHandlerMiddleware``, the three
controllers, ``inventory``). What it does not print is filled in the
simplest way that gives the traces it shows: ``normalize_request_url``, the
``CommonHandlers`` bodies, the ``products`` list and the rest of
``ProductService``. The flaw tests run each check against this code (where
it must fail: strict xfail) and against the stage (where it must pass).

``build_product_app()`` returns a fresh copy each time, so the module-level
lists of the chapter do not leak from one test into the next.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from parse import parse
from webob import Request, Response

logger = logging.getLogger("roob_chapter")


class HttpStatus:
    OK = 200
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    INTERNAL_SERVER_ERROR = 500


def normalize_request_url(url: str) -> str:
    if url != "/" and url.endswith("/"):
        return url[:-1]
    return url


class CommonHandlers:
    @staticmethod
    def url_not_found_handler(request: Request) -> Response:
        return Response(
            json_body={"message": f"Requested path: {request.path} does not exist"},
            status=HttpStatus.NOT_FOUND,
        )

    @staticmethod
    def method_not_allowed_handler(request: Request) -> Response:
        return Response(
            json_body={"message": f"{request.method} request is not allowed for {request.path}"},
            status=HttpStatus.METHOD_NOT_ALLOWED,
        )

    @staticmethod
    def generic_exception_handler(request: Request, exception: Exception) -> Response:
        logger.exception(exception)
        return Response(
            json_body={"message": f"Unhanded Exception Occurred: {exception}"},
            status=HttpStatus.INTERNAL_SERVER_ERROR,
        )


# roob/helpers.py, as printed
class RoutingHelper:
    @classmethod
    def _find_handler(cls, routes: dict, request: Request) -> tuple:
        requested_path = normalize_request_url(request.path)
        if requested_path in routes:
            return routes[requested_path], {}
        for path, handler in routes.items():
            parsed = parse(path, requested_path)
            if parsed:
                return handler, parsed.named
        return CommonHandlers.url_not_found_handler, {}

    @classmethod
    def _find_class_based_handler(cls, handler_class, request: Request, kwargs: dict) -> tuple:
        handler_instance = handler_class()
        method_name = request.method.lower()
        if hasattr(handler_instance, method_name):
            handler_method = getattr(handler_instance, method_name)
            return handler_method, kwargs
        return CommonHandlers.method_not_allowed_handler, {}

    @classmethod
    def get_handler(cls, routes: dict, request: Request) -> tuple:
        handler, kwargs = cls._find_handler(routes, request)
        if inspect.isclass(handler):
            handler, kwargs = cls._find_class_based_handler(handler, request, kwargs)
        return handler, kwargs


# roob/routing_manager.py, as printed
class RouteManager:
    def __init__(self):
        self.routes = {}

    def register(self, path, handler):
        if path in self.routes:
            raise RuntimeError(f"Path: {path} already bind to another handler")
        self.routes[path] = handler

    def dispatch(self, http_request: Request):
        handler, kwargs = RoutingHelper.get_handler(self.routes, http_request)
        return handler(http_request, **kwargs)


# roob/framework.py, as printed
class Roob:
    def __init__(self):
        self.routing_manager = RouteManager()

    def __call__(self, environ, start_response):
        http_request = Request(environ)
        response: Response = self.routing_manager.dispatch(http_request)
        return response(environ, start_response)

    def route(self, path: str):
        def decorator(handler):
            self.routing_manager.register(path, handler)
            return handler

        return decorator


# roob/middlewares.py, as printed
class ErrorHandlerMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception as e:
            request = Request(environ)
            response = CommonHandlers.generic_exception_handler(request, e)
            return response(environ, start_response)


def build_product_app() -> Any:
    """Return the chapter's product API (core/), with fresh module-level data."""
    # core/data.py
    inventory = {
        "mobile": [
            {"product_id": 1, "product_name": "S25 Ultra", "brand": "Samsung"},
            {"product_id": 2, "product_name": "iPhone", "brand": "Apple"},
        ],
        "laptop": [
            {"product_id": 3, "product_name": "Macbook Pro M4", "brand": "Apple"},
            {"product_id": 4, "product_name": "Dell XPS", "brand": "Dell"},
        ],
    }
    # The list the chapter's traces show (Example 2, Complete Example Trace).
    products = [
        {"id": 1, "product_name": "S25 Ultra", "brand": "Samsung"},
        {"id": 2, "product_name": "iPhone", "brand": "Apple"},
    ]

    # core/service/product_service.py
    class ProductService:
        def get_all_products(self) -> list[dict]:
            return inventory

        def get_product_by_id(self, id):
            for product in products:
                if product["id"] == id:
                    return product
            return None

        def create_new_product(self, product):
            products.append(product)
            return products

        def delete_product_by_id(self, id):
            product = self.get_product_by_id(id)
            if not product:
                raise Exception(f"No product found with product id {id}")
            products.remove(product)
            return products

    # core/__init__.py
    app = Roob()
    exception_handler_middleware = ErrorHandlerMiddleware(app=app)

    # core/product_controller.py, as printed
    @app.route("/api/products")
    class ProductCreatController:
        def __init__(self):
            self.service = ProductService()

        def get(self, request: Request) -> Response:
            return Response(json_body=self.service.get_all_products())

        def post(self, request: Request) -> Response:
            products = self.service.create_new_product(request.json)
            return Response(json_body=products)

    @app.route("/api/products/{id:d}")
    class ProductModifyController:
        def __init__(self):
            self.service = ProductService()

        def get(self, request: Request, id: int) -> Response:
            product = self.service.get_product_by_id(id)
            if not product:
                return Response(
                    json_body={"message": f"No product found with product id {id}"},
                    status=HttpStatus.NOT_FOUND,
                )
            return Response(json_body=product)

        def delete(self, request: Request, id: int):
            try:
                products = self.service.delete_product_by_id(id)
                return Response(json_body=products)
            except Exception as e:
                return Response(json_body={"message": str(e)}, status=HttpStatus.NOT_FOUND)

    @app.route("/api/products/{category}")
    def get_products_by_cat(request: Request, category: str) -> Response:
        if category not in inventory:
            return Response(
                json_body={"message": f"{category} doesn't exist in the inventory"},
                status=HttpStatus.NOT_FOUND,
            )
        return Response(json_body=inventory[category])

    # core/main.py: `from core import exception_handler_middleware as app`
    return exception_handler_middleware

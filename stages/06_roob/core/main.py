"""The WSGI entry point: ``gunicorn core.main:app``.

``app`` here is the framework wrapped in the error middleware, the same
object as ``exception_handler_middleware``, so both of the chapter's
commands serve the same application:

    gunicorn core.main:app
    gunicorn -c gunicorn_config.py core.main:exception_handler_middleware

Importing the controllers registers their routes: an import side effect the
chapter relies on, and the reason this module exists.
"""

from __future__ import annotations

import core.product_controller as product_controller
from core import exception_handler_middleware
from core import exception_handler_middleware as app

__all__ = ["app", "exception_handler_middleware", "product_controller"]

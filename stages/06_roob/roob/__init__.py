"""roob: a small layered WSGI framework on webob and parse.

Read the modules in the order a request meets them: ``middlewares``
(errors), ``framework`` (``Roob``), ``routing_manager`` (register and
dispatch), ``helpers`` (the route tree and class-based views),
``common_handlers`` (404 / 405 / 500), ``constants`` (status codes).
"""

from __future__ import annotations

from roob.framework import Roob
from roob.middlewares import ErrorHandlerMiddleware

__all__ = ["ErrorHandlerMiddleware", "Roob"]

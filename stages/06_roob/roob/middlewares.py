"""The middleware layer: a WSGI app that wraps another one.

``ErrorHandlerMiddleware(app)`` is itself a WSGI app: the server calls it,
it calls ``app``, and when ``app`` raises it answers 500 instead.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from webob import Request

from roob.common_handlers import CommonHandlers

if TYPE_CHECKING:
    from rawwsgi.protocol import Environ, ExcInfo, Headers, StartResponse, Write, WSGIApp

logger = logging.getLogger("roob")


class ErrorHandlerMiddleware:
    """Turn an exception from the wrapped app into a logged, generic 500.

    The body says only "Internal server error"; the exception and its
    traceback go to the ``roob`` logger. With ``debug=True`` (never in
    production) the body adds the exception and the traceback too.
    """

    def __init__(self, app: WSGIApp, debug: bool = False) -> None:
        if not callable(app):
            raise TypeError(f"ErrorHandlerMiddleware wraps a WSGI app, got {app!r}")
        self.app = app
        self.debug = debug

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Call the wrapped app; if it raises, log the error and answer 500.

        Errors raised while the server iterates the body are out of reach of
        this ``try``: roob's bodies are lists built before the app returns.
        """
        # EXERCISE 6.3: Turn a handler's exception into a generic 500
        try:
            return self.app(environ, start_response)
        except Exception as exception:
            logger.exception(
                "Unhandled exception while serving %s %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
            )
            error = sys.exc_info()
            response = CommonHandlers.generic_exception_handler(
                Request(environ), exception, debug=self.debug
            )

            def start_error_response(
                status: str, headers: Headers, exc_info: ExcInfo | None = None
            ) -> Write:
                return start_response(status, headers, error)

            return response(environ, start_error_response)
        # END EXERCISE

"""The answers roob gives on its own: 400, 404, 405 and 500, all as JSON.

Each is a handler like any other, ``handler(request, **kwargs) -> Response``,
so the routing layer can hand one back instead of a route's handler and the
dispatch code does not need a special case.
"""

from __future__ import annotations

import traceback

from webob import Request, Response

from roob.constants import HttpStatus

#: The whole body of a 500 outside debug mode: nothing about the failure
#: itself, which may hold file paths, SQL or data that is not the client's.
GENERIC_ERROR_MESSAGE = "Internal server error"


class CommonHandlers:
    """Handlers for requests no route answers, and for failures."""

    @staticmethod
    def url_not_found_handler(request: Request) -> Response:
        """Answer 404 for a path that no route matches."""
        return Response(
            json_body={"message": f"Requested path: {request.path} does not exist"},
            status=HttpStatus.NOT_FOUND,
        )

    @staticmethod
    def method_not_allowed_handler(request: Request, allow: str) -> Response:
        """Answer 405 for a method the route does not answer, with ``Allow``.

        RFC 9110 (section 15.5.6) requires the ``Allow`` header on a 405: it
        tells the client which methods the path does answer.
        """
        response = Response(
            json_body={"message": f"{request.method} request is not allowed for {request.path}"},
            status=HttpStatus.METHOD_NOT_ALLOWED,
        )
        # Set, not passed as headers=...: that would replace the Content-Type.
        response.headers["Allow"] = allow
        return response

    @staticmethod
    def bad_request_handler(request: Request, message: str) -> Response:
        """Answer 400 with a message saying what is wrong with the request."""
        return Response(json_body={"message": message}, status=HttpStatus.BAD_REQUEST)

    @staticmethod
    def generic_exception_handler(
        request: Request, exception: BaseException, debug: bool = False
    ) -> Response:
        """Answer 500 with a generic message; add the details only in debug mode.

        The exception is logged (with its traceback) by the caller, the error
        middleware; the client never sees it unless the app runs with debug on.
        """
        body: dict[str, object] = {"message": GENERIC_ERROR_MESSAGE}
        if debug:
            body["exception"] = f"{type(exception).__name__}: {exception}"
            body["traceback"] = traceback.format_exception(exception)
        return Response(json_body=body, status=HttpStatus.INTERNAL_SERVER_ERROR)

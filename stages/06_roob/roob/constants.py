"""Status codes and method names the framework and the sample app use."""

from __future__ import annotations

from enum import IntEnum


class HttpStatus(IntEnum):
    """The HTTP status codes roob answers with, by name.

    An ``IntEnum`` is an ``int``, so webob takes it as it is:
    ``Response(status=HttpStatus.NOT_FOUND)`` sends ``404 Not Found``. The
    standard library's ``http.HTTPStatus`` lists every code; this is the
    handful a reader meets in this chapter.
    """

    OK = 200
    BAD_REQUEST = 400
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    CONFLICT = 409
    CONTENT_TOO_LARGE = 413
    INTERNAL_SERVER_ERROR = 500


#: The methods a class-based view may answer, each by the method of the same
#: name in lower case (``GET`` -> ``get``). Nothing else on the class is ever
#: looked up from the request line, so ``FOO /path`` cannot reach ``self.foo``.
HTTP_METHODS: tuple[str, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

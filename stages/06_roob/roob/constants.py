"""Status codes, method names and the token rule the framework and the sample app use."""

from __future__ import annotations

import re
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

#: token (RFC 9110 §5.6.2): a method name is one (§9.1). Stage 01 has the same
#: rule (rawwsgi.http11.TOKEN, is_token); roob stands alone on webob and parse,
#: so it is written again, the same way.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_token(text: str) -> bool:
    """Return whether ``text`` is a token (RFC 9110 §5.6.2): "GET" yes, "GET /" no."""
    return TOKEN.fullmatch(text) is not None

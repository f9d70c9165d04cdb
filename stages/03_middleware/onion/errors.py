"""Error handling: an exception in the app becomes a 500, logged, with a plain body.

Two moments an app can fail, and PEP 3333 has one answer for both:

* while it is being called (before it returns its body): nothing has been
  sent, so answer 500 instead;
* while its body is being iterated: maybe the server has already sent the
  status line and headers, maybe not (it sends them with the first
  non-empty chunk). The middleware cannot know, so it asks the server:
  it calls ``start_response`` again *with* ``exc_info``. If the headers
  are still unsent, the server replaces them with the 500's; if they are
  out, ``start_response`` re-raises the exception, which travels up to the
  server, and the server cuts the connection (the client sees a truncated
  response, which is the only honest thing left to do).

The body of a 500 is a generic sentence: the exception's text can hold
secrets (a SQL query, a path, a key). The traceback goes to the log, and to
the client only in debug mode.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable, Iterator

from rawwsgi.protocol import Environ, ExcInfo, Headers, StartResponse, WSGIApp

from onion.access_log import logged_path
from onion.closing import ClosingIterator

STATUS = "500 Internal Server Error"
MESSAGE = "Internal Server Error\n"


class ErrorHandler:
    """Turn an exception from the app into a logged 500, before or during the body."""

    def __init__(
        self, app: WSGIApp, *, debug: bool = False, logger: logging.Logger | None = None
    ) -> None:
        self.app = app
        self.debug = debug
        self.logger = logger

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Call the app; if it raises, now or while its body is sent, answer 500."""
        # EXERCISE 3.3: Turn exceptions into a 500, with exc_info
        try:
            body = self.app(environ, start_response)
        except Exception:
            status, headers, page = self.error_response(environ, sys.exc_info())
            start_response(status, headers, sys.exc_info())
            return [page]

        def guarded() -> Iterator[bytes]:
            try:
                # Not `yield from body`: that would close the body when this generator is
                # closed, and the ClosingIterator closes it too. Each close() runs once.
                for chunk in body:  # noqa: UP028
                    yield chunk
            except Exception:
                status, headers, page = self.error_response(environ, sys.exc_info())
                # If the headers are already out, this re-raises (PEP 3333).
                start_response(status, headers, sys.exc_info())
                yield page

        return ClosingIterator(guarded(), inner=body)
        # END EXERCISE

    def error_response(self, environ: Environ, exc_info: ExcInfo) -> tuple[str, Headers, bytes]:
        """Log the exception; return the 500's status, headers and body."""
        details = "".join(traceback.format_exception(exc_info[1]))
        summary = f"500 for {environ.get('REQUEST_METHOD', '-')} {logged_path(environ)}"
        if self.logger is not None:
            self.logger.error(summary, exc_info=exc_info)
        else:
            errors = environ["wsgi.errors"]
            errors.write(f"{summary}\n{details}")
            errors.flush()
        text = f"{MESSAGE}\n{details}" if self.debug else MESSAGE
        page = text.encode("utf-8")
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(page))),
        ]
        return STATUS, headers, page

"""Access log: one line per request, written when its response is finished.

    GET /books 200 246B 1.3ms id=5f0c...

The line is written when the server closes the response (PEP 3333 makes it
call ``close()`` once the body is sent, or given up on), because only then
are the bytes counted and the time known. That is the first subtlety this
middleware shows: it must *wrap* the body to count it and to be told of the
end, and pass ``close()`` on to the app's own body (``ClosingIterator``).
The second is wrapping ``start_response`` to see the status: the wrapper
takes ``exc_info`` and passes it on, untouched.

By default the line goes to ``wsgi.errors``, the error stream PEP 3333 gives
every app (the server's stderr, or gunicorn's error log); give ``logger=``
to use the ``logging`` module instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from rawwsgi.protocol import Environ, ExcInfo, Headers, StartResponse, Write, WSGIApp

from onion.closing import ClosingIterator

# Characters a path keeps in the log; anything else (a CR or LF from %0D%0A above
# all, which would forge log lines) is percent-encoded.
PATH_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass
class Exchange:
    """What one request's response did, as the access log sees it."""

    status: str = "-"
    sent: int = 0
    aborted: bool = False


def logged_path(environ: Environ) -> str:
    """Return the request path as it was on the wire, safe to put on one log line."""
    raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    return quote(raw, safe=PATH_SAFE) or "/"


class AccessLog:
    """Log method, path, status, bytes and milliseconds once the response is done."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.app = app
        self.logger = logger
        self.clock = clock

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Pass the request on; count the response; log it when it is closed."""
        # EXERCISE 3.2: Log a response once it is finished
        started = self.clock()
        exchange = Exchange()

        def logging_start_response(
            status: str, headers: Headers, exc_info: ExcInfo | None = None
        ) -> Write:
            write = start_response(status, headers, exc_info)
            # Noted only once the server took it: with exc_info, a server that has already
            # sent the headers re-raises instead, and the status sent is still the old one.
            exchange.status = status[:3]

            def counting_write(data: bytes) -> object:
                exchange.sent += len(data)
                return write(data)

            return counting_write

        def finish() -> None:
            self.log(environ, exchange, (self.clock() - started) * 1000)

        try:
            body = self.app(environ, logging_start_response)
        except BaseException:
            exchange.aborted = True
            finish()
            raise

        def counted() -> Iterator[bytes]:
            try:
                for chunk in body:
                    exchange.sent += len(chunk)
                    yield chunk
            except Exception:
                exchange.aborted = True
                raise

        return ClosingIterator(counted(), inner=body, on_close=finish)
        # END EXERCISE

    def log(self, environ: Environ, exchange: Exchange, milliseconds: float) -> None:
        """Write the line: ``GET /books 200 246B 1.3ms [id=...] [aborted]``."""
        line = (
            f"{environ.get('REQUEST_METHOD', '-')} {logged_path(environ)} "
            f"{exchange.status} {exchange.sent}B {milliseconds:.1f}ms"
        )
        request_id = environ.get("onion.request_id")
        if request_id:
            line += f" id={request_id}"
        if exchange.aborted:
            line += " aborted"
        if self.logger is not None:
            self.logger.info(line)
        else:
            errors = environ["wsgi.errors"]
            errors.write(line + "\n")
            errors.flush()

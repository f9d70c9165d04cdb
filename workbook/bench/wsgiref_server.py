"""Serve a WSGI app on ``wsgiref.simple_server``, the standard library's reference server.

``python -m workbook.bench.wsgiref_server MODULE:APP --host H --port P``

The one change from ``make_server``'s defaults: the handler does not print
a line per request, because no other server in the benchmark logs access
either. Everything else is as shipped: one thread, HTTP/1.0, a new
connection for every request.
"""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING, cast
from wsgiref.simple_server import WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication


class QuietHandler(WSGIRequestHandler):
    """wsgiref's handler without the access log line."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def load(spec: str) -> object:
    """Import ``"package.module:name"`` and return the named object."""
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"expected MODULE:APP, got {spec!r}")
    return getattr(importlib.import_module(module_name), attribute)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbook.bench.wsgiref_server")
    parser.add_argument("app", help="MODULE:APP")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args(argv)
    # cast: the command line names a WSGI app; nothing can check that before a request.
    app = cast("WSGIApplication", load(options.app))
    with make_server(options.host, options.port, app, handler_class=QuietHandler) as server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

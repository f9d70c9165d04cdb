"""The benchmark app on stage 02's router inside stage 03's onion: six layers of middleware.

The layers are those of ``onion.example``, outermost first: access log,
request id, error handler, CORS, gzip, basic auth. Each one wraps
``start_response`` or the body (or both) on every request, so the gap
between this target and the bare stage 02 router is the price of the onion.

The access log formats its line but hands it to a logger that is off: no
server in the benchmark writes an access log, so none pays for the I/O.
"""

from __future__ import annotations

import logging
from functools import partial

from onion import CORS, AccessLog, BasicAuth, ErrorHandler, Gzip, RequestID, build

from workbook.bench.apps.wsgirouter_app import build as build_router

QUIET = logging.getLogger("workbook.bench.access")
QUIET.setLevel(logging.WARNING)
QUIET.propagate = False

app = build(
    build_router(),
    partial(AccessLog, logger=QUIET),
    RequestID,
    ErrorHandler,
    partial(CORS, allow_origins=["http://localhost:3000"]),
    partial(Gzip, minimum_size=200),
    partial(BasicAuth, users={"admin": "secret"}, exempt_methods=("GET", "HEAD", "OPTIONS")),
)

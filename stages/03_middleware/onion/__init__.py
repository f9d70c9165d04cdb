"""onion: WSGI middleware, one layer per module, and ``build`` to stack them.

Every layer is a WSGI app that wraps a WSGI app: ``Layer(app, **options)``
is itself called as ``layer(environ, start_response)``.
"""

from __future__ import annotations

from onion.access_log import AccessLog
from onion.basic_auth import BasicAuth
from onion.closing import ClosingIterator
from onion.compose import build, layers
from onion.cors import CORS
from onion.errors import ErrorHandler
from onion.gzip import Gzip
from onion.request_id import RequestID

__all__ = [
    "CORS",
    "AccessLog",
    "BasicAuth",
    "ClosingIterator",
    "ErrorHandler",
    "Gzip",
    "RequestID",
    "build",
    "layers",
]

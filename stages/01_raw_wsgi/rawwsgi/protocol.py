"""The WSGI protocol (PEP 3333), written down once as type names.

Every WSGI piece in stages 01-03 (apps, servers, routers, middleware) is
typed with these names, so a learner can read any signature as a sentence
of the protocol: an app takes an ``Environ`` and a ``StartResponse`` and
returns an iterable of bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Protocol, TypeAlias

#: The request, as a dict of CGI-style keys plus the ``wsgi.*`` keys.
Environ: TypeAlias = dict[str, Any]

#: Response headers: a list of (name, value) pairs, repeats allowed.
Headers: TypeAlias = list[tuple[str, str]]

#: What ``sys.exc_info()`` returns, passed to ``start_response`` on errors
#: (PEP 3333, "The start_response() Callable"). Outside an ``except`` block it
#: is ``(None, None, None)``; the stdlib's ``wsgiref.types.StartResponse`` takes
#: both shapes, so a callable typed with these names is one to wsgiref and webob.
ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
)

#: The legacy ``write(data)`` callable that ``start_response`` returns.
Write: TypeAlias = Callable[[bytes], object]


class StartResponse(Protocol):
    """The server's callable that receives the status line and headers."""

    def __call__(
        self, status: str, headers: Headers, exc_info: ExcInfo | None = None, /
    ) -> Write: ...


#: A WSGI application: ``app(environ, start_response) -> iterable of bytes``.
WSGIApp: TypeAlias = Callable[[Environ, StartResponse], Iterable[bytes]]

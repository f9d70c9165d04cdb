"""ASGI middleware: apps that wrap an app, and wrap ``receive`` and ``send`` on the way.

In stage 03 a WSGI middleware saw the response by wrapping ``start_response``
and the body iterable. In ASGI there is one uniform trick for both
directions: pass the inner app a *wrapped* ``receive`` (to see or change
what comes in) and a wrapped ``send`` (to see or change what goes out).

- ``access_log.AccessLog`` wraps ``send`` to learn the status and size.
- ``errors.ServerErrors`` wraps ``send`` to know whether a 500 can still be sent.
- ``body_limit.BodyLimit`` wraps ``receive`` to stop an oversized body with 413.
- The last two share one wrapped ``send``, from the mixin
  ``response_started.RemembersResponseStart``: it remembers whether
  ``http.response.start`` went out (then no 500 or 413 can be sent any more).

Every middleware has the same shape: ``__init__(self, app, **options)`` and
``async __call__(self, scope, receive, send)``.
"""

from rawasgi.middleware.access_log import AccessLog
from rawasgi.middleware.body_limit import BodyLimit
from rawasgi.middleware.errors import ServerErrors

__all__ = ["AccessLog", "BodyLimit", "ServerErrors"]

"""Small functions on WSGI header lists: ``[(name, value), ...]``, names ignoring case.

Middleware edits the headers an app passed to ``start_response`` before
passing them on. The list is the app's: these functions return new lists
and never change the one they are given.
"""

from __future__ import annotations

from rawwsgi.http11 import list_elements
from rawwsgi.protocol import Headers


def header_value(headers: Headers, name: str) -> str | None:
    """Return the first value of header ``name``, or None."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def without(headers: Headers, *names: str) -> Headers:
    """Return the headers minus every line called one of ``names``."""
    unwanted = {name.lower() for name in names}
    return [(key, value) for key, value in headers if key.lower() not in unwanted]


def replaced(headers: Headers, name: str, value: str) -> Headers:
    """Return the headers with one ``name: value`` line in place of any others."""
    return [*without(headers, name), (name, value)]


def add_vary(headers: Headers, field: str) -> Headers:
    """Return the headers with ``field`` listed in ``Vary`` (once; ``*`` covers all).

    >>> add_vary([("Vary", "Origin")], "Accept-Encoding")
    [('Vary', 'Origin, Accept-Encoding')]
    """
    current = header_value(headers, "Vary")
    if current is None:
        return [*headers, ("Vary", field)]
    listed = {item.lower() for item in list_elements(current)}  # OWS only: RFC 9110 §5.6.1
    if field.lower() in listed or "*" in listed:
        return list(headers)
    return replaced(headers, "Vary", f"{current}, {field}")

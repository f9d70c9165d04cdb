"""Request bodies: JSON read strictly, so a bad body is a 400 and never a 500.

webob's ``request.json`` is ``json.loads(body.decode(request.charset))``,
which lets four kinds of client input escape as exceptions other than the
``ValueError`` a handler expects: a ``charset`` no codec knows
(``LookupError``), nesting deep enough to exhaust the parser's recursion
(``RecursionError``), and values that parse but cannot be stored or sent
back: ``NaN`` / ``Infinity`` / ``1e999`` (not JSON numbers, RFC 8259
section 6) and strings with a lone surrogate (``"\\ud800"``, section 8.2:
SQLite's driver cannot encode them). ``read_json`` turns all of them into
one ``ValueError`` with a message for the client.

roob stands on webob and parse alone (it imports no other stage), so this
is stage 02's ``parse_json`` rule written again, in roob's terms.
"""

from __future__ import annotations

import json
import math
from typing import Any

from webob import Request

__all__ = ["read_json"]


def refuse_constant(name: str) -> Any:
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity``, which Python's json accepts."""
    raise ValueError(f"{name} is not a JSON number")


def finite_float(text: str) -> float:
    """Parse a JSON number with a fraction or exponent; refuse one past a float's range."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def refuse_lone_surrogates(value: Any) -> None:
    """Raise ValueError if any string in ``value`` (keys too) is not valid Unicode text."""
    pending = [value]
    while pending:  # a loop, not recursion: the value may be nested deeply
        item = pending.pop()
        if isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("a string holds a lone surrogate") from None


def read_json(request: Request) -> Any:
    """Return the request body parsed as JSON, or raise ValueError saying why not.

    The body is decoded as UTF-8 whatever ``charset`` the Content-Type
    names: JSON on the wire is UTF-8 (RFC 8259, section 8.1), and
    ``application/json`` defines no charset parameter (section 11).
    """
    # NOTE: ``request.body`` would copy a body past 10 KiB into a temporary
    # file left open until the garbage collector finds it; ``body_file`` reads
    # the input once, at most Content-Length bytes, and keeps nothing open.
    body = request.body if request.is_body_seekable else request.body_file.read()
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=refuse_constant, parse_float=finite_float)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    if "\\u" in text:  # only an escape can put a surrogate in text decoded from UTF-8
        refuse_lone_surrogates(value)
    return value

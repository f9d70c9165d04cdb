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

``Content-Length`` is read strictly too (``content_length``): webob's
``request.content_length`` is ``int()`` of the value, which also takes
``"\xa05"``, ``"٥"`` and ``"5_0"``, so a body could be read to a length no
proxy in front would agree on. RFC 9110 §8.6 says 1*DIGIT; OWS around it
is SP and HTAB only (§5.6.3).

roob stands on webob and parse alone (it imports no other stage), so this
is stage 02's ``parse_json`` rule written again, in roob's terms.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from webob import Request

__all__ = ["content_length", "read_json"]

#: OWS = *( SP / HTAB ) (RFC 9110 §5.6.3): the only whitespace around a field
#: value. Never str.strip() without arguments: on latin-1 header text it also
#: removes "\xa0", "\x85", "\x1c"... roob stands alone (stage 01 has the same
#: constant as rawwsgi.http11.OWS), so it is written again here.
OWS = " \t"
#: Content-Length = 1*DIGIT (RFC 9110 §8.6), ASCII digits only.
_DIGITS = re.compile(r"[0-9]+")


def content_length(request: Request) -> int | None:
    """Return the request's Content-Length in bytes, None if absent; ValueError if malformed.

    ``"42"`` -> 42 and ``" 42\t"`` -> 42 (OWS trimmed), but ``"\xa042"``,
    ``"٤٢"``, ``"4_2"``, ``"+42"`` and ``"-1"`` raise ValueError: they are
    not 1*DIGIT (RFC 9110 §8.6), whatever Python's ``int()`` makes of them.
    """
    value = request.environ.get("CONTENT_LENGTH", "")
    if value == "":  # PEP 3333: empty or absent when the request has none
        return None
    digits = value.strip(OWS)
    if _DIGITS.fullmatch(digits) is None:
        raise ValueError(f"invalid Content-Length {value[:20]!r}: not a number of bytes")
    return int(digits)


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
    ``application/json`` defines no charset parameter (section 11). A
    malformed Content-Length is a ValueError before a byte is read.
    """
    content_length(request)
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

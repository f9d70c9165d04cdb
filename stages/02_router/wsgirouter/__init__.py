"""wsgirouter: stage 02's Request, Response and Router, on stage 01's WSGI types.

``wsgirouter.trie`` is the router's I/O-free core (patterns, converters, the
trie); ``request``, ``response`` and ``router`` are the WSGI layer on top.
The names below are loaded on first use (PEP 562's module ``__getattr__``),
so ``import wsgirouter.trie``, what stage 04 does, loads the core alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # What a type checker sees (`X as X`: re-exported); at run time, __getattr__
    # below loads each name on first use.
    from wsgirouter.request import QueryParams as QueryParams
    from wsgirouter.request import Request as Request
    from wsgirouter.request import RequestHeaders as RequestHeaders
    from wsgirouter.response import HTTPError as HTTPError
    from wsgirouter.response import Response as Response
    from wsgirouter.router import Router as Router
    from wsgirouter.trie import Converter as Converter
    from wsgirouter.trie import Lookup as Lookup
    from wsgirouter.trie import Match as Match
    from wsgirouter.trie import PathIndex as PathIndex
    from wsgirouter.trie import Route as Route
    from wsgirouter.trie import parse_pattern as parse_pattern

#: Each public name, and the module that defines it.
_EXPORTS = {
    "QueryParams": "request",
    "Request": "request",
    "RequestHeaders": "request",
    "HTTPError": "response",
    "Response": "response",
    "Router": "router",
    "Converter": "trie",
    "Lookup": "trie",
    "Match": "trie",
    "PathIndex": "trie",
    "Route": "trie",
    "parse_pattern": "trie",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` when it is first asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wsgirouter' has no attribute {name!r}")
    return getattr(importlib.import_module(f"wsgirouter.{module}"), name)

"""wsgirouter: stage 02's Request, Response and Router, on stage 01's WSGI types."""

from __future__ import annotations

from wsgirouter.request import QueryParams, Request, RequestHeaders
from wsgirouter.response import HTTPError, Response
from wsgirouter.router import Converter, Lookup, Match, Route, Router, parse_pattern

__all__ = [
    "Converter", "HTTPError", "Lookup", "Match", "QueryParams", "Request", "RequestHeaders",
    "Response", "Route", "Router", "parse_pattern",
]

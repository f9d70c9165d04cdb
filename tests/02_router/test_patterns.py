"""Patterns and converters: what a route pattern compiles to, and what it refuses."""

from __future__ import annotations

import pytest
from wsgirouter.router import CONVERTERS, Placeholder, Static, parse_pattern

INT, SLUG, STR, PATH = (CONVERTERS[name] for name in ("int", "slug", "str", "path"))


@pytest.mark.parametrize(
    ("pattern", "segments"),
    [
        ("/", (Static(""),)),
        ("/books", (Static("books"),)),
        ("/books/", (Static("books"), Static(""))),
        ("/books/{id:int}", (Static("books"), Placeholder("id", INT))),
        ("/users/{name}", (Static("users"), Placeholder("name", STR))),
        ("/posts/{slug:slug}/edit", (Static("posts"), Placeholder("slug", SLUG), Static("edit"))),
        ("/files/{rest:path}", (Static("files"), Placeholder("rest", PATH))),
        ("/café/{x}", (Static("café"), Placeholder("x", STR))),
    ],
)
def test_pattern_compiles_to_segments(pattern: str, segments: tuple[object, ...]) -> None:
    """A pattern becomes one Static or Placeholder per path segment."""
    assert parse_pattern(pattern) == segments


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("books", "starts with '/'"),
        ("", "starts with '/'"),
        ("/a//b", "empty segment"),
        ("/file-{id}", "whole segment"),
        ("/{id}.json", "whole segment"),
        ("/{a:int", "whole segment"),
        ("/{id}/{id}", "appears twice"),
        ("/{1x}", "not an identifier"),
        ("/{}", "not an identifier"),
        ("/{x:float}", "unknown converter 'float'"),
        ("/{rest:path}/edit", "must be the last segment"),
    ],
)
def test_bad_pattern_is_refused_at_registration(pattern: str, reason: str) -> None:
    """An ambiguous or malformed pattern is a ValueError that says why."""
    with pytest.raises(ValueError, match=reason):
        parse_pattern(pattern)


@pytest.mark.parametrize(
    ("converter", "segment", "value"),
    [
        (INT, "42", 42),
        (INT, "007", 7),
        (INT, "0", 0),
        (SLUG, "hello-world_2", "hello-world_2"),
        (STR, "any thing, really", "any thing, really"),
        (STR, "crème", "crème"),
        (PATH, "a/b/c.txt", "a/b/c.txt"),
    ],
)
def test_converter_accepts_and_types_its_segment(
    converter: object, segment: str, value: object
) -> None:
    """A converter turns the segments it accepts into typed values."""
    assert converter.to_python(segment) == value  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("converter", "segment"),
    [
        (INT, "abc"),
        (INT, "-1"),
        (INT, "+1"),
        (INT, " 1"),
        (INT, "1e3"),
        (INT, "\u0661\u0662"),  # Arabic-Indic digits: isdigit() says yes, a URL says no
        (INT, "9" * 5000),  # int() refuses numbers this long: a 404, not a 500
        (INT, ""),
        (SLUG, "héllo"),
        (SLUG, "a.b"),
        (SLUG, ""),
        (STR, ""),
        (PATH, ""),
    ],
)
def test_converter_refuses_with_value_error(converter: object, segment: str) -> None:
    """A segment a converter does not accept raises ValueError (the route does not match)."""
    with pytest.raises(ValueError):
        converter.to_python(segment)  # type: ignore[attr-defined]

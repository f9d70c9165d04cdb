"""Optional whitespace in a field value is SP and HTAB only (RFC 9110 §5.6.3).

The fault kind: ``str.strip()`` on latin-1 header text also removes
``"\\xa0"``, ``"\\x85"``, ``"\\x1c"``..., so ``"\\xa0application/json"``
passed for ``application/json``. Stage 02 trims with stage 01's
``rawwsgi.http11.OWS`` (one definition, DESIGN.md rule 8).
"""

from __future__ import annotations

import pytest
from stage02_helpers import call, make_environ
from wsgirouter.example import create_app
from wsgirouter.request import Request

from workbook.fuzzing import FUZZ_TIMEOUT, NOT_OWS_SPACE, whitespace_properties

pytestmark = FUZZ_TIMEOUT  # no time limit under HYPOTHESIS_PROFILE=long

BOOK = b'{"title": "Dune", "author": "Frank Herbert"}'


def post_book(content_type: str) -> int:
    reply = call(
        create_app(), "POST", "/books", headers=[("Content-Type", content_type)], body=BOOK
    )
    return reply.status


def media_type(content_type: str) -> str:
    return Request(make_environ(headers=[("Content-Type", content_type)])).content_type


def test_sp_and_htab_around_the_media_type_are_trimmed() -> None:
    """' application/json\\t; charset=utf-8' is JSON: OWS is SP and HTAB (§5.6.3)."""
    assert (media_type(" Application/JSON\t; charset=utf-8"), post_book(" application/json\t")) == (
        "application/json",
        201,
    )


@pytest.mark.parametrize("space", NOT_OWS_SPACE)
def test_other_whitespace_before_the_media_type_is_not_json(space: str) -> None:
    """Content-Type: \\xa0application/json is no JSON type: 415, as any unknown type."""
    assert (media_type(space + "application/json"), post_book(space + "application/json")) == (
        space + "application/json",
        415,
    )


def reads_as_the_token(field: str, before: str, after: str) -> bool:
    """Return whether the padded Content-Type is read as application/json."""
    return media_type(before + "application/json" + after) == "application/json"


(
    test_property_a_value_padded_with_non_ows_whitespace_is_never_the_token,
    test_property_a_value_padded_with_ows_is_the_token,
) = whitespace_properties(["content-type"], reads_as_the_token, 100)

"""Optional whitespace in a field value is SP and HTAB only (RFC 9110 §5.6.3).

The fault kind: ``str.strip()`` and ``str.split()`` on latin-1 header text
also remove ``"\\xa0"``, ``"\\x85"``, ``"\\x1c"``..., so ``"\\xa0gzip"`` passed
for gzip and ``"\\xa0Basic ..."`` for Basic credentials. Every layer that
reads a field value (Authorization, Accept-Encoding, Access-Control-Request-
Headers, Vary, the response's Content-Type) splits and trims with stage 01's
``rawwsgi.http11.OWS`` and ``list_elements`` (DESIGN.md rule 8).
"""

from __future__ import annotations

import base64
from functools import partial

import pytest
from onion.basic_auth import BasicAuth
from onion.cors import CORS
from onion.gzip import accepts_gzip, is_compressible
from onion.headers import add_vary
from stage02_helpers import call
from stage03_helpers import Recorder, sandwich

from workbook.fuzzing import FUZZ_TIMEOUT, NOT_OWS_SPACE, whitespace_properties

pytestmark = FUZZ_TIMEOUT  # no time limit under HYPOTHESIS_PROFILE=long

TOKEN = base64.b64encode(b"admin:secret").decode()
FRONTEND = "http://localhost:3000"


def authorized(authorization: str) -> int:
    app = sandwich(partial(BasicAuth, users={"admin": "secret"}, realm="books"), Recorder())
    return call(app, headers=[("Authorization", authorization)]).status


def preflight(requested: str) -> int:
    app = sandwich(partial(CORS, allow_origins=[FRONTEND], allow_headers=["X-Token"]), Recorder())
    return call(
        app,
        "OPTIONS",
        "/",
        headers=[
            ("Origin", FRONTEND),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", requested),
        ],
    ).status


# ── One test per field: SP/HTAB are trimmed, "\xa0" is not ───────────────────


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("gzip", True),
        (" gzip\t", True),
        ("br ,\tgzip ; q=0.5", True),
        ("\xa0gzip", False),
        ("gzip\x85", False),
        ("br,\x1cgzip", False),
        ("\xa0*", False),
        ("gzip;q=\xa01", False),
        ("gzip;q=1_0", False),
        ("gzip;q=0.0001", False),
    ],
)
def test_accept_encoding_is_split_on_ows_only(value: str, accepted: bool) -> None:
    """Accept-Encoding: \\xa0gzip names no coding we know; a q that is not a qvalue is 0."""
    assert accepts_gzip(value) is accepted


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (f"Basic {TOKEN}", 200),
        (f" Basic  {TOKEN}\t", 200),
        (f"\xa0Basic {TOKEN}", 401),
        (f"Basic \xa0{TOKEN}", 401),
        (f"Basic\xa0{TOKEN}", 401),
        (f"\x85Basic {TOKEN}", 401),
        (f"Basic {TOKEN}\x0b", 401),
    ],
)
def test_authorization_with_other_whitespace_is_refused(authorization: str, status: int) -> None:
    """Authorization: \\xa0Basic ... is no Basic credentials: 401 (RFC 9110 §11.4, RFC 7617 §2)."""
    assert authorized(authorization) == status


@pytest.mark.parametrize(
    ("requested", "status"),
    [
        ("x-token", 200),
        (" X-Token ,\t", 200),
        ("\xa0x-token", 403),
        ("x-token\x85", 403),
    ],
)
def test_preflight_header_names_are_split_on_ows_only(requested: str, status: int) -> None:
    """Access-Control-Request-Headers: \\xa0x-token names no allowed header: 403."""
    assert preflight(requested) == status


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        ("Origin, Accept-Encoding", "Origin, Accept-Encoding"),
        ("Origin,\taccept-encoding ", "Origin,\taccept-encoding "),
        ("Origin, \xa0Accept-Encoding", "Origin, \xa0Accept-Encoding, Accept-Encoding"),
    ],
)
def test_vary_is_split_on_ows_only(vary: str, expected: str) -> None:
    """A Vary element "\\xa0Accept-Encoding" is not Accept-Encoding: the field is added."""
    assert add_vary([("Vary", vary)], "Accept-Encoding") == [("Vary", expected)]


@pytest.mark.parametrize("space", NOT_OWS_SPACE)
def test_a_content_type_after_other_whitespace_is_not_compressible(space: str) -> None:
    """The response's Content-Type: \\xa0text/plain is not text/plain (RFC 9110 §8.3.1)."""
    assert (is_compressible(" text/plain\t"), is_compressible(space + "text/plain")) == (
        True,
        False,
    )


# ── Properties: any non-OWS pad changes the token, any OWS pad does not ──────

FIELDS = ["accept-encoding", "authorization", "request-headers", "vary"]


def reads_as_the_token(field: str, before: str, after: str) -> bool:
    """Return whether the padded value is read as the bare token, for one field."""
    if field == "accept-encoding":
        return accepts_gzip(before + "gzip" + after)
    if field == "authorization":
        return authorized(f"{before}Basic {TOKEN}{after}") == 200
    if field == "request-headers":
        return preflight(before + "x-token" + after) == 200
    return add_vary([("Vary", before + "Accept-Encoding" + after)], "Accept-Encoding") == [
        ("Vary", before + "Accept-Encoding" + after)
    ]


(
    test_property_a_value_padded_with_non_ows_whitespace_is_never_the_token,
    test_property_a_value_padded_with_ows_is_the_token,
) = whitespace_properties(FIELDS, reads_as_the_token)


def test_the_property_fields_reach_their_layers() -> None:
    """A guard for the properties: a wrong value is refused by each layer they use."""
    assert (accepts_gzip("br"), authorized("Basic x"), preflight("x-other")) == (False, 401, 403)

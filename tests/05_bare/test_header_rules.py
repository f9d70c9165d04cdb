"""bare's token and field-value rules decide exactly like stage 01's.

The fault kind: one idea written twice drifts. bare stands alone, so it
writes the token rule (RFC 9110 §5.6.2) and the field-value rule (§5.5)
again; its value rule used to refuse CR, LF and NUL only, while stages
01-03 refuse every control but HTAB. Stage 01's rules are the oracle here,
and h11 (a mature implementation) the oracle for tokens.
"""

from __future__ import annotations

import bare
import h11
import pytest
from bare import RedirectResponse, Response
from hypothesis import given
from hypothesis import strategies as st
from rawwsgi import http11

from workbook.fuzzing import FUZZ_TIMEOUT, fuzz_settings

pytestmark = FUZZ_TIMEOUT  # no time limit under HYPOTHESIS_PROFILE=long

#: Short latin-1 texts, weighted towards the characters the rules are about.
LATIN1 = st.text(
    st.one_of(
        st.sampled_from("!#$%&'*+-.^_`|~ \t:;,\"()/@[]{}=?\\"),
        st.characters(min_codepoint=0, max_codepoint=0x1F),
        st.characters(min_codepoint=0x7F, max_codepoint=0xFF),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    ),
    max_size=8,
)


def h11_accepts_name(name: str) -> bool:
    """Return whether h11 takes ``name`` as a header field name (a token)."""
    try:
        h11.Response(status_code=200, headers=[(name.encode("latin-1"), b"v")])
    except h11.LocalProtocolError:
        return False
    return True


@fuzz_settings(examples=300)
@given(LATIN1)
def test_bare_is_token_agrees_with_stage_01_and_h11(text: str) -> None:
    """bare.is_token(text) is stage 01's is_token(text), and h11 agrees."""
    assert bare.is_token(text) == http11.is_token(text) == h11_accepts_name(text)


@fuzz_settings(examples=300)
@given(LATIN1)
def test_bare_refuses_the_values_stage_01_refuses(value: str) -> None:
    """bare.encode_header refuses a value exactly when stage 01's check_header does."""
    try:
        http11.check_header("X-Test", value)
    except ValueError:
        stage01_refuses = True
    else:
        stage01_refuses = False
    try:
        bare.encode_header("X-Test", value)
    except ValueError:
        bare_refuses = True
    else:
        bare_refuses = False
    assert bare_refuses == stage01_refuses


@pytest.mark.parametrize("value", ["a\x01b", "a\x1bb", "a\x7f", "\x0bvalue", "a\x1fb"])
def test_a_control_other_than_htab_in_a_header_value_is_refused(value: str) -> None:
    """RFC 9110 §5.5: no control but HTAB in a field value we send, not only CR, LF, NUL."""
    with pytest.raises(ValueError, match="control"):
        Response("x").set_header("X-Note", value)


def test_htab_and_obs_text_in_a_header_value_are_kept() -> None:
    """HTAB inside a value and obs-text (latin-1 above 0x7F) are allowed (RFC 9110 §5.5)."""
    response = Response("x").set_header("X-Note", "caf\xe9\tand more")
    assert (b"x-note", b"caf\xe9\tand more") in response.raw_headers


def test_a_redirect_with_another_control_is_percent_encoded_not_refused() -> None:
    """A URL's controls other than CR, LF, NUL become escapes, as in stage 02's url_to_ascii."""
    response = RedirectResponse("/next\x01")
    assert (b"location", b"/next%01") in response.raw_headers

"""roob's token rule (RFC 9110 §5.6.2) decides exactly like stage 01's.

roob stands alone on webob and parse, so it writes the rule again
(``roob.constants.is_token``); it used to be a regex of its own, spelled
differently. Stage 01's ``is_token`` is the oracle (tests/05_bare's
test_header_rules.py holds it, and bare's copy, to h11).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rawwsgi import http11
from roob.constants import is_token

from workbook.fuzzing import FUZZ_TIMEOUT, fuzz_settings

pytestmark = FUZZ_TIMEOUT  # no time limit under HYPOTHESIS_PROFILE=long

#: Short latin-1 texts, weighted towards the characters a token may or may not hold.
LATIN1 = st.text(
    st.one_of(
        st.sampled_from("!#$%&'*+-.^_`|~ \t:;,\"()/@[]{}=?\\"),
        st.characters(min_codepoint=0, max_codepoint=0xFF),
    ),
    max_size=8,
)


@fuzz_settings(examples=300)
@given(LATIN1)
def test_roob_is_token_agrees_with_stage_01_and_h11(text: str) -> None:
    """roob's is_token(text) is stage 01's is_token(text)."""
    assert is_token(text) == http11.is_token(text)

"""Bad input of every kind issue 13 names gets a clear 4xx, and url_for never builds a trap.

The kinds: an exception other than the one expected reaching the top (a
lone surrogate, NaN, a number too large, nesting too deep); a response that
breaks the wire format (NaN in JSON); reverse routing that builds a URL
which does not route back (``//host``, ``..``). ``test_fuzz.py`` looks for
more of each kind.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stage02_helpers import call, post_json
from wsgirouter.example import create_app
from wsgirouter.response import Response
from wsgirouter.router import Match, Router
from wsgirouter.trie import PathIndex, parse_pattern

from workbook.fuzzing import fuzz_settings
from workbook.stages import subprocess_env


def handler(request: Any, **params: Any) -> Response:
    return Response.json(params)


def post_raw(body: bytes) -> Any:
    return call(
        create_app(), "POST", "/books", headers=[("Content-Type", "application/json")], body=body
    )


# ── Kind 1: an unexpected exception must not reach the top ───────────────────


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"title": "\\ud800", "author": "x"}', "lone surrogate"),
        (b'{"title": "ok", "author": "x\\udfffy"}', "lone surrogate"),
        (b'{"title": NaN, "author": "x"}', "NaN is not valid JSON"),
        (b'{"title": "t", "author": "a", "year": Infinity}', "Infinity is not valid JSON"),
        (b'{"title": "t", "author": "a", "year": 1e999}', "too large for a float"),
        (b'{"title": "t", "author": "a", "year": ' + b"1" * 5000 + b"}", "invalid JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"title": "caf\xe9", "author": "x"}', "invalid JSON"),
    ],
)
def test_json_that_cannot_be_stored_or_sent_back_is_a_400(body: bytes, reason: str) -> None:
    """JSON Python would parse but JSON (RFC 8259) forbids or cannot carry is the client's error."""
    reply = post_raw(body)
    assert (reply.status, reason in reply.json()["error"]) == (400, True), reply.body


def test_a_surrogate_pair_is_one_character_and_is_accepted() -> None:
    """A valid pair of escapes (an emoji) is text: stored, sent back as UTF-8."""
    reply = post_raw(b'{"title": "\\ud83d\\ude00", "author": "x"}')
    assert (reply.status, reply.json()["title"]) == (201, "\U0001f600")


def test_an_int_path_parameter_too_long_for_python_is_a_404() -> None:
    """int() refuses more than 4,300 digits: the converter does not match, so no route does."""
    reply = call(create_app(), "GET", "/books/" + "1" * 5000)
    assert reply.status == 404


def test_a_refused_book_leaves_the_shelf_as_it_was() -> None:
    """A 400 changes nothing: the same books before and after."""
    app = create_app()
    before = call(app, "GET", "/books").json()
    assert post_json(app, "/books", {"title": "\ud800", "author": "x"}).status == 400
    assert call(app, "GET", "/books").json() == before


# ── Kind 2: no response breaks the wire format ───────────────────────────────


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_response_json_never_emits_nan_or_infinity(value: float) -> None:
    """Response.json refuses what JSON cannot say: a handler bug, not a bad body."""
    with pytest.raises(ValueError):
        Response.json({"x": value})


# ── Kind 3: url_for builds only URLs that route back ─────────────────────────


@pytest.mark.parametrize(
    ("pattern", "params"),
    [
        ("/{rest:path}", {"rest": "/evil.example/x"}),  # //evil.example/x: another host
        ("/files/{rest:path}", {"rest": "a/../../etc"}),  # the client removes the dots
        ("/files/{rest:path}", {"rest": "./a"}),
        ("/files/{name}", {"name": ".."}),  # /files/.. is / to a client
        ("/files/{name}", {"name": "."}),
    ],
)
def test_url_for_refuses_values_a_client_would_rewrite(
    pattern: str, params: dict[str, str]
) -> None:
    """A value whose URL a client would resolve elsewhere (RFC 3986, 5.2.4) is a ValueError."""
    router = Router()
    router.add(pattern, handler, methods=["GET"], name="target")
    with pytest.raises(ValueError):
        router.url_for("target", **params)


@pytest.mark.parametrize("path", ["/files/..", "/files/.", "//evil.example/x"])
def test_paths_url_for_refuses_do_not_match_either(path: str) -> None:
    """Matching refuses the same values, so every matched value can be reversed."""
    router = Router()
    router.add("/files/{name}", handler, methods=["GET"], name="file")
    router.add("/{rest:path}", handler, methods=["GET"], name="rest")
    assert router.lookup("GET", path).match is Match.NONE


@pytest.mark.parametrize("pattern", ["/a/../b", "/./a", "/a/."])
def test_patterns_with_dot_segments_are_refused(pattern: str) -> None:
    """A literal '.' or '..' never reaches the server: such a route could never match."""
    with pytest.raises(ValueError, match="never reaches the server"):
        parse_pattern(pattern)


ROUTES = [
    ("/files/{name}", "file"),
    ("/tree/{rest:path}", "tree"),
    ("/{rest:path}", "anything"),
    ("/n/{id:int}/{slug:slug}", "numbered"),
]
values = st.text(min_size=1, max_size=20)


@fuzz_settings(examples=200)
@given(
    route=st.sampled_from(ROUTES), value=values, number=st.integers(min_value=0, max_value=10**30)
)
def test_every_url_url_for_builds_routes_back_and_stays_on_this_host(
    route: tuple[str, str], value: str, number: int
) -> None:
    """url_for then lookup (after a server's percent-decoding) gives the same route and values.

    The oracle for "stays on this host and is not rewritten" is urllib's RFC
    3986 resolver: joining the built path to a base changes neither the host
    nor the path.
    """
    index = PathIndex()
    for pattern, name in ROUTES:
        index.add(pattern, name, methods=["GET"], name=name)
    pattern, name = route
    params: dict[str, Any] = (
        {"id": number, "slug": "a-b"}
        if name == "numbered"
        else {"name" if name == "file" else "rest": value}
    )
    try:
        path = index.url_for(name, **params)
    except ValueError:
        return  # refused: nothing was built
    assert path.isascii()
    resolved = urlsplit(urljoin("http://example.test/base/", path))
    assert (resolved.netloc, resolved.path) == ("example.test", path)
    found = index.lookup("GET", unquote(path))
    assert (found.match, found.route.name, found.params) == (Match.FULL, name, params)


# ── The core does no I/O and loads no WSGI class ─────────────────────────────


def test_the_router_core_imports_without_the_wsgi_layer() -> None:
    """Importing wsgirouter.trie loads neither Request, Response nor the WSGI Router."""
    code = (
        "import sys, wsgirouter.trie; "
        "print(sorted(m for m in sys.modules if m.startswith(('wsgirouter', 'rawwsgi'))))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=subprocess_env("02_router"),
    ).stdout
    assert output.strip() == "['wsgirouter', 'wsgirouter.trie']"


@pytest.mark.parametrize(
    ("location", "sent"),
    [
        ("/café", "/caf%C3%A9"),
        ("/a b?q=ü#top", "/a%20b?q=%C3%BC#top"),
        ("/ok%20already/%zz", "/ok%20already/%25zz"),
        ("https://example.com/日本", "https://example.com/%E6%97%A5%E6%9C%AC"),
    ],
)
def test_redirect_location_is_percent_encoded_ascii(location: str, sent: str) -> None:
    """A URL in a header is ASCII (RFC 9110, 10.2.2): raw latin-1 bytes were sent for /café."""
    assert Response.redirect(location).get_header("Location") == sent


def test_redirect_to_a_url_with_cr_or_lf_is_refused() -> None:
    """CR or LF in a redirect target is a ValueError, not an encoded header."""
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response.redirect("/next\r\nSet-Cookie: admin=1")

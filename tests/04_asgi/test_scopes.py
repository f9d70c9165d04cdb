"""Scopes built from parsed heads: every key of the ASGI 3.0 http and websocket scopes."""

from __future__ import annotations

import pytest
from rawasgi.scopes import build_http_scope, build_websocket_scope
from rawwsgi.http11 import RequestHead, RequestParser

CLIENT = ("127.0.0.1", 50123)
SERVER = ("127.0.0.1", 8000)


def head_of(raw: bytes) -> RequestHead:
    """Parse a request head with stage 01's parser."""
    parser = RequestParser()
    parser.feed(raw)
    head = parser.next_event()
    assert isinstance(head, RequestHead)
    return head


def scope_of(raw: bytes, **options: object) -> dict:
    options.setdefault("client", CLIENT)
    options.setdefault("server", SERVER)
    return build_http_scope(head_of(raw), **options)  # type: ignore[arg-type]


GET = b"GET /caf%C3%A9/a%20b?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"


@pytest.mark.exercise("4.2")
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("type", "http"),
        ("asgi", {"version": "3.0", "spec_version": "2.5"}),
        ("http_version", "1.1"),
        ("method", "GET"),
        ("scheme", "http"),
        ("path", "/café/a b"),
        ("raw_path", b"/caf%C3%A9/a%20b"),
        ("query_string", b"q=1&r=%20"),
        ("root_path", ""),
        ("headers", [(b"host", b"example.com"), (b"accept", b"*/*")]),
        ("client", CLIENT),
        ("server", SERVER),
        ("state", {}),
    ],
)
def test_http_scope_has_every_key(key: str, expected: object) -> None:
    """The http scope carries each ASGI 3.0 key, with the spec's type (str or bytes)."""
    assert scope_of(GET)[key] == expected


@pytest.mark.exercise("4.2")
def test_http_version_1_0_is_1_0() -> None:
    """http_version is the bare number: "HTTP/1.0" becomes "1.0"."""
    assert scope_of(b"GET / HTTP/1.0\r\n\r\n")["http_version"] == "1.0"


@pytest.mark.exercise("4.2")
def test_repeated_headers_are_kept_in_order() -> None:
    """Repeated header fields stay separate pairs, in the order they came, lowercased."""
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\nx-tag: two\r\nCOOKIE: a=1\r\n\r\n"
    assert scope_of(raw)["headers"] == [
        (b"host", b"x"),
        (b"x-tag", b"one"),
        (b"x-tag", b"two"),
        (b"cookie", b"a=1"),
    ]


@pytest.mark.exercise("4.2")
def test_header_values_keep_their_bytes() -> None:
    """A non-ASCII (obs-text) header value reaches the app as the bytes that were sent."""
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\n\r\n"
    assert (b"x-name", b"caf\xe9") in scope_of(raw)["headers"]


@pytest.mark.exercise("4.2")
def test_state_is_a_copy_per_request() -> None:
    """A request gets a shallow copy of the lifespan state: changing it changes no other request."""
    state = {"pool": "db"}
    scope = scope_of(GET, state=state)
    scope["state"]["pool"] = "changed"
    assert (scope["state"] is not state, state) == (True, {"pool": "db"})


@pytest.mark.exercise("4.2")
def test_root_path_and_scheme_come_from_the_server() -> None:
    """root_path and scheme are what the server was told, not part of the request."""
    scope = scope_of(GET, root_path="/api", scheme="https")
    assert (scope["root_path"], scope["scheme"]) == ("/api", "https")


@pytest.mark.exercise("4.2")
def test_absolute_form_target_gives_its_path() -> None:
    """A proxy-style absolute target gives the path and query of the URL."""
    scope = scope_of(b"GET http://example.com/a?b=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert (scope["path"], scope["raw_path"], scope["query_string"]) == ("/a", b"/a", b"b=1")


def test_websocket_scope_has_subprotocols_and_no_method() -> None:
    """The websocket scope: the http one with type websocket, scheme ws, subprotocols, no method."""
    raw = (
        b"GET /ws?room=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Protocol: chat, superchat\r\n\r\n"
    )
    scope = build_websocket_scope(head_of(raw), client=CLIENT, server=SERVER)
    assert (scope["type"], scope["scheme"], scope["path"], scope["query_string"]) == (
        "websocket",
        "ws",
        "/ws",
        b"room=1",
    )
    assert scope["subprotocols"] == ["chat", "superchat"]
    assert "method" not in scope

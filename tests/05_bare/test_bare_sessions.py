"""bare_sessions: signed-cookie sessions; tampered, expired or forged cookies give an empty one."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from bare import Bare, Request
from bare_helpers import BASE_URL
from bare_sessions import SessionMiddleware, session, sign, unsign
from hypothesis import given
from hypothesis import strategies as st

from workbook.fuzzing import FUZZ_TIMEOUT, fuzz_settings

KEY = "k" * 32
OLD_KEY = "o" * 32
NOW = 1_764_500_000

# Derandomized and bounded in make test; HYPOTHESIS_PROFILE=long for a deep run.
PROFILE = fuzz_settings(150)


# ── Signing (exercise 5.10) ───────────────────────────────────────────────────


@pytest.mark.exercise("5.10")
def test_signed_value_round_trips() -> None:
    value = sign({"user": "ada", "n": [1, 2]}, KEY, now=NOW)
    assert unsign(value, [KEY], max_age=60, now=NOW + 10) == {"user": "ada", "n": [1, 2]}


@pytest.mark.exercise("5.10")
def test_value_is_json_not_pickle() -> None:
    # The payload is readable base64url JSON: no pickle, nothing the server would execute.
    payload = sign({"user": "ada"}, KEY, now=NOW).split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(payload + "==")) == {"user": "ada"}


@pytest.mark.exercise("5.10")
def test_tampered_payload_is_refused() -> None:
    # Changing the data without the key breaks the HMAC.
    value = sign({"user": "ada"}, KEY, now=NOW)
    payload, timestamp, signature = value.split(".")
    forged = base64.urlsafe_b64encode(b'{"user":"admin"}').rstrip(b"=").decode()
    assert unsign(f"{forged}.{timestamp}.{signature}", [KEY], 60, now=NOW) is None
    assert unsign(f"{payload}.{int(timestamp) + 1}.{signature}", [KEY], 60, now=NOW) is None


@pytest.mark.exercise("5.10")
def test_expired_or_future_value_is_refused() -> None:
    value = sign({"user": "ada"}, KEY, now=NOW)
    assert unsign(value, [KEY], max_age=60, now=NOW + 61) is None
    assert unsign(value, [KEY], max_age=60, now=NOW - 5) is None


@pytest.mark.exercise("5.10")
def test_keys_rotate_old_cookies_still_verify() -> None:
    # The first key signs; every listed key verifies.
    old = sign({"user": "ada"}, OLD_KEY, now=NOW)
    assert unsign(old, [KEY, OLD_KEY], 60, now=NOW) == {"user": "ada"}
    assert unsign(old, [KEY], 60, now=NOW) is None


@pytest.mark.exercise("5.10")
@pytest.mark.parametrize(
    "value",
    [
        "",
        "a",
        "a.b",
        "a.b.c.d",
        "x.1764500000.y",
        "é.1.x",
        "a." + "9" * 5000 + ".b",
    ],
)
def test_malformed_values_are_refused(value: str) -> None:
    assert unsign(value, [KEY], 60, now=NOW) is None


@pytest.mark.exercise("5.10")
def test_signed_non_object_is_refused() -> None:
    # A correctly signed list is not a session.
    value = sign({"a": 1}, KEY, now=NOW)
    payload = base64.urlsafe_b64encode(b"[1]").rstrip(b"=").decode()
    from bare_sessions import _signature  # the same signer, over a list

    timestamp = value.split(".")[1]
    forged = f"{payload}.{timestamp}.{_signature(KEY, f'{payload}.{timestamp}')}"
    assert unsign(forged, [KEY], 60, now=NOW) is None


@FUZZ_TIMEOUT
@PROFILE
@given(st.text(max_size=200))
def test_any_cookie_text_is_a_dict_or_none(value: str) -> None:
    # Whatever the client sends, unsign answers None or a dict: never an exception.
    result = unsign(value, [KEY], 60, now=NOW)
    assert result is None or isinstance(result, dict)


# ── The middleware ────────────────────────────────────────────────────────────


def make_app(**options: Any) -> Bare:
    app = Bare()
    app.add_middleware(SessionMiddleware, secret_keys=[KEY], **options)

    @app.get("/count")
    async def count(request: Request) -> dict[str, int]:
        current = session(request)
        current["n"] = current.get("n", 0) + 1
        return {"n": current["n"]}

    @app.get("/peek")
    async def peek(request: Request) -> dict[str, Any]:
        return dict(session(request))

    @app.get("/logout")
    async def logout(request: Request) -> None:
        session(request).clear()

    return app


def visit(app: Bare, *paths: str, cookies: dict[str, str] | None = None) -> list[httpx.Response]:
    """Visit ``paths`` in order with one cookie jar, as a browser would."""

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, cookies=cookies
        ) as client:
            return [await client.get(path) for path in paths]

    return asyncio.run(go())


def test_session_survives_between_requests() -> None:
    responses = visit(make_app(), "/count", "/count", "/count")
    assert [response.json()["n"] for response in responses] == [1, 2, 3]


def test_session_cookie_is_httponly_samesite_and_secure_when_asked() -> None:
    # HttpOnly and SameSite always; Secure when asked (RFC 6265 §4.1.2).
    plain = visit(make_app(), "/count")[0].headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    assert "Max-Age=1209600" in plain and "Path=/" in plain
    secure = visit(make_app(https_only=True, same_site="strict"), "/count")[0].headers["set-cookie"]
    assert "Secure" in secure and "SameSite=Strict" in secure


def test_unchanged_session_sends_no_cookie() -> None:
    assert "set-cookie" not in visit(make_app(), "/peek")[0].headers


@pytest.mark.parametrize("cookie", ["garbage", "a.b.c", sign({"n": 99}, "x" * 32)])
def test_tampered_cookie_gives_an_empty_session(cookie: str) -> None:
    response = visit(make_app(), "/peek", cookies={"session": cookie})[0]
    assert (response.status_code, response.json()) == (200, {})


def test_cleared_session_expires_the_cookie() -> None:
    responses = visit(make_app(), "/count", "/logout", "/peek")
    assert "Max-Age=0" in responses[1].headers["set-cookie"]
    assert responses[2].json() == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secret_keys": ["short"]}, "at least 32"),
        ({"secret_keys": KEY}, "list"),
        ({"secret_keys": [KEY], "same_site": "none"}, "https_only"),
        ({"secret_keys": [KEY], "same_site": "sometimes"}, "same_site"),
    ],
)
def test_bad_configuration_is_a_value_error(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SessionMiddleware(Bare(), **options)


def test_session_without_middleware_says_what_to_add() -> None:
    from bare_helpers import http_scope

    with pytest.raises(RuntimeError, match="SessionMiddleware"):
        session(Request(http_scope(), None))

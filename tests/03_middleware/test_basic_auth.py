"""BasicAuth: the layer that answers by itself: 401 with WWW-Authenticate, or pass the user on."""

from __future__ import annotations

import base64
from functools import partial
from typing import Any

import pytest
from onion.basic_auth import BasicAuth
from stage02_helpers import call
from stage03_helpers import Recorder, sandwich

USERS = {"admin": "secret", "zoë": "pässword"}


def guarded(app: Any, **options: Any) -> Any:
    return sandwich(partial(BasicAuth, users=USERS, realm="books", **options), app)


def basic(credentials: str) -> tuple[str, str]:
    return ("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())


def test_no_credentials_is_a_401_with_a_challenge() -> None:
    """Without Authorization the layer answers 401 with WWW-Authenticate; the app is not called."""
    app = Recorder()
    reply = call(guarded(app))
    assert (reply.status, reply.header("WWW-Authenticate"), reply.text, app.calls) == (
        401,
        'Basic realm="books", charset="UTF-8"',
        "authentication required\n",
        0,
    )


@pytest.mark.parametrize(
    "authorization",
    [
        basic("admin:wrong")[1],
        basic("nobody:secret")[1],
        basic("admin")[1],  # no colon
        "Basic not-base64!!",
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),  # not UTF-8
        "Basic caf\u00e9",  # not ASCII
        "Bearer abc",
        "Basic",
        "",
    ],
)
def test_bad_credentials_are_a_401_never_a_500(authorization: str) -> None:
    """Wrong, unknown or malformed credentials are a 401."""
    app = Recorder()
    reply = call(guarded(app), headers=[("Authorization", authorization)])
    assert (reply.status, app.calls) == (401, 0)


@pytest.mark.parametrize(
    ("credentials", "user"), [("admin:secret", "admin"), ("zoë:pässword", "zoë")]
)
def test_valid_credentials_reach_the_app_with_remote_user(credentials: str, user: str) -> None:
    """Valid credentials pass the request on, REMOTE_USER naming the user (UTF-8 as latin-1)."""
    app = Recorder()
    reply = call(guarded(app), headers=[basic(credentials)])
    remote_user = app.environ["REMOTE_USER"].encode("latin-1").decode("utf-8")  # PEP 3333 clothing
    assert (reply.status, remote_user) == (200, user)


def test_exempt_methods_pass_without_credentials() -> None:
    """Methods listed in exempt_methods need no credentials."""
    app = Recorder()
    reply = call(guarded(app, exempt_methods=("GET",)))
    assert (reply.status, app.calls) == (200, 1)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"users": {}}, "at least one user"),
        ({"users": USERS, "realm": 'say "hi"'}, "realm"),
    ],
)
def test_bad_configuration_is_refused(options: dict[str, Any], error: str) -> None:
    """No users, or a realm that would break the header, is a ValueError."""
    with pytest.raises(ValueError, match=error):
        BasicAuth(Recorder(), **options)

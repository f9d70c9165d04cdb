"""Basic authentication: a middleware that answers by itself when it must.

Most requests pass through to the app. A request without valid credentials
never reaches it: this layer answers ``401 Unauthorized`` with a
``WWW-Authenticate`` header, which makes a browser ask for a user name and
password and makes ``curl -u user:password`` send them (RFC 7617).

Credentials travel base64-encoded, not encrypted: use Basic auth over
HTTPS only. Passwords are compared with ``hmac.compare_digest``, in time
that does not depend on where they differ, and an unknown user name is
compared against a decoy so that the timing does not reveal which users
exist. A real app would store password hashes, not passwords.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Mapping

from rawwsgi.http11 import OWS
from rawwsgi.protocol import Environ, StartResponse, WSGIApp

CHALLENGE_BODY = b"authentication required\n"


class BasicAuth:
    """Let a request through only with a known user and password; else answer 401."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        users: Mapping[str, str],
        realm: str = "onion",
        exempt_methods: Iterable[str] = (),
    ) -> None:
        if not users:
            raise ValueError("BasicAuth needs at least one user")
        if not realm.isprintable() or '"' in realm or "\\" in realm:
            raise ValueError(f"realm {realm!r} must be printable, without quotes or backslashes")
        self.app = app
        self.users = dict(users)
        self.realm = realm
        self.exempt_methods = frozenset(exempt_methods)
        self.decoy = "x" * max(len(password) for password in self.users.values())

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Pass an authenticated (or exempt) request on; answer 401 to the rest."""
        if environ["REQUEST_METHOD"] in self.exempt_methods:
            return self.app(environ, start_response)
        user = self.authenticate(environ.get("HTTP_AUTHORIZATION", ""))
        if user is None:
            start_response(
                "401 Unauthorized",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(CHALLENGE_BODY))),
                    ("WWW-Authenticate", f'Basic realm="{self.realm}", charset="UTF-8"'),
                ],
            )
            return [CHALLENGE_BODY]
        # REMOTE_USER is the CGI name for "who is asking". Like every CGI value in the
        # environ (PEP 3333) it holds bytes in latin-1 clothing: here, the name's UTF-8.
        environ["REMOTE_USER"] = user.encode("utf-8").decode("latin-1")
        return self.app(environ, start_response)

    def authenticate(self, authorization: str) -> str | None:
        """Return the user named by a valid ``Authorization: Basic ...`` header, or None.

        credentials = auth-scheme [ 1*SP token68 ] (RFC 9110 §11.4, RFC 7617 §2):
        only OWS (SP, HTAB; §5.6.3) around the value and SP after the scheme are
        whitespace, so "\xa0Basic dXNlcjpwdw==" names no scheme we know: None.
        """
        scheme, _, token = authorization.strip(OWS).partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(token.lstrip(" "), validate=True).decode("utf-8")
        except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8
            return None
        name, colon, password = decoded.partition(":")
        if not colon:
            return None
        expected = self.users.get(name)
        matches = hmac.compare_digest(
            password.encode("utf-8"),
            (expected if expected is not None else self.decoy).encode("utf-8"),
        )
        return name if matches and expected is not None else None

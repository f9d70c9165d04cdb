"""Sessions for bare: a dict per visitor, kept in a signed cookie, as an ASGI middleware.

    app.add_middleware(SessionMiddleware, secret_keys=["long random secret"])

    @app.post("/login")
    async def login(request):
        session(request)["user"] = "ada"       # sent back as a Set-Cookie
        return RedirectResponse("/", 303)

The session is not stored on the server: it travels in the cookie, as JSON
(never pickle: unpickling a cookie would run the client's code), with an
HMAC-SHA256 signature over it and the time it was signed. The client can
read it (so put no secret in it) but cannot change it: a cookie whose
signature does not check, that is malformed, or that is older than
``max_age`` gives an empty session, never an error.

    cookie value = base64url(JSON) "." signed-at (Unix seconds) "." base64url(HMAC)

Keys rotate: the first of ``secret_keys`` signs, every one of them verifies,
so a new key can be put first while cookies signed with the old one stay
valid until they expire. The cookie is ``HttpOnly`` (scripts cannot read
it), ``SameSite=Lax`` by default (RFC 6265bis §4.1.2.7: not sent on
cross-site POSTs), ``Secure`` when asked (``https_only=True``), and capped at
4096 bytes, what browsers keep (RFC 6265 §6.1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from bare import ASGIApp, Message, Receive, Request, Scope, Send, encode_header

__all__ = ["Session", "SessionMiddleware", "session", "sign", "unsign"]

#: Browsers keep cookies of at most this many bytes, name and value (RFC 6265 §6.1).
MAX_COOKIE_SIZE = 4096


# ── Signing ───────────────────────────────────────────────────────────────────


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: str, message: str) -> str:
    return _b64encode(
        hmac.new(key.encode("utf-8"), message.encode("ascii"), hashlib.sha256).digest()
    )


def sign(data: dict[str, Any], key: str, now: float | None = None) -> str:
    """Return ``data`` as a signed cookie value: ``"eyJ1IjoxfQ.1764500000.Xk3..."``.

    The JSON is compact and UTF-8; ``now`` (Unix seconds) defaults to the
    clock and is what ``max_age`` is measured from.
    """
    payload = _b64encode(json.dumps(data, separators=(",", ":")).encode("utf-8"))
    message = f"{payload}.{int(time.time() if now is None else now)}"
    return f"{message}.{_signature(key, message)}"


def unsign(
    value: str, keys: Iterable[str], max_age: float, now: float | None = None
) -> dict[str, Any] | None:
    """Return the dict signed into ``value``, or None if it is forged, malformed or too old.

    Every key in ``keys`` is tried (rotation); signatures are compared in
    constant time. A signing time more than ``max_age`` seconds ago, or in
    the future, is too old or forged: None.
    """
    # EXERCISE 5.10: Verify a signed session cookie
    if not value.isascii():
        return None
    parts = value.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    payload, timestamp, signature = parts
    message = f"{payload}.{timestamp}"
    if not any(hmac.compare_digest(_signature(key, message), signature) for key in keys):
        return None
    current = time.time() if now is None else now
    if not 0 <= current - int(timestamp) <= max_age:
        return None
    try:
        data = json.loads(_b64decode(payload).decode("utf-8"))
    except (binascii.Error, ValueError):  # bad base64, bad UTF-8, bad JSON
        return None
    return data if isinstance(data, dict) else None
    # END EXERCISE


# ── The session ───────────────────────────────────────────────────────────────


class Session(dict[str, Any]):
    """A dict that knows whether it was changed, so only a changed one is sent back."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        super().__init__(data or {})
        self.modified = False

    # Not a method: a helper the class body calls, then deletes (`del _changed`).
    def _changed(method: Callable[..., Any]) -> Callable[..., Any]:  # type: ignore[misc]  # noqa: N805
        def wrapper(self: Session, *args: Any, **kwargs: Any) -> Any:
            self.modified = True
            return method(self, *args, **kwargs)

        wrapper.__name__ = method.__name__
        wrapper.__doc__ = method.__doc__
        return wrapper

    __setitem__ = _changed(dict.__setitem__)
    __delitem__ = _changed(dict.__delitem__)
    clear = _changed(dict.clear)
    pop = _changed(dict.pop)
    popitem = _changed(dict.popitem)
    setdefault = _changed(dict.setdefault)
    update = _changed(dict.update)
    del _changed


def session(request: Request) -> Session:
    """Return the request's session (RuntimeError if SessionMiddleware is not installed)."""
    try:
        found: Session = request.scope["session"]
    except KeyError:
        raise RuntimeError(
            "no session: add app.add_middleware(SessionMiddleware, secret_keys=[...])"
        ) from None
    return found


# ── The middleware ────────────────────────────────────────────────────────────


class SessionMiddleware:
    """Load ``scope["session"]`` from the signed cookie; send it back if it changed.

    ``secret_keys``: the first signs, all verify; each at least 32
    characters (ValueError otherwise). ``max_age`` in seconds (two weeks by
    default) limits both the cookie's life in the browser and the age of a
    signature the server accepts.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_keys: list[str],
        cookie_name: str = "session",
        max_age: int = 14 * 24 * 3600,
        same_site: str = "lax",
        https_only: bool = False,
        path: str = "/",
    ) -> None:
        if isinstance(secret_keys, str) or not secret_keys:
            raise ValueError("secret_keys must be a non-empty list of keys, newest first")
        if any(len(key) < 32 for key in secret_keys):
            raise ValueError("each session key must be at least 32 characters of random text")
        if same_site.lower() not in ("lax", "strict", "none"):
            raise ValueError(f"same_site must be lax, strict or none, got {same_site!r}")
        if same_site.lower() == "none" and not https_only:
            raise ValueError("SameSite=None needs https_only=True (browsers refuse it otherwise)")
        self.app = app
        self.keys = list(secret_keys)
        self.cookie_name = cookie_name
        self.max_age = max_age
        attributes = [f"Path={path}", "HttpOnly", f"SameSite={same_site.capitalize()}"]
        if https_only:
            attributes.append("Secure")
        self.attributes = "; ".join(attributes)
        encode_header("set-cookie", f"{cookie_name}=x; {self.attributes}")  # checks name and path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookie = Request(scope, receive).cookies.get(self.cookie_name)
        data = unsign(cookie, self.keys, self.max_age) if cookie else None
        current = scope["session"] = Session(data)
        had_cookie = cookie is not None

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and current.modified:
                header = self.set_cookie_header(current, had_cookie)
                if header is not None:
                    message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def set_cookie_header(self, current: Session, had_cookie: bool) -> tuple[bytes, bytes] | None:
        """Return the Set-Cookie header for a changed session (an expired one if it is empty)."""
        if not current:
            if not had_cookie:
                return None
            return encode_header("set-cookie", f"{self.cookie_name}=; Max-Age=0; {self.attributes}")
        value = sign(dict(current), self.keys[0])
        line = f"{self.cookie_name}={value}; Max-Age={self.max_age}; {self.attributes}"
        if len(self.cookie_name) + 1 + len(value) > MAX_COOKIE_SIZE:
            raise ValueError(
                f"session is {len(value)} bytes signed: browsers keep at most "
                f"{MAX_COOKIE_SIZE}; keep an id in it, not the data"
            )
        return encode_header("set-cookie", line)

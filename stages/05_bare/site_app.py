"""The example site: bare with all six "What we left out" modules at work.

    make stage-5 APP=site                  # uvicorn site_app:app on http://127.0.0.1:8000

- ``/`` a page rendered from a template (bare_templates), styled by
  ``/static/site.css`` (bare_static);
- ``/login`` a form that sets a signed session cookie (bare_forms for the
  urlencoded body, bare_sessions for the cookie), ``/logout`` clears it;
- ``/upload`` a multipart file upload (bare_forms), saved into the upload
  folder and nowhere else, for a signed-in user;
- ``/no/such/page`` and ``/boom`` the error pages (bare_errors): HTML for a
  browser, JSON for curl;
- ``/openapi.json`` the API's OpenAPI 3.1 document (bare_openapi), from
  ``/api/me`` and ``/api/files`` and their annotations.

Settings come from the environment: ``BARE_SITE_UPLOADS`` (the upload
folder, ``site/uploads`` by default), ``BARE_SITE_SECRET`` (the session key;
a random one per start otherwise, so sessions end with the process),
``BARE_SITE_DEBUG=1`` (tracebacks on the 500 page). The one user is
``ada`` with the password ``lovelace``, kept as a PBKDF2 hash.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TypedDict

from bare import Bare, HTTPError, RedirectResponse, Request, Response
from bare_errors import ErrorPages
from bare_forms import Form, FormLimits, read_form
from bare_openapi import add_openapi
from bare_sessions import SessionMiddleware, session
from bare_static import StaticFiles
from bare_templates import Templates

HERE = Path(__file__).resolve().parent / "site"

#: name -> (salt, PBKDF2-SHA256 of the password): what a user table would hold.
_SALT = b"bare-site-demo"
USERS = {"ada": (_SALT, hashlib.pbkdf2_hmac("sha256", b"lovelace", _SALT, 100_000))}

#: Uploads: at most 2 MiB a file, 8 parts, 3 MiB a body.
UPLOAD_LIMITS = FormLimits(max_parts=8, max_part_size=2 * 1024 * 1024, max_size=3 * 1024 * 1024)


class Me(TypedDict):
    """Who the session belongs to."""

    user: str | None


class StoredFile(TypedDict):
    """A file in the upload folder."""

    name: str
    size: int


def check_password(username: str, password: str) -> bool:
    """Return True if ``password`` is ``username``'s (constant time once the user is known)."""
    record = USERS.get(username)
    if record is None:
        return False
    salt, expected = record
    return hmac.compare_digest(
        hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, 100_000), expected
    )


def create_app(
    upload_dir: str | os.PathLike[str] | None = None,
    *,
    secret: str | None = None,
    debug: bool | None = None,
) -> Bare:
    """Build the site; each argument defaults to its environment variable (see above)."""
    uploads = Path(upload_dir or os.environ.get("BARE_SITE_UPLOADS") or HERE / "uploads")
    uploads.mkdir(parents=True, exist_ok=True)
    secret = secret or os.environ.get("BARE_SITE_SECRET") or secrets.token_urlsafe(32)
    if debug is None:
        debug = os.environ.get("BARE_SITE_DEBUG") == "1"

    app = Bare(debug=debug)
    app.state["uploads"] = uploads
    templates = Templates(HERE / "templates")
    app.add_middleware(ErrorPages, debug=debug)
    app.add_middleware(SessionMiddleware, secret_keys=[secret])
    app.add_middleware(StaticFiles, prefix="/static", directory=HERE / "static")

    def page(request: Request, name: str, status: int = 200, **context: object) -> Response:
        current = session(request)
        if "csrf" not in current:
            current["csrf"] = secrets.token_urlsafe(16)
        return templates.response(
            name,
            {"user": current.get("user"), "csrf": current["csrf"], **context},
            request=request,
            status=status,
        )

    def check_csrf(request: Request, form: Form) -> None:
        expected = session(request).get("csrf", "")
        if not expected or not hmac.compare_digest(form.get_first("csrf"), expected):
            raise HTTPError(403, "the form is stale or forged: reload the page and try again")

    def stored_files() -> list[StoredFile]:
        return [
            StoredFile(name=path.name, size=path.stat().st_size)
            for path in sorted(uploads.iterdir())
            if path.is_file()
        ]

    @app.get("/")
    async def index(request: Request) -> Response:
        """The home page, from a template."""
        return page(request, "index.html")

    @app.get("/login")
    async def login_form(request: Request) -> Response:
        """The sign-in form."""
        return page(request, "login.html", username="")

    @app.post("/login")
    async def login(request: Request) -> Response:
        """Check the name and password; on success put the user in the session."""
        form = await read_form(request)
        check_csrf(request, form)
        username = form.get_first("username")
        if not check_password(username, form.get_first("password")):
            return page(
                request, "login.html", 400, error="Wrong name or password.", username=username
            )
        current = session(request)
        current["user"] = username
        current["csrf"] = secrets.token_urlsafe(16)  # a new token for the new privilege
        return RedirectResponse("/", 303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        """Forget the session."""
        check_csrf(request, await read_form(request))
        session(request).clear()
        return RedirectResponse("/", 303)

    @app.get("/upload")
    async def upload_form(request: Request) -> Response:
        """The upload form and the files so far (signed-in users only)."""
        if not session(request).get("user"):
            return RedirectResponse("/login", 303)
        return page(request, "upload.html", files=stored_files())

    @app.post("/upload")
    async def upload(request: Request) -> Response:
        """Save the uploaded file into the upload folder, under a safe name."""
        if not session(request).get("user"):
            raise HTTPError(401, "sign in first")
        form = await read_form(request, UPLOAD_LIMITS)
        try:
            check_csrf(request, form)
            uploads_sent = form.files.get("file", [])
            if not uploads_sent or not uploads_sent[0].original_filename:
                raise HTTPError(400, "choose a file to upload")
            saved = uploads_sent[0].save(uploads)
            return page(
                request,
                "upload.html",
                saved=saved.name,
                size=saved.stat().st_size,
                note=form.get_first("note"),
                files=stored_files(),
            )
        finally:
            form.close()

    @app.get("/api/me")
    async def me(request: Request) -> Me:
        """Who is signed in (null if nobody)."""
        return Me(user=session(request).get("user"))  # a TypedDict is a dict: sent as JSON

    @app.get("/api/files")
    async def files(request: Request) -> list[StoredFile]:
        """The uploaded files, by name."""
        return stored_files()

    @app.get("/boom")
    async def boom(request: Request) -> Response:
        """A handler with a bug, to show the 500 page."""
        raise RuntimeError("the site's deliberate bug: see the 500 page")

    add_openapi(
        app,
        title="bare site",
        version="1.0",
        description="The example site of stage 05: sessions, uploads, error pages.",
    )
    return app


app = create_app()

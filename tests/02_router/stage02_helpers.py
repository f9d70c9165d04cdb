"""Run a WSGI app in process, the way a careful server would, behind two linters.

``call(app, "GET", "/books")`` builds a PEP 3333 environ, runs the app
wrapped in ``wsgiref.validate.validator`` and werkzeug's ``LintMiddleware``
(their complaints are errors: pytest turns warnings into errors here),
sends nothing until the first non-empty chunk (so ``exc_info`` works as on
a real server), and always calls ``close()``. Stage 03's tests use it too.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from wsgiref.validate import validator

from werkzeug.middleware.lint import LintMiddleware

App = Callable[..., Iterable[bytes]]


def checked(app: App) -> App:
    """Wrap an app in both WSGI linters: wsgiref's validator outside, werkzeug's inside."""
    return validator(LintMiddleware(app))


@dataclass
class Reply:
    """What the app sent: status, header lines in order, body, and what it logged."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    errors: str = ""
    chunks: list[bytes] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """Return the first value of a header (names ignore case), or None."""
        values = self.header_list(name)
        return values[0] if values else None

    def header_list(self, name: str) -> list[str]:
        """Return every value of a header, in order."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """Return the body decoded as UTF-8."""
        return self.body.decode("utf-8")


def make_environ(
    method: str = "GET",
    path: str = "/",
    *,
    query: str = "",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    path_info: str | None = None,
) -> dict[str, Any]:
    """Return the environ a server builds for this request.

    ``path`` is the decoded text path; PATH_INFO gets its UTF-8 bytes as
    latin-1 characters, as PEP 3333 says. ``path_info`` sets PATH_INFO as is.
    """
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode("utf-8").decode("latin-1") if path_info is None else path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    given: set[str] = set()
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        # A server joins a repeated header's values with ", " (RFC 9110 section 5.3).
        environ[key] = f"{environ[key]}, {value}" if key in given else value
        given.add(key)
    return environ


class HeadersSent(Exception):
    """Raised by the test server's start_response for exc_info after the headers went out."""


def run(app: App, environ: dict[str, Any], *, lint: bool = True) -> Reply:
    """Serve one request to ``app`` as a PEP 3333 server does, and return the reply."""
    errors = environ["wsgi.errors"]
    status: list[str] = []
    headers: list[tuple[str, str]] = []
    sent: list[bytes] = []

    def send(data: bytes) -> None:
        if not data:
            return  # PEP 3333: headers wait for the first non-empty chunk
        if not status:
            raise AssertionError("the app sent body bytes before start_response")
        sent.append(data)

    def start_response(
        new_status: str, new_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if sent:  # too late to change the response: re-raise, as PEP 3333 says
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif status:
            raise AssertionError("start_response called twice without exc_info")
        status[:] = [new_status]
        headers[:] = list(new_headers)
        return send

    result = (checked(app) if lint else app)(environ, start_response)
    try:
        for chunk in result:
            send(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not status:
        raise AssertionError("the app returned without calling start_response")
    code, _, reason = status[0].partition(" ")
    return Reply(int(code), reason, headers, b"".join(sent), errors.getvalue(), sent)


def call(
    app: App,
    method: str = "GET",
    path: str = "/",
    *,
    query: str = "",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | str = b"",
    path_info: str | None = None,
    lint: bool = True,
) -> Reply:
    """Send one request to ``app`` in process and return the reply."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    environ = make_environ(
        method, path, query=query, headers=headers, body=data, path_info=path_info
    )
    return run(app, environ, lint=lint)


def post_json(app: App, path: str, data: Any, method: str = "POST") -> Reply:
    """Send ``data`` as a JSON body."""
    return call(
        app, method, path, headers=[("Content-Type", "application/json")], body=json.dumps(data)
    )

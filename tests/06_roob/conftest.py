"""Stage 06 set-up: fresh databases, clients (tests/conftest.py puts the stage on sys.path).

Every test that touches products gets its own SQLite file (``database``),
so no test sees another's creates and deletes. Stage modules are imported
inside the fixtures, not at collection, so a learner's broken module fails
the tests that need it instead of the whole collection.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote
from wsgiref.validate import validator

import pytest
from webob import Request, Response
from webtest import TestApp, TestRequest

from workbook.testing import ADDED_BY_CLIENT, RequestLog, shown_body

HERE = Path(__file__).resolve().parent
BASE = "http://localhost:8000"  # where the chapter's curl commands find the sample app
PATH_SAFE = "/:@!$&'()*+,;=~"  # RFC 3986 pchar and "/": kept as they are in a curl line
Echo = Callable[[str], Callable[..., Response]]


class RecordingTestApp(TestApp):  # type: ignore[misc]  # webtest has no type hints
    """A webtest client that records each request with ``sent`` as it sends it.

    The grader shows a failing test's last request as a curl command
    against :data:`BASE` (``python run_server.py`` serves there), so the
    test writes each request once. Host and Content-Length are left to curl.
    """

    def __init__(self, app: Callable[..., Any], sent: RequestLog) -> None:
        super().__init__(app, lint=True)
        self.sent = sent

    def do_request(self, req: TestRequest, status: Any = None, expect_errors: Any = None) -> Any:
        headers = [
            (name, value)
            for name, value in req.headers.items()
            if name.lower() not in ADDED_BY_CLIENT
        ]
        # Not req.body: webob's getter marks the environ's body seekable, which the
        # validator's wrapper of wsgi.input is not. The bytes are in webtest's BytesIO.
        stream = req.environ.get("wsgi.input")
        body = stream.getvalue() if isinstance(stream, io.BytesIO) else b""
        self.sent(req.method, BASE + target(req.environ), headers=headers, body=shown_body(body))
        return super().do_request(req, status, expect_errors)


def target(environ: dict[str, Any]) -> str:
    """Return the request target of a WSGI environ, percent-encoded as sent (any bytes).

    PEP 3333 decodes the path as latin-1; it need not be UTF-8 (a test of a bad path).
    """
    raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    path = quote(raw, safe=PATH_SAFE)
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def linted(app: Callable[..., Any], sent: RequestLog) -> TestApp:
    """Return a recording webtest client for a WSGI app, checked by two PEP 3333 linters.

    ``wsgiref.validate.validator`` checks the app's side of every call;
    webtest's own lint (on by default) checks it again from the outside.
    """
    return RecordingTestApp(validator(app), sent)


def echo_handler(name: str) -> Callable[..., Response]:
    """Return a handler that answers with its own name and the path parameters."""

    def handler(request: Request, **params: Any) -> Response:
        return Response(json_body={"handler": name, "params": params})

    handler.__name__ = handler.__qualname__ = name
    return handler


@pytest.fixture
def client(sent: RequestLog) -> Callable[[Callable[..., Any]], TestApp]:
    """``client(app)``: a linted, recording webtest client for a tiny app declared in a test."""
    return lambda app: linted(app, sent)


@pytest.fixture
def echo() -> Echo:
    """``echo("name")``: a handler answering ``{"handler": name, "params": {...}}``."""
    return echo_handler


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Give the sample app a fresh SQLite file, seeded from core/data.py, for one test."""
    import core.product_controller as controllers
    from core.data import inventory
    from core.database import Database

    fresh = Database(tmp_path / "products.db", seed=inventory)
    monkeypatch.setattr(controllers, "database", fresh)
    return fresh


@pytest.fixture
def product_app(database: Any, sent: RequestLog) -> TestApp:
    """The sample app's WSGI entry (core.main:app) on a fresh database, linted and recording."""
    from core.main import app

    return linted(app, sent)


@pytest.fixture(scope="session")
def chapter() -> ModuleType:
    """tests/06_roob/roob_chapter.py: the chapter's code, rebuilt from its listings."""
    spec = importlib.util.spec_from_file_location("roob_chapter", HERE / "roob_chapter.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot load tests/06_roob/roob_chapter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

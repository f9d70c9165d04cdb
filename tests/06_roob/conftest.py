"""Stage 06 set-up: fresh databases, clients (tests/conftest.py puts the stage on sys.path).

Every test that touches products gets its own SQLite file (``database``),
so no test sees another's creates and deletes. Stage modules are imported
inside the fixtures, not at collection, so a learner's broken module fails
the tests that need it instead of the whole collection.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from wsgiref.validate import validator

import pytest
from webob import Request, Response
from webtest import TestApp

HERE = Path(__file__).resolve().parent
Echo = Callable[[str], Callable[..., Response]]


def linted(app: Callable[..., Any]) -> TestApp:
    """Return a webtest client for a WSGI app, checked by two PEP 3333 linters.

    ``wsgiref.validate.validator`` checks the app's side of every call;
    webtest's own lint (on by default) checks it again from the outside.
    """
    return TestApp(validator(app), lint=True)


def echo_handler(name: str) -> Callable[..., Response]:
    """Return a handler that answers with its own name and the path parameters."""

    def handler(request: Request, **params: Any) -> Response:
        return Response(json_body={"handler": name, "params": params})

    handler.__name__ = handler.__qualname__ = name
    return handler


@pytest.fixture
def client() -> Callable[[Callable[..., Any]], TestApp]:
    """``client(app)``: a linted webtest client for a tiny app declared in a test."""
    return linted


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
def product_app(database: Any) -> TestApp:
    """The sample app's WSGI entry (core.main:app) on a fresh database, linted."""
    from core.main import app

    return linted(app)


@pytest.fixture(scope="session")
def chapter() -> ModuleType:
    """tests/06_roob/roob_chapter.py: the chapter's code, rebuilt from its listings."""
    spec = importlib.util.spec_from_file_location("roob_chapter", HERE / "roob_chapter.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot load tests/06_roob/roob_chapter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

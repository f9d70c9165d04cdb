"""Fuzzing the product API: roob answers every request below 500, well formed; refusals keep data.

The requests are ``workbook.fuzzing``'s, sent in process to ``core.main:app``
(the framework inside its error middleware) on a fresh SQLite file. A 500
from the error middleware is a failure here like any other: it means some
input reached an exception nobody expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from workbook.fuzzing import (
    FUZZ_TIMEOUT,
    FuzzRequest,
    call_wsgi,
    check_wsgi_request,
    fuzz_settings,
    requests,
    seed_requests,
    seeded,
    strict_json,
)

pytestmark = FUZZ_TIMEOUT

#: A body the create route accepts, and the writes the seeded examples aim at.
BASE = {"id": 99, "product_name": "Tab", "brand": "Acme", "category": "tablets"}
WRITES = [("POST", "/api/products")]

PRODUCT_REQUESTS = requests(
    ["/", "/api/products", "/api/products/1", "/api/products/mobile", "/api/products/99"],
    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"],
    media_types=["application/json", "text/plain"],
    base=BASE,
    writes=WRITES,
    oversize=64 * 1024 + 1,
)


@pytest.fixture(scope="module")
def product_database(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One SQLite file for the whole fuzz run, seeded from core/data.py."""
    from core.data import inventory
    from core.database import Database

    return Database(Path(tmp_path_factory.mktemp("fuzz")) / "products.db", seed=inventory)


def inventory_now(app: Any) -> Any:
    """Return every product, read through the API itself."""
    return strict_json(call_wsgi(app, FuzzRequest("GET", b"/api/products")).body)


@fuzz_settings()
@seeded(seed_requests(BASE, WRITES))
@given(request=PRODUCT_REQUESTS)
def test_product_api_answers_every_request_below_500_and_well_formed(request: FuzzRequest) -> None:
    """Whatever a client sends, roob answers a well-formed 2xx-4xx; a refusal changes nothing."""
    import core.product_controller as controllers
    from core.main import app

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(controllers, "database", DATABASE[0])
        check_wsgi_request(app, request, inventory_now)


#: Filled by the autouse fixture below: hypothesis tests cannot take function fixtures.
DATABASE: list[Any] = []


@pytest.fixture(autouse=True)
def use_product_database(product_database: Any) -> Any:
    """Hand the module's database to the fuzz test."""
    DATABASE[:] = [product_database]
    yield
    DATABASE.clear()

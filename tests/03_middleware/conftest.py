"""Stage 03's test set-up: the example stack on real servers (``base_url``).

The in-process client is stage 02's (``stage02_helpers.call``: both WSGI
linters on the outside, a PEP 3333 ``start_response`` that re-raises
``exc_info`` once the headers are out). ``stage03_helpers`` adds apps that
record what happened to them (``close()`` above all) and ``sandwich`` to
put the linters on the *inside* of a middleware too. The stage under test
is on ``sys.path`` by tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbook.testing import WSGI_SERVERS, served


@pytest.fixture(scope="module", params=WSGI_SERVERS)
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve the example stack on stage 01's server, then gunicorn; yield its base URL."""
    with served("03_middleware", request.param, "onion.example:app") as url:
        yield url

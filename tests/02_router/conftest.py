"""Stage 02's test set-up: the example API on real servers (``base_url``).

In-process tests call apps through ``stage02_helpers.call`` (both WSGI
linters on). Over-the-wire tests get the example API served by stage 01's
own server and by gunicorn, each in a child process on a free port
(``workbook.testing.served``); ``client`` (tests/conftest.py) talks to it.
The stage under test is on ``sys.path`` by tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbook.testing import WSGI_SERVERS, served


@pytest.fixture(scope="module", params=WSGI_SERVERS)
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve the books API on stage 01's server, then gunicorn; yield its base URL."""
    with served("02_router", request.param, "wsgirouter.example:app") as url:
        yield url

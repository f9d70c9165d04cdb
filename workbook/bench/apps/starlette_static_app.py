"""The static-file benchmark app on Starlette: ``StaticFiles`` mounted at /static."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from workbook.bench.apps.common import static_folder

app = Starlette(routes=[Mount("/static", StaticFiles(directory=static_folder()))])

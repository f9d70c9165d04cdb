"""The static-file benchmark app on ``bare`` (stage 05): bare_static.StaticFiles at /static."""

from __future__ import annotations

from bare import Bare
from bare_static import StaticFiles

from workbook.bench.apps.common import static_folder

app = Bare()
app.add_middleware(StaticFiles, prefix="/static", directory=static_folder())

"""The sample app's settings, read from the environment at start-up.

``ROOB_DB``     the SQLite file (default: ``products.db`` beside ``core/``)
``ROOB_DEBUG``  ``1`` shows exception details in 500 responses (default ``0``)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DATABASE_VARIABLE = "ROOB_DB"
DEBUG_VARIABLE = "ROOB_DEBUG"
DEFAULT_DATABASE = Path(__file__).resolve().parent.parent / "products.db"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def database_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the SQLite file named by ``ROOB_DB``, or the default."""
    value = environ.get(DATABASE_VARIABLE, "")
    return Path(value) if value else DEFAULT_DATABASE


def debug_mode(environ: Mapping[str, str] = os.environ) -> bool:
    """Return whether ``ROOB_DEBUG`` turns debug mode on; refuse unclear values."""
    value = environ.get(DEBUG_VARIABLE, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{DEBUG_VARIABLE}={value!r}: use 1 or 0")

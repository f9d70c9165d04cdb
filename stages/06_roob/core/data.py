"""The chapter's seed inventory: what a new database starts with.

This is the chapter's ``inventory`` as it prints it. It is no longer the
data itself: ``core/database.py`` copies it into SQLite the first time the
database file is created, and from then on the file is the one truth every
worker process reads and writes.
"""

from __future__ import annotations

inventory: dict[str, list[dict[str, object]]] = {
    "mobile": [
        {"product_id": 1, "product_name": "S25 Ultra", "brand": "Samsung"},
        {"product_id": 2, "product_name": "iPhone", "brand": "Apple"},
    ],
    "laptop": [
        {"product_id": 3, "product_name": "Macbook Pro M4", "brand": "Apple"},
        {"product_id": 4, "product_name": "Dell XPS", "brand": "Dell"},
    ],
}

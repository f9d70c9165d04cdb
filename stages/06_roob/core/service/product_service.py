"""The service layer: what the product API means, apart from HTTP.

Controllers turn requests into calls on :class:`ProductService` and its
results (or its exceptions) into responses; the service speaks SQL to the
database and knows nothing of webob.

One product model everywhere: a row ``(id, name, brand, category)``, and in
JSON ``{"id": 1, "product_name": "S25 Ultra", "brand": "Samsung",
"category": "mobile"}``.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from core.database import Database

#: The category of a product created without one (the chapter's create
#: example sends none).
DEFAULT_CATEGORY = "uncategorized"

#: A category is also a URL segment (``/api/products/{category}``): a letter
#: first, so it can never look like an id, then letters, digits, ``-``, ``_``.
CATEGORY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

#: SQLite stores integers in 64 bits; a larger id cannot exist.
MAX_ID = 2**63 - 1

REQUIRED_FIELDS = ("id", "product_name", "brand")
OPTIONAL_FIELDS = ("category",)

SELECT_PRODUCTS = "SELECT id, name, brand, category FROM products"

Product = dict[str, Any]


class ProductError(Exception):
    """A request the service refuses; ``str(error)`` is the client's message."""


class InvalidProduct(ProductError):
    """The data for a new product is missing fields or has wrong values."""


class DuplicateProduct(ProductError):
    """A product with this id already exists."""


class ProductNotFound(ProductError):
    """No product has this id."""


def product_json(row: sqlite3.Row) -> Product:
    """Turn a database row into the API's JSON shape."""
    return {
        "id": row["id"],
        "product_name": row["name"],
        "brand": row["brand"],
        "category": row["category"],
    }


def not_found(id: int) -> str:
    """Return the chapter's message for an id no product has."""
    return f"No product found with product id {id}"


def validate_product(product: object) -> tuple[int, str, str, str]:
    """Check the JSON for a new product; return ``(id, name, brand, category)``.

    ``{"id": 5, "product_name": "Galaxy Tab", "brand": "Samsung"}`` ->
    ``(5, "Galaxy Tab", "Samsung", "uncategorized")``. Anything else raises
    :class:`InvalidProduct` with a message that says what to change.
    """
    if not isinstance(product, dict):
        raise InvalidProduct("A product is a JSON object with id, product_name and brand")
    missing = [name for name in REQUIRED_FIELDS if name not in product]
    if missing:
        raise InvalidProduct(f"Missing required field(s): {', '.join(missing)}")
    unknown = sorted(set(product) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise InvalidProduct(f"Unknown field(s): {', '.join(unknown)}")
    id = product["id"]
    # bool is a subclass of int in Python, but true is no product id.
    if not isinstance(id, int) or isinstance(id, bool) or not 1 <= id <= MAX_ID:
        raise InvalidProduct("id must be a positive integer")
    for name in ("product_name", "brand"):
        value = product[name]
        if not isinstance(value, str) or not value.strip():
            raise InvalidProduct(f"{name} must be a non-empty string")
    category = product.get("category", DEFAULT_CATEGORY)
    if not isinstance(category, str) or not CATEGORY_PATTERN.fullmatch(category):
        raise InvalidProduct(
            "category must start with a letter and hold only letters, digits, '-' and '_'"
        )
    return id, product["product_name"], product["brand"], category


class ProductService:
    """Read and change the products in the database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get_all_products(self) -> dict[str, list[Product]]:
        """Return every product grouped by category, as the chapter's inventory is.

        Categories come in the order of their first product's id.
        """
        with self.database.transaction() as connection:
            rows = connection.execute(f"{SELECT_PRODUCTS} ORDER BY id").fetchall()
        grouped: dict[str, list[Product]] = {}
        for row in rows:
            grouped.setdefault(row["category"], []).append(product_json(row))
        return grouped

    def get_product_by_id(self, id: int) -> Product | None:
        """Return the product with this id, or ``None``."""
        if not -MAX_ID <= id <= MAX_ID:
            return None
        with self.database.transaction() as connection:
            row = connection.execute(f"{SELECT_PRODUCTS} WHERE id = ?", (id,)).fetchone()
        return None if row is None else product_json(row)

    def get_products_by_category(self, category: str) -> list[Product]:
        """Return the products in a category, by id; an unknown category has none."""
        with self.database.transaction() as connection:
            rows = connection.execute(
                f"{SELECT_PRODUCTS} WHERE category = ? ORDER BY id", (category,)
            ).fetchall()
        return [product_json(row) for row in rows]

    def create_new_product(self, product: object) -> list[Product]:
        """Add a product from its JSON; return every product, by id.

        Raises :class:`InvalidProduct` for bad data and
        :class:`DuplicateProduct` when the id is taken.
        """
        # EXERCISE 6.4: Create a product in SQLite
        id, name, brand, category = validate_product(product)
        try:
            with self.database.transaction(write=True) as connection:
                connection.execute(
                    "INSERT INTO products (id, name, brand, category) VALUES (?, ?, ?, ?)",
                    (id, name, brand, category),
                )
                rows = connection.execute(f"{SELECT_PRODUCTS} ORDER BY id").fetchall()
        except sqlite3.IntegrityError as error:
            raise DuplicateProduct(f"A product with product id {id} already exists") from error
        return [product_json(row) for row in rows]
        # END EXERCISE

    def delete_product_by_id(self, id: int) -> list[Product]:
        """Delete the product with this id; return the products left, by id.

        Raises :class:`ProductNotFound` when no product has the id.
        """
        if not -MAX_ID <= id <= MAX_ID:
            raise ProductNotFound(not_found(id))
        with self.database.transaction(write=True) as connection:
            deleted = connection.execute("DELETE FROM products WHERE id = ?", (id,)).rowcount
            rows = connection.execute(f"{SELECT_PRODUCTS} ORDER BY id").fetchall()
        if deleted == 0:
            raise ProductNotFound(not_found(id))
        return [product_json(row) for row in rows]

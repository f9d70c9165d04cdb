"""The service and data layers: one product model in one SQLite file.

Tests tagged 6.4 grade ``ProductService.create_new_product`` directly, on a
fresh database each, without HTTP.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
from core.data import inventory
from core.database import SCHEMA_VERSION, Database
from core.service.product_service import (
    DuplicateProduct,
    InvalidProduct,
    ProductNotFound,
    ProductService,
    validate_product,
)

GALAXY_TAB = {"id": 5, "product_name": "Galaxy Tab", "brand": "Samsung"}

CATEGORY_RULE = "category must start with a letter and hold only letters, digits, '-' and '_'"

SEEDED = [
    {"id": 1, "product_name": "S25 Ultra", "brand": "Samsung", "category": "mobile"},
    {"id": 2, "product_name": "iPhone", "brand": "Apple", "category": "mobile"},
    {"id": 3, "product_name": "Macbook Pro M4", "brand": "Apple", "category": "laptop"},
    {"id": 4, "product_name": "Dell XPS", "brand": "Dell", "category": "laptop"},
]


@pytest.fixture
def service(database) -> ProductService:
    """A service on a fresh, seeded database."""
    return ProductService(database)


def test_a_new_database_is_seeded_from_the_chapter_inventory(service):
    """A new database holds the chapter's four products, grouped by category in its order."""
    assert service.get_all_products() == {"mobile": SEEDED[:2], "laptop": SEEDED[2:]}


def test_the_seed_is_copied_only_once(tmp_path):
    """Opening an existing database does not seed it again: a deleted product stays deleted."""
    path = tmp_path / "products.db"
    ProductService(Database(path, seed=inventory)).delete_product_by_id(1)
    reopened = ProductService(Database(path, seed=inventory))
    assert reopened.get_product_by_id(1) is None
    assert len(reopened.get_products_by_category("mobile")) == 1


def test_the_database_uses_wal_and_records_its_schema_version(database):
    """The file is in WAL mode (readers do not wait for a writer) and knows its schema version."""
    ProductService(database).get_all_products()
    with sqlite3.connect(database.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    connection.close()


def test_workers_starting_together_seed_once(tmp_path):
    """Eight first requests at once, each on its own connection as each worker has, seed once."""
    path = tmp_path / "products.db"
    errors: list[BaseException] = []
    start = threading.Barrier(8, timeout=30)

    def first_request() -> None:
        try:
            start.wait()
            Database(path, seed=inventory).initialize()
        except BaseException as error:  # collected, so the test shows it
            errors.append(error)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    listed = ProductService(Database(path, seed=inventory)).get_all_products()
    assert sum(len(products) for products in listed.values()) == 4


def test_wal_switch_waits_for_a_worker_holding_the_write_lock(tmp_path):
    """A first start waits for another worker's write lock; SQLite gives no busy wait there.

    The race behind a rare CI failure, made certain: one worker is inside
    its ``BEGIN IMMEDIATE`` while another asks for WAL mode, which SQLite
    refuses at once ("database is locked") without calling the busy handler.
    The lock is let go only once the second worker has been refused and has
    asked again, so a start that does not retry fails here every time.
    """
    path = tmp_path / "products.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    asked_twice = threading.Event()
    asked = 0

    def count_wal_requests(statement: str) -> None:
        nonlocal asked
        if statement == "PRAGMA journal_mode = WAL":
            asked += 1
            if asked == 2:
                asked_twice.set()

    class Traced(Database):
        def connect(self) -> sqlite3.Connection:
            connection = super().connect()
            connection.set_trace_callback(count_wal_requests)
            return connection

    errors: list[BaseException] = []

    def first_request() -> None:
        try:
            Traced(path, seed=inventory).initialize()
        except BaseException as error:  # collected, so the test shows it
            errors.append(error)
        finally:
            asked_twice.set()  # a start that gave up ends the wait too

    worker = threading.Thread(target=first_request)
    worker.start()
    try:
        assert asked_twice.wait(30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    worker.join(60)
    assert errors == [] and not worker.is_alive()
    listed = ProductService(Database(path, seed=inventory)).get_all_products()
    assert sum(len(products) for products in listed.values()) == 4


def test_a_database_of_another_schema_version_is_refused(tmp_path):
    """A file written by another version of the schema is refused, not misread."""
    path = tmp_path / "products.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(RuntimeError, match="schema version 99"):
        Database(path).initialize()


@pytest.mark.exercise("6.4")
def test_create_returns_every_product_with_the_new_one(service):
    """create_new_product stores the product and returns every product by id."""
    products = service.create_new_product(dict(GALAXY_TAB, category="tablet"))
    assert products == [*SEEDED, dict(GALAXY_TAB, category="tablet")]


@pytest.mark.exercise("6.4")
def test_a_created_product_is_stored(service, database):
    """A product created through one service is read back by another on the same file."""
    service.create_new_product(GALAXY_TAB)
    again = ProductService(Database(database.path))
    assert again.get_product_by_id(5) == dict(GALAXY_TAB, category="uncategorized")


@pytest.mark.exercise("6.4")
def test_a_product_without_category_is_uncategorized(service):
    """A product created without a category lands in 'uncategorized'."""
    service.create_new_product(GALAXY_TAB)
    assert service.get_all_products()["uncategorized"] == [
        dict(GALAXY_TAB, category="uncategorized")
    ]


@pytest.mark.exercise("6.4")
def test_a_taken_id_is_a_duplicate(service):
    """Creating a product with an id that exists raises DuplicateProduct and changes nothing."""
    with pytest.raises(DuplicateProduct, match="A product with product id 1 already exists"):
        service.create_new_product({"id": 1, "product_name": "Other", "brand": "Other"})
    assert service.get_product_by_id(1) == SEEDED[0]


@pytest.mark.exercise("6.4")
def test_invalid_data_creates_nothing(service):
    """create_new_product refuses invalid data with InvalidProduct and stores nothing."""
    with pytest.raises(InvalidProduct, match="Missing required field"):
        service.create_new_product({"id": 9, "product_name": "No brand"})
    assert service.get_product_by_id(9) is None


@pytest.mark.parametrize(
    ("product", "message"),
    [
        ([], "A product is a JSON object with id, product_name and brand"),
        ("Galaxy Tab", "A product is a JSON object with id, product_name and brand"),
        ({}, "Missing required field(s): id, product_name, brand"),
        ({"id": 5, "brand": "Samsung"}, "Missing required field(s): product_name"),
        (dict(GALAXY_TAB, price=10), "Unknown field(s): price"),
        (dict(GALAXY_TAB, id="5"), "id must be a positive integer"),
        (dict(GALAXY_TAB, id=True), "id must be a positive integer"),
        (dict(GALAXY_TAB, id=0), "id must be a positive integer"),
        (dict(GALAXY_TAB, id=2**63), "id must be a positive integer"),
        (dict(GALAXY_TAB, product_name=""), "product_name must be a non-empty string"),
        (dict(GALAXY_TAB, brand=None), "brand must be a non-empty string"),
        (dict(GALAXY_TAB, category="12"), CATEGORY_RULE),
        (dict(GALAXY_TAB, category="tab/let"), CATEGORY_RULE),
    ],
)
def test_validate_product_says_what_is_wrong(product, message):
    """validate_product refuses each kind of bad data with a message naming the problem."""
    with pytest.raises(InvalidProduct) as raised:
        validate_product(product)
    assert str(raised.value) == message


def test_delete_returns_the_products_left(service):
    """delete_product_by_id removes the product and returns the rest by id."""
    assert service.delete_product_by_id(2) == [SEEDED[0], *SEEDED[2:]]


@pytest.mark.parametrize("id", [99, -1, 2**70])
def test_deleting_an_unknown_id_is_not_found(service, id):
    """Deleting an id no product has raises ProductNotFound with the chapter's message."""
    with pytest.raises(ProductNotFound) as raised:
        service.delete_product_by_id(id)
    assert str(raised.value) == f"No product found with product id {id}"


@pytest.mark.parametrize("id", [99, -1, 2**70])
def test_an_unknown_id_has_no_product(service, id):
    """get_product_by_id returns None for an id no product has, even one SQLite cannot store."""
    assert service.get_product_by_id(id) is None


def test_a_category_lists_its_products(service):
    """get_products_by_category returns the category's products; an unknown one has none."""
    assert service.get_products_by_category("laptop") == SEEDED[2:]
    assert service.get_products_by_category("Laptop") == []

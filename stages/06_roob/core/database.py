"""The data layer: one SQLite file that every worker process shares.

The chapter kept products in module-level dicts and lists. Under
``gunicorn --workers 4`` each worker is its own process with its own copy
of those, so a product created through one worker was missing from the
next request another worker served. A file on disk is shared by every
process; SQLite's locking keeps their reads and writes in order.

Each transaction opens its own connection and closes it at the end: nothing
is shared between threads, and nothing opened before gunicorn forks its
workers is carried into them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

#: Stored in the file's header (``PRAGMA user_version``): 0 means a new,
#: empty file; this number means the schema below exists and was seeded.
SCHEMA_VERSION = 1

SCHEMA = (
    """CREATE TABLE products (
        id       INTEGER PRIMARY KEY,
        name     TEXT NOT NULL,
        brand    TEXT NOT NULL,
        category TEXT NOT NULL
    )""",
    "CREATE INDEX products_by_category ON products (category, id)",
)

Inventory = Mapping[str, Iterable[Mapping[str, object]]]


class Database:
    """The product database: a SQLite file, created and seeded on first use.

    ``seed`` is an inventory shaped like ``core.data.inventory`` (category
    -> list of products); it is copied in once, when the file is new.
    """

    def __init__(
        self, path: str | Path, seed: Inventory | None = None, timeout: float = 10.0
    ) -> None:
        self.path = Path(path)
        self.seed = seed
        self.timeout = timeout
        self.ready = False

    def connect(self) -> sqlite3.Connection:
        """Open a connection; transactions are begun and ended explicitly.

        ``isolation_level=None`` stops the sqlite3 module from opening
        transactions on its own, so :meth:`transaction` decides exactly where
        each begins. ``timeout`` is how long to wait for another process's
        write lock before giving up.
        """
        connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        connection.row_factory = sqlite3.Row
        # In WAL mode, NORMAL syncs at checkpoints instead of at every commit:
        # a commit costs microseconds instead of an fsync (tens of ms on a
        # busy disk). The file never corrupts; a power cut may lose only the
        # last commits. The setting is per connection, hence here.
        connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    def initialize(self) -> None:
        """Create the schema and copy the seed in, once per file, whoever comes first.

        Several gunicorn workers may start at the same moment. ``BEGIN
        IMMEDIATE`` takes the write lock before looking, so one process
        creates and seeds while the others wait, then find ``user_version``
        already set and do nothing. Schema, seed and version are one
        transaction: a crash half-way leaves a file that is still new.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._use_wal()
        with self._begin("BEGIN IMMEDIATE") as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                for statement in SCHEMA:
                    connection.execute(statement)
                connection.executemany(
                    "INSERT INTO products (id, name, brand, category) VALUES (?, ?, ?, ?)",
                    seed_rows(self.seed or {}),
                )
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: schema version {version}, "
                    f"this code knows version {SCHEMA_VERSION}"
                )
        self.ready = True

    def _use_wal(self) -> None:
        """Put the file in WAL mode, retrying while another connection holds the write lock.

        WAL lets readers go on while one process writes; the mode is stored
        in the file, so this does work only the first time. It cannot change
        inside a transaction, hence its own step before ``BEGIN``.

        Switching needs an exclusive lock. When another worker already holds
        the write lock (its ``BEGIN IMMEDIATE``), SQLite answers
        ``SQLITE_BUSY`` at once instead of calling the busy handler, since
        waiting could deadlock (https://sqlite.org/c3ref/busy_handler.html):
        ``timeout`` does not apply, so the wait is done here, for as long.
        Raises :class:`sqlite3.OperationalError` if the lock is still held
        after ``timeout`` seconds, or for any other error.
        """
        deadline = time.monotonic() + self.timeout
        pause = 0.001
        connection = self.connect()
        try:
            while True:
                try:
                    connection.execute("PRAGMA journal_mode = WAL")
                    return
                except sqlite3.OperationalError as error:
                    if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                        raise
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        finally:
            connection.close()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """Run the block in one transaction on a fresh connection; commit or roll back.

        A write transaction begins ``IMMEDIATE``: it takes the write lock at
        the start, so two workers that both read-then-write wait for each
        other instead of one failing half-way with "database is locked".
        """
        if not self.ready:
            self.initialize()
        with self._begin("BEGIN IMMEDIATE" if write else "BEGIN") as connection:
            yield connection

    @contextmanager
    def _begin(self, begin: str) -> Iterator[sqlite3.Connection]:
        """Open a connection, run ``begin``; COMMIT after the block, ROLLBACK if it raised.

        The connection is closed in every case. ``BaseException``, not
        ``Exception``: a worker stopped mid-block (SystemExit,
        KeyboardInterrupt) must not leave a transaction open either.
        """
        connection = self.connect()
        try:
            connection.execute(begin)
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()


def seed_rows(inventory: Inventory) -> Iterator[tuple[object, object, object, str]]:
    """Flatten the chapter's inventory into rows: ``(id, name, brand, category)``."""
    for category, products in inventory.items():
        for product in products:
            yield product["product_id"], product["product_name"], product["brand"], category

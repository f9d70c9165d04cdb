"""The sample app: a product API built on roob.

Importing ``core`` creates the pieces; importing ``core.main`` (what
gunicorn does) also imports the controllers, whose decorators register the
routes on ``app``.

- ``app``: the ``Roob`` framework instance the controllers register on.
- ``exception_handler_middleware``: ``app`` wrapped in the error middleware,
  the WSGI application a server runs.
- ``database``: the SQLite file named by ``ROOB_DB``, created and seeded
  from ``core/data.py`` on the first request that needs it.
"""

from __future__ import annotations

from roob.framework import Roob
from roob.middlewares import ErrorHandlerMiddleware

from core.data import inventory
from core.database import Database
from core.settings import database_path, debug_mode

# Create the framework instance
app = Roob()

# Wrap it with error handling middleware
exception_handler_middleware = ErrorHandlerMiddleware(app=app, debug=debug_mode())

# The products live in one SQLite file that every worker process shares.
database = Database(database_path(), seed=inventory)

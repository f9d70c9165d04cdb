"""Gunicorn settings for production: ``gunicorn -c gunicorn_config.py core.main:app``.

Each setting can be changed without editing this file:

``ROOB_BIND``       address:port to listen on (default ``127.0.0.1:8000``; behind a
                    reverse proxy keep it on loopback, ``0.0.0.0:8000`` exposes it)
``ROOB_WORKERS``    number of worker processes (default: 2 x CPUs + 1)
``ROOB_LOG_LEVEL``  gunicorn's log level (default ``info``)

Several workers are several processes, each with its own memory: that is why
the products live in SQLite (``ROOB_DB``), not in a Python dict.
"""

from __future__ import annotations

import logging
import multiprocessing
import os

bind = os.environ.get("ROOB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("ROOB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("ROOB_LOG_LEVEL", "info")
proc_name = "roob"


def post_worker_init(worker: object) -> None:
    """Send the ``roob`` logger (500 tracebacks) to gunicorn's error log, with its format."""
    error_log = logging.getLogger("gunicorn.error")
    roob_log = logging.getLogger("roob")
    roob_log.handlers = list(error_log.handlers)
    roob_log.setLevel(logging.INFO)
    roob_log.propagate = False

"""Shared test set-up lives in the workbook's pytest plugin.

``workbook/pytest_plugin.py`` (loaded by ``-p`` in pyproject's addopts, so
before any conftest) adds ``--stage-dir`` and the ``sent`` fixture.
"""

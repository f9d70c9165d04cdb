"""The benchmark app, written once per framework (see ``common.py`` for what it serves).

Each module exposes ``app``; servers load it as ``workbook.bench.apps.NAME:app``.
"""

"""The course's exercises: cut them out of a stage, then grade a learner's copy.

- ``regions``: find the ``# EXERCISE N.k: Title`` ... ``# END EXERCISE`` regions.
- ``cutter``: copy a stage with regions replaced by ``NotImplementedError`` stubs.
- ``plugin``: the pytest plugin that records each test's outcome in the child run.
- ``runner``: run a stage's suite against a copy, with per-test and overall timeouts.
- ``report``: scores per exercise, and the text, JSON and CSV reports.
- ``cli``: ``python -m workbook exercise N`` and ``python -m workbook grade ...``.
"""

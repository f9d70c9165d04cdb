"""The course's own tooling: stage registry, tracer, exercise cutter, grader, benchmarks.

Run ``python -m workbook --help`` for the command line.
"""

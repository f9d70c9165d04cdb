"""The course's benchmarks: every stage beside its peers, measured in one run.

- ``apps/``      the same small app written once per framework
- ``servers.py`` how each server is started, checked, measured and stopped
- ``load.py``    wrk (or the built-in ``pyload`` client) and its JSON report
- ``scenarios.py`` what is compared with what, and the goals
- ``run.py``     interleaved rounds, the soak
- ``routers.py`` router scaling, in process
- ``results.py`` what a run measured, as typed dataclasses, and results.json
- ``report.py``  goals, RESULTS.md, plots
- ``cli.py``     ``python -m workbook bench [--quick]``
"""

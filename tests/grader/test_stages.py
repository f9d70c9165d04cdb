"""Guards on the real stages' exercises: cut cleanly, tagged, graded in order.

For every stage: the markers are well formed and cut into a starter whose
every module imports; every exercise has a tagged test and every tag names
an exercise; the README lists the exercises. For every exercise N.k: a copy
of the stage with only N.k cut out fails at least one test tagged N.k and
no test tagged with an earlier exercise (the order rule). That check runs
only the tests tagged N.1 ... N.k, in child pytest processes, two at a time
(WORKBOOK_META_JOBS changes that).

The stages' own suites check that the reference passes every test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbook.grader import exercises
from workbook.grader.cutter import cut_problems, write_copy
from workbook.grader.regions import Region, python_files, scan
from workbook.grader.runner import Run, Suite, run_suite

SUITES = [suite for suite in Suite.registered() if suite.reference.is_dir()]
REGIONS = {suite.name: scan(suite.reference)[0] for suite in SUITES}
WITH_EXERCISES = [suite for suite in SUITES if REGIONS[suite.name]]
ORDER_TEST = "test_stubbing_one_exercise_fails_its_tests_and_no_earlier_ones"
JOBS = int(os.environ.get("WORKBOOK_META_JOBS", "2"))
TEST_TIMEOUT = 15.0  # per test inside the child runs: a stub should fail fast
RUN_TIMEOUT = 300.0  # per child run


@dataclass(frozen=True)
class Case:
    """One exercise of one stage, for the order rule."""

    suite: Suite
    region: Region

    def __repr__(self) -> str:
        return f"Case({self.key})"

    @property
    def key(self) -> str:
        return f"{self.suite.name}-{self.region.id}"

    @property
    def earlier(self) -> set[str]:
        return {
            region.id for region in REGIONS[self.suite.name] if region.index < self.region.index
        }


CASES = [Case(suite, region) for suite in WITH_EXERCISES for region in REGIONS[suite.name]]


def stage_ids(suite: Suite) -> str:
    return suite.name


# ── markers, starter, README ─────────────────────────────────────────────────


@pytest.mark.parametrize("suite", SUITES, ids=stage_ids)
def test_stage_has_at_least_three_exercises(suite: Suite) -> None:
    """Each stage marks at least three exercise regions."""
    assert len(REGIONS[suite.name]) >= 3, (
        f"{suite.name} marks {[r.id for r in REGIONS[suite.name]]}"
    )


def test_course_has_at_least_eighteen_exercises() -> None:
    """The course has 18 or more exercises in all."""
    assert sum(len(regions) for regions in REGIONS.values()) >= 18


@pytest.mark.parametrize("suite", WITH_EXERCISES, ids=stage_ids)
def test_exercise_markers_are_well_formed(suite: Suite) -> None:
    """Every region is closed, sits in one function body, and ids run N.1, N.2, ..."""
    regions, problems = scan(suite.reference)
    problems += cut_problems(suite.reference, regions)
    assert problems == []


def importable_modules(folder: Path) -> list[str]:
    """Return the dotted names of the stage's modules (packages followed from the top)."""
    names = []
    for file in python_files(folder):
        parts = file.relative_to(folder).with_suffix("").parts
        packages = [
            folder.joinpath(*parts[:depth], "__init__.py") for depth in range(1, len(parts))
        ]
        if parts[-1] == "__main__" or not all(package.exists() for package in packages):
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


IMPORT_ALL = """
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except BaseException as error:
        failures[name] = traceback.format_exception_only(type(error), error)[-1].strip()
print(json.dumps(failures))
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("suite", WITH_EXERCISES, ids=stage_ids)
def test_full_starter_imports(suite: Suite, tmp_path: Path) -> None:
    """With every exercise cut out, every module of the stage still imports."""
    starter = tmp_path / suite.name
    write_copy(suite.reference, starter, REGIONS[suite.name])
    modules = importable_modules(starter)
    env = dict(
        os.environ,
        PYTHONPATH=str(starter),
        WORKBOOK_STAGE_DIR=str(starter),
        PYTHONDONTWRITEBYTECODE="1",
    )
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, json.dumps(modules)],
        cwd=starter,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}


@pytest.mark.parametrize("suite", WITH_EXERCISES, ids=stage_ids)
def test_code_exercises_toml_and_readme_table_agree(suite: Suite) -> None:
    """Every marked exercise has its prompt in exercises.toml (none left in the code), and the
    README's exercise table is the one the file generates (python -m workbook exercises extract)."""
    assert exercises.check(suite.reference) == []


@pytest.mark.parametrize("suite", WITH_EXERCISES, ids=stage_ids)
def test_starter_carries_each_prompt_under_its_header(suite: Suite, tmp_path: Path) -> None:
    """The cutter writes exercises.toml's task and hint into the starter, where scan reads them."""
    starter = tmp_path / suite.name
    write_copy(suite.reference, starter, REGIONS[suite.name])
    prompts = exercises.load(suite.reference)
    for region in scan(starter, with_prompts=False)[0]:
        assert region.task == prompts[region.id].task_lines, region.id
        assert region.hint == " ".join(prompts[region.id].hints), region.id


@pytest.mark.parametrize("suite", WITH_EXERCISES, ids=stage_ids)
def test_readme_lists_every_exercise(suite: Suite) -> None:
    """The stage README has an Exercises section that names every exercise id."""
    readme = suite.reference / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    section = re.search(r"^#+ .*Exercises.*$", text, re.MULTILINE | re.IGNORECASE)
    assert section, f"{readme} has no 'Exercises' heading"
    after = text[section.start() :]
    missing = [
        region.id
        for region in REGIONS[suite.name]
        if not re.search(rf"(?<![\d.]){re.escape(region.id)}(?![\d])", after)
    ]
    assert missing == [], f"{readme}: the Exercises section does not name {missing}"


# ── tags ─────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="session")
def collected() -> dict[str, Run]:
    """Collect each stage's suite against the reference, once (lazily, per stage)."""
    return {}


def collect(suite: Suite, cache: dict[str, Run]) -> Run:
    if suite.name not in cache:
        cache[suite.name] = run_suite(suite, suite.reference, collect_only=True, total_timeout=120)
    run = cache[suite.name]
    assert run.collect_errors == [], f"{suite.tests} does not load: {run.collect_errors}"
    return run


@pytest.mark.timeout(150)
@pytest.mark.parametrize(
    "suite", [suite for suite in WITH_EXERCISES if suite.tests.is_dir()], ids=stage_ids
)
def test_every_exercise_has_a_tagged_test(suite: Suite, collected: dict[str, Run]) -> None:
    """Each exercise region is graded by at least one test tagged with its id."""
    tagged = {test.exercise for test in collect(suite, collected).tests}
    untested = [region.id for region in REGIONS[suite.name] if region.id not in tagged]
    assert untested == [], f"{suite.name}: no test in {suite.tests} is tagged {untested}"


@pytest.mark.timeout(150)
@pytest.mark.parametrize(
    "suite", [suite for suite in WITH_EXERCISES if suite.tests.is_dir()], ids=stage_ids
)
def test_every_tag_names_an_exercise(suite: Suite, collected: dict[str, Run]) -> None:
    """Every @pytest.mark.exercise id in the suite is a region of the stage."""
    known = {region.id for region in REGIONS[suite.name]}
    strays = sorted(
        {
            f"{test.exercise}: {test.nodeid}"
            for test in collect(suite, collected).tests
            if test.exercise is not None and test.exercise not in known
        }
    )
    assert strays == [], f"{suite.name}: tests tagged with ids the stage does not mark"


# ── the order rule ───────────────────────────────────────────────────────────


def run_with_one_stub(case: Case, folder: Path) -> Run:
    """Grade a copy with only this exercise cut out, on the tests tagged N.1 ... N.k."""
    write_copy(case.suite.reference, folder, REGIONS[case.suite.name], stubbed={case.region.id})
    return run_suite(
        case.suite,
        folder,
        only={*case.earlier, case.region.id},
        timeout=TEST_TIMEOUT,
        total_timeout=RUN_TIMEOUT,
    )


@pytest.fixture(scope="session")
def stub_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Run]]]:
    """Start every selected order-rule run, two at a time, in the order the tests will ask."""
    cases: list[Case] = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "originalname", None) == ORDER_TEST
    ]
    pool = ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="stub-run")
    futures = {}
    for case in cases:
        folder = tmp_path_factory.mktemp(f"stub-{case.key}") / case.suite.name
        futures[case.key] = pool.submit(run_with_one_stub, case, folder)
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def describe(test) -> str:
    details = test.details
    text = details.get("message") or details.get("got") or "failed"
    return f"{test.nodeid}: {str(text).splitlines()[0]}"


@pytest.mark.timeout(2 * RUN_TIMEOUT + 60)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.key)
def test_stubbing_one_exercise_fails_its_tests_and_no_earlier_ones(
    case: Case, stub_runs: dict[str, Future[Run]]
) -> None:
    """With only exercise N.k cut out, a test tagged N.k fails and no test of N.j < k does."""
    run = stub_runs[case.key].result(timeout=2 * RUN_TIMEOUT)
    label = f"{case.suite.name}, only exercise {case.region.id} cut out"
    assert run.collect_errors == [], f"{label}: the suite does not load: {run.collect_errors}"
    assert run.stopped is None, f"{label}: {run.stopped}"
    own = [test for test in run.tests if test.exercise == case.region.id]
    assert own, f"{label}: no test is tagged {case.region.id}"
    assert [test for test in own if test.outcome == "failed"], (
        f"{label}: all {len(own)} tests tagged {case.region.id} still pass, so none grades it"
    )
    broken = [
        describe(test)
        for test in run.tests
        if test.exercise in case.earlier and test.outcome == "failed"
    ]
    assert broken == [], f"{label}: tests of earlier exercises fail (order rule)"

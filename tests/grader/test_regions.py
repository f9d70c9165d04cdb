"""The region parser and the cutter: what a starter keeps and what it cuts."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from workbook.grader import exercises
from workbook.grader.cutter import cut_problems, stub_problems, stub_source, write_copy
from workbook.grader.regions import RegionError, find_regions, parse_source, scan

FIXTURE_STAGE = Path(__file__).resolve().parent / "fixtures" / "90_greeter"

SOURCE = textwrap.dedent('''\
    def parse_request_line(line: bytes) -> tuple[bytes, bytes, bytes]:
        """Split a request line into method, target and version."""
        # EXERCISE 1.1: Parse the request line
        # Split b"GET / HTTP/1.1" into its three parts.
        # Anything else is HTTPError(400).
        # Hint: bytes.split(b" ") must give
        #   exactly three non-empty parts.
        parts = line.split(b" ")
        return parts[0], parts[1], parts[2]
        # END EXERCISE


    class Server:
        async def serve(self) -> None:
            # EXERCISE 1.2: Serve "forever"
            while True:
                await self.step()
            # END EXERCISE
    ''')


def parse(text: str) -> tuple[list, list[str]]:
    return parse_source(textwrap.dedent(text), "module.py")


def test_header_gives_id_title_and_place() -> None:
    """A header names the exercise id, stage, index and title, and where it sits."""
    first = parse(SOURCE)[0][0]
    assert (first.id, first.stage, first.index, first.title) == (
        "1.1",
        1,
        1,
        "Parse the request line",
    )
    assert (first.path, first.start, first.end, first.indent) == ("module.py", 3, 10, "    ")


def test_comment_block_gives_task_and_hint() -> None:
    """The comments under the header are the task; "Hint:" opens a hint later lines continue."""
    first = parse(SOURCE)[0][0]
    assert first.task == (
        'Split b"GET / HTTP/1.1" into its three parts.',
        "Anything else is HTTPError(400).",
    )
    assert first.hint == 'bytes.split(b" ") must give exactly three non-empty parts.'


def test_region_without_comments_has_no_task_or_hint() -> None:
    """A region may have no task text: then it has no hint either."""
    second = parse(SOURCE)[0][1]
    assert (second.task, second.hints, second.comment_end) == ((), (), second.start)


def test_stub_keeps_header_task_and_end_and_replaces_code() -> None:
    """The cutter keeps the comments and END line and puts one raise at the region's indentation."""
    regions, _ = parse(SOURCE)
    stubbed = stub_source(SOURCE, regions[:1]).splitlines()
    assert stubbed[2:9] == [
        "    # EXERCISE 1.1: Parse the request line",
        '    # Split b"GET / HTTP/1.1" into its three parts.',
        "    # Anything else is HTTPError(400).",
        '    # Hint: bytes.split(b" ") must give',
        "    #   exactly three non-empty parts.",
        '    raise NotImplementedError("exercise 1.1: Parse the request line — see README")',
        "    # END EXERCISE",
    ]


def test_stub_of_a_nested_region_uses_its_own_indentation() -> None:
    """A region in a method body is stubbed at the method body's indentation."""
    regions, _ = parse(SOURCE)
    stubbed = stub_source(SOURCE, regions)
    assert (
        '        raise NotImplementedError("exercise 1.2: Serve \\"forever\\" — see README")\n'
        in stubbed
    )
    assert "await self.step()" not in stubbed
    assert stub_problems(SOURCE, regions) == []


def test_stubbed_source_compiles_and_raises_the_exercise() -> None:
    """A stubbed function raises NotImplementedError naming its exercise."""
    regions, _ = parse(SOURCE)
    namespace: dict[str, object] = {}
    exec(compile(stub_source(SOURCE, regions), "module.py", "exec"), namespace)
    with pytest.raises(
        NotImplementedError, match=r"^exercise 1\.1: Parse the request line — see README$"
    ):
        namespace["parse_request_line"](b"GET / HTTP/1.1")  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("def f():\n    # EXERCISE 1.1: A\n    return 1\n", "has no '# END EXERCISE'"),
        ("def f():\n    return 1\n    # END EXERCISE\n", "without an opening"),
        (
            "def f():\n    # EXERCISE 1.1: A\n    # EXERCISE 1.2: B\n"
            "    pass\n    # END EXERCISE\n",
            "cannot nest",
        ),
        (
            "def f():\n    # EXERCISE 1.1: A\n    pass\n# END EXERCISE\n",
            "not indented like its header",
        ),
        ("# EXERCISE 1.1: A\nx = 1\n# END EXERCISE\n", "is at module level"),
        (
            "def f():\n    # EXERCISE 1.1 A\n    pass\n    # END EXERCISE\n",
            "malformed exercise marker",
        ),
    ],
)
def test_malformed_markers_are_reported(text: str, problem: str) -> None:
    """Unterminated, nested, misindented, module-level or misspelled markers are problems."""
    _, problems = parse_source(text, "module.py")
    assert any(problem in found for found in problems), problems


def test_region_at_class_level_is_a_cut_problem() -> None:
    """A region in a class body (not a function) would run at import: the cutter refuses it."""
    text = "class A:\n    # EXERCISE 1.1: A\n    x = 1\n    # END EXERCISE\n"
    regions, problems = parse_source(text, "module.py")
    assert problems == []
    assert stub_problems(text, regions) == [
        "module.py:2: exercise 1.1 is not inside a function body"
    ]


def test_numbering_problems_are_reported(tmp_path: Path) -> None:
    """Ids must be unique, of the folder's stage, and numbered 1, 2, 3 without gaps."""
    stage = tmp_path / "03_middleware"
    stage.mkdir()
    body = "def f():\n    # EXERCISE {id}: T\n    pass\n    # END EXERCISE\n"
    (stage / "a.py").write_text(body.format(id="3.1") + body.format(id="3.1"))
    (stage / "b.py").write_text(body.format(id="4.3"))
    _, problems = scan(stage)
    assert any("ids must be unique" in problem for problem in problems)
    assert any("numbered for stage 4, but this is stage 3" in problem for problem in problems)
    assert any("without gaps" in problem for problem in problems)
    with pytest.raises(RegionError):
        find_regions(stage)


def test_fixture_stage_regions_are_found_in_exercise_order() -> None:
    """Regions come back ordered by id, whatever file they are in."""
    regions = find_regions(FIXTURE_STAGE)
    assert [(region.id, region.path) for region in regions] == [
        ("90.1", "greeter/text.py"),
        ("90.2", "greeter/text.py"),
        ("90.3", "greeter/app.py"),
    ]
    assert cut_problems(FIXTURE_STAGE, regions) == []


def test_write_copy_stubs_only_the_chosen_exercises(tmp_path: Path) -> None:
    """A copy with one exercise stubbed keeps every other region's code."""
    regions = find_regions(FIXTURE_STAGE)
    target = tmp_path / "90_greeter"
    write_copy(FIXTURE_STAGE, target, regions, stubbed={"90.2"})
    text = (target / "greeter" / "text.py").read_text()
    assert 'raise NotImplementedError("exercise 90.2: Build the greeting — see README")' in text
    assert "words = raw.split()" in text
    assert "exercise 90.1: Normalize a name — see" not in text
    assert (target / "greeter" / "app.py").read_text() == (
        FIXTURE_STAGE / "greeter" / "app.py"
    ).read_text()
    assert [region.id for region in find_regions(target)] == ["90.1", "90.2", "90.3"]


def test_copy_leaves_caches_and_databases_behind(tmp_path: Path) -> None:
    """Caches and local SQLite files are not part of a stage copy."""
    source = tmp_path / "source"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__pycache__" / "x.pyc").write_bytes(b"")
    (source / "data.sqlite3").write_bytes(b"")
    (source / "module.py").write_text("x = 1\n")
    write_copy(source, tmp_path / "copy", [])
    assert sorted(path.name for path in (tmp_path / "copy").iterdir()) == ["module.py"]


def test_extract_moves_in_code_prompts_to_the_toml_and_is_safe_to_rerun(tmp_path: Path) -> None:
    """The older in-code format (the fixture stage still uses it) moves to exercises.toml:
    the code keeps only the markers, the README gets the generated table, the starter is
    unchanged, and a second run changes nothing."""
    stage = tmp_path / "90_greeter"
    shutil.copytree(FIXTURE_STAGE, stage)
    before = tmp_path / "before" / "90_greeter"
    write_copy(FIXTURE_STAGE, before, find_regions(FIXTURE_STAGE))
    assert exercises.check(stage)  # prompts in the code, no toml, no table: all reported
    changes = exercises.extract(stage)
    assert (
        "wrote exercises.toml" in changes and "regenerated the README's exercise table" in changes
    )
    assert exercises.check(stage) == []
    assert all(region.comment_end == region.start for region in scan(stage, with_prompts=False)[0])
    readme = (stage / "README.md").read_text()
    assert exercises.TABLE_START in readme and "| 90.2 | Build the greeting |" in readme
    after = tmp_path / "after" / "90_greeter"
    write_copy(stage, after, find_regions(stage))
    # the same prompts (a long hint may wrap at another word) and the same code
    assert [
        (region.id, region.task, region.hint) for region in scan(after, with_prompts=False)[0]
    ] == [(region.id, region.task, region.hint) for region in scan(before, with_prompts=False)[0]]

    def code(file: Path) -> list[str]:
        return [line for line in file.read_text().splitlines() if not line.strip().startswith("#")]

    for path in ("greeter/text.py", "greeter/app.py"):
        assert code(after / path) == code(before / path)
    assert exercises.extract(stage) == []


def test_prompt_added_later_in_the_code_is_moved_by_a_rerun(tmp_path: Path) -> None:
    """After a merge adds an exercise in the in-code format, extract moves just that one."""
    stage = tmp_path / "90_greeter"
    shutil.copytree(FIXTURE_STAGE, stage)
    exercises.extract(stage)
    text_py = stage / "greeter" / "text.py"
    text_py.write_text(
        text_py.read_text()
        + textwrap.dedent('''

        def shout(text: str) -> str:
            """Return the text in capitals."""
            # EXERCISE 90.4: Shout
            # Return the text in upper case.
            # Hint: str.upper().
            return text.upper()
            # END EXERCISE
        ''')
    )
    assert any("90.4" in problem for problem in exercises.check(stage))
    assert exercises.extract(stage) == [
        "greeter/text.py:"
        + str(text_py.read_text().splitlines().index("    # EXERCISE 90.4: Shout") + 1)
        + ": moved the prompt of 90.4 to exercises.toml",
        "wrote exercises.toml",
        "regenerated the README's exercise table",
    ]
    assert exercises.load(stage)["90.4"].task == "Return the text in upper case.\n"
    assert exercises.check(stage) == []


def test_a_hand_edited_table_row_is_taken_into_the_toml(tmp_path: Path) -> None:
    """A row edited inside the generated table (by hand, or by a merge) moves into the file."""
    stage = tmp_path / "90_greeter"
    shutil.copytree(FIXTURE_STAGE, stage)
    exercises.extract(stage)
    readme = stage / "README.md"
    text = readme.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 90.2 |"))
    cells = row.split(" | ")
    cells[2] = "`greeting` in `greeter/words.py`"
    readme.write_text(text.replace(row, " | ".join(cells)))
    assert exercises.extract(stage) == [
        "README.md: took the edited table row of 90.2 into exercises.toml",
        "wrote exercises.toml",
    ]
    assert exercises.load(stage)["90.2"].where == "`greeting` in `greeter/words.py`"
    assert exercises.check(stage) == []

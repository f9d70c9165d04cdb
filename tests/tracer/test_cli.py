"""``python -m workbook trace``: the command line that ``make trace-N`` runs."""

from __future__ import annotations

import json
import subprocess
import sys
from xml.etree import ElementTree

import pytest

from workbook.stages import REPO, STAGES, stage_dir
from workbook.tracer.cli import main


def test_a_request_given_on_the_command_line_is_traced(capsys):
    """trace 2 GET /books/1 prints the question, the timeline and the response."""
    assert main("trace", ["2", "GET", "/books/1", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stage 02_router: ")
    assert "GET /books/1 -> 200 OK   [02_router, in process" in out
    assert "↳ FULL: /books/{id:int} -> get_book, params {'id': 1}" in out


def test_json_prints_the_trace_as_json_only(capsys):
    """--json prints one JSON document: the trace, nothing else on stdout."""
    assert main("trace", ["4", "GET", "/hello/ada", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["stage"], data["status"], data["response_body"]) == (
        "04_asgi",
        200,
        "Hello, ada!\\n",
    )


def test_svg_writes_the_sequence_diagram(tmp_path, capsys):
    """--svg FILE writes a well-formed SVG beside the printed timeline."""
    target = tmp_path / "trace.svg"
    assert main("trace", ["1", "--svg", str(target)]) == 0
    assert ElementTree.parse(target).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert f"sequence diagram written to {target}" in capsys.readouterr().out


def test_wire_sends_the_request_over_a_socket_and_prints_the_bytes(capsys):
    """--wire runs the stage's server in a thread and shows both directions' bytes."""
    assert main("trace", ["1", "GET", "/", "--wire", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "[01_raw_wsgi, socket, rawwsgi.server.WSGIServer" in out
    assert "client → server (" in out and "    HTTP/1.1 200 OK\\r\\n" in out


def test_a_json_body_gets_its_content_type(capsys):
    """--body with JSON is sent with Content-Type: application/json."""
    assert main("trace", ["5", "POST", "/tasks", "--body", '{"title": "cli"}', "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["status"],
        [b"content-type", b"application/json"]
        in [[name.encode(), value.encode()] for name, value in data["scope"]["headers"]],
    ) == (201, True)


@pytest.mark.parametrize(
    "args, message",
    [
        (["7"], "no stage 7"),
        (["2", "GET"], "give both METHOD and PATH"),
        (["2", "--body", "x"], "--body and --header need METHOD and PATH"),
        (["2", "GET", "/", "--header", "no colon"], "write it as 'Name: value'"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(args, message, capsys):
    """A wrong command line exits 2 and says what is wrong."""
    assert main("trace", args) == 2
    assert message in capsys.readouterr().err


#: The stages whose default trace goes over a socket: they teach the server.
OVER_THE_WIRE = {1: "rawwsgi.server.WSGIServer", 4: "rawasgi.server.ASGIServer"}


@pytest.mark.parametrize("number", sorted(STAGES))
def test_make_trace_runs_for_every_stage(number):
    """`python -m workbook trace N` (make trace-N) succeeds, prints nothing before its header,
    and leaves no file in the stage."""
    before = sorted(path.name for path in stage_dir(number).iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "trace", str(number), "--width", "120"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(f"Stage {STAGES[number]}: ")  # no stray log line first
    transport = f"socket, {OVER_THE_WIRE[number]}" if number in OVER_THE_WIRE else "in process"
    (headline,) = [
        line for line in result.stdout.splitlines() if f"[{STAGES[number]}, {transport}" in line
    ]
    assert " -> 2" in headline  # a 2xx answer
    assert sorted(path.name for path in stage_dir(number).iterdir()) == before


def test_the_stages_that_teach_the_server_show_it_by_default(capsys):
    """trace 1 shows the parser and build_environ; trace 4 the asyncio server's steps."""
    assert main("trace", ["1", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "server → parser: RequestParser.next_event" in out and "server: build_environ(" in out
    assert main("trace", ["4", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "HTTPConnection.read_head" in out and "RequestCycle.run" in out
    assert main("trace", ["1", "--in-process", "--width", "200"]) == 0
    assert "build_environ" not in capsys.readouterr().out


def test_a_gzip_body_is_named_not_dumped(capsys):
    """trace 3's gzip answer reads '167 bytes of gzip', not a page of escaped bytes."""
    assert main("trace", ["3", "--wire", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "bytes of gzip (" in out and "B once unzipped)" in out
    assert "\\x8b" not in out


def test_what_the_app_prints_comes_after_the_trace(capsys):
    """Stage 05's log line is shown under the trace, and its warm-up's not at all."""
    assert main("trace", ["5", "--width", "200"]) == 0
    out = capsys.readouterr().out
    head, _, after = out.partition("the app printed (stdout and stderr) during the request:")
    assert "POST /tasks → 201" in after and "App started" not in out and "GET /tasks" not in after


def renamed_copy(folder, stage: int, old: str, new: str):
    """Return a copy of a reference stage under ``folder`` with one function renamed everywhere."""
    import re
    import shutil

    copy = folder / STAGES[stage]
    shutil.copytree(stage_dir(stage), copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(rf"\b{old}\b", new, text), encoding="utf-8")
    return copy


def test_a_copy_that_renamed_a_layer_function_says_which_layer_it_lost(tmp_path):
    """A learner's copy whose validate_book is now check_book still traces, and the trace
    names the layer pattern that found nothing: a line in the text, a field in --json."""
    copy = renamed_copy(tmp_path, 2, "validate_book", "check_book")

    def trace(*extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "workbook", "trace", "2", "--stage-dir", str(copy), *extra],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=50,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    text = trace("--width", "100")
    assert (
        "! layer not found: handler lane 'handler': no function matches "
        "'wsgirouter.example:validate_book'"
    ) in text
    assert "GET /books/2 -> 200 OK   [02_router, in process" in text
    data = json.loads(trace("--json"))
    assert [(entry["kind"], entry["pattern"]) for entry in data["missing_layers"]] == [
        ("handler", "wsgirouter.example:validate_book")
    ]


def test_the_reference_trace_lists_no_missing_layer(capsys):
    """The reference stage's own trace has every layer: the JSON list is empty."""
    assert main("trace", ["2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["missing_layers"] == []


@pytest.mark.parametrize(
    "folder, message",
    [("nowhere/02_router", "no such folder"), ("stages/01_raw_wsgi", "must be named 02_router")],
)
def test_a_stage_dir_must_be_a_folder_named_for_the_stage(folder, message, capsys):
    """--stage-dir names a folder that stands in for this stage, or the command exits 2."""
    assert main("trace", ["2", "--stage-dir", str(REPO / folder)]) == 2
    assert message in capsys.readouterr().err

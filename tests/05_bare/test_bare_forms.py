"""bare_forms: multipart/form-data by hand, as a stream, with limits; python-multipart as oracle.

The property tests run a fixed, bounded set of examples in ``make test``
(``workbook.fuzzing.fuzz_settings``, derandomized); ``HYPOTHESIS_PROFILE=long``
runs many more, with fresh randomness:

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/05_bare/test_bare_forms.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from bare import Bare, HTTPError, Request
from bare_forms import (
    Form,
    FormLimits,
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    parse_options_header,
    read_form,
    safe_filename,
)
from bare_helpers import Channels, body_events, call, http_scope
from hypothesis import assume, given
from hypothesis import strategies as st
from python_multipart.multipart import MultipartParser as OracleParser
from python_multipart.multipart import parse_options_header as oracle_options

from workbook.fuzzing import FUZZ_TIMEOUT, fuzz_settings

# Derandomized and bounded in make test; HYPOTHESIS_PROFILE=long for a deep run.
PROFILE = fuzz_settings(120)


DEFAULT_LIMITS = FormLimits()


def multipart_body(
    parts: list[tuple[list[tuple[str, str]], bytes]],
    boundary: str,
    preamble: bytes = b"",
    epilogue: bytes = b"",
) -> bytes:
    """Build a multipart body from (header lines, content) pairs, the way a browser does."""
    out = [preamble + (b"\r\n" if preamble else b"")]
    for headers, content in parts:
        out.append(b"--" + boundary.encode() + b"\r\n")
        out.extend(f"{name}: {value}\r\n".encode() for name, value in headers)
        out.append(b"\r\n" + content + b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n" + epilogue)
    return b"".join(out)


def field(
    name: str, content: bytes, filename: str | None = None, content_type: str | None = None
) -> tuple[list[tuple[str, str]], bytes]:
    disposition = f'form-data; name="{name}"' + (
        f'; filename="{filename}"' if filename is not None else ""
    )
    headers = [("Content-Disposition", disposition)]
    if content_type:
        headers.append(("Content-Type", content_type))
    return headers, content


def ours(
    body: bytes, boundary: str, cuts: list[int] = (), limits: FormLimits = DEFAULT_LIMITS
) -> list[tuple[tuple[tuple[str, str], ...], bytes]]:
    """Parse with bare_forms, fed in pieces cut at ``cuts``; return (headers, content) per part."""
    parser = MultipartParser(boundary.encode(), limits)
    events = []
    edges = [0, *sorted(set(cuts)), len(body)]
    for start, end in zip(edges, edges[1:], strict=False):
        events += parser.feed(body[start:end])
    parser.close()
    parts, current = [], None
    for event in events:
        if isinstance(event, PartStart):
            current = (event.headers, [])
        elif isinstance(event, PartData):
            current[1].append(event.data)
        elif isinstance(event, PartEnd):
            parts.append((current[0], b"".join(current[1])))
    return parts


def oracle(
    body: bytes, boundary: str, cuts: list[int] = ()
) -> list[tuple[tuple[tuple[str, str], ...], bytes]]:
    """Parse with python-multipart; the same shape as ``ours``."""
    parts: list[Any] = []
    state: dict[str, Any] = {}

    def on_part_begin() -> None:
        state.update(headers=[], data=[], field=b"", value=b"")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"].append((state["field"].decode().lower(), state["value"].decode().strip()))
        state.update(field=b"", value=b"")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"].append(data[start:end])

    def on_part_end() -> None:
        parts.append((tuple(state["headers"]), b"".join(state["data"])))

    parser = OracleParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
        max_header_count=64,
    )
    edges = [0, *sorted(set(cuts)), len(body)]
    for start, end in zip(edges, edges[1:], strict=False):
        parser.write(body[start:end])
    parser.finalize()
    return parts


# ── The parser (exercise 5.9) ─────────────────────────────────────────────────

BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
EXAMPLE = multipart_body(
    [
        field("title", b"hello"),
        field("photo", b"\x89PNG\r\n\x1a\n--not a boundary\r\n", "cat.png", "image/png"),
        field("empty", b""),
    ],
    BOUNDARY,
)


@pytest.mark.exercise("5.9")
def test_parts_come_out_with_their_headers_and_content() -> None:
    # RFC 7578 §4: each part has its header lines and its bytes, in order.
    assert ours(EXAMPLE, BOUNDARY) == [
        ((("content-disposition", 'form-data; name="title"'),), b"hello"),
        (
            (
                ("content-disposition", 'form-data; name="photo"; filename="cat.png"'),
                ("content-type", "image/png"),
            ),
            b"\x89PNG\r\n\x1a\n--not a boundary\r\n",
        ),
        ((("content-disposition", 'form-data; name="empty"'),), b""),
    ]


@pytest.mark.exercise("5.9")
def test_a_body_fed_one_byte_at_a_time_parses_the_same() -> None:
    # The parser is a stream: where the network cuts the body does not matter.
    assert ours(EXAMPLE, BOUNDARY, cuts=list(range(1, len(EXAMPLE)))) == ours(EXAMPLE, BOUNDARY)


@pytest.mark.exercise("5.9")
def test_content_is_handed_on_before_the_part_ends() -> None:
    # A large part is not held back until its end: memory stays bounded.
    parser = MultipartParser(b"b")
    events = parser.feed(b"--b\r\ncontent-disposition: form-data; name=f\r\n\r\n" + b"x" * 10_000)
    assert sum(len(event.data) for event in events if isinstance(event, PartData)) >= 10_000 - 4


@pytest.mark.exercise("5.9")
def test_preamble_epilogue_and_padding_are_skipped() -> None:
    # RFC 2046 §5.1.1: text before the first and after the last delimiter is ignored;
    # spaces may follow a delimiter before its CRLF.
    body = (
        b"preamble\r\n--b  \r\ncontent-disposition: form-data; name=a\r\n\r\n1\r\n--b--\r\nepilogue"
    )
    assert ours(body, "b") == [((("content-disposition", "form-data; name=a"),), b"1")]


@pytest.mark.exercise("5.9")
@pytest.mark.parametrize(
    "body",
    [
        b"--b\r\ncontent-disposition: form-data; name=a\r\n\r\nno closing delimiter",
        b"--b\r\ncontent-disposition: form-data; name=a\r\n\r\n1\r\n--bX\r\n",
        b"--b\r\nno colon here\r\n\r\n1\r\n--b--",
        b"",
        b"no delimiter at all",
    ],
)
def test_malformed_bodies_are_multipart_errors(body: bytes) -> None:
    with pytest.raises(MultipartError) as error:
        ours(body, "b")
    assert error.value.status == 400


@pytest.mark.exercise("5.9")
@pytest.mark.parametrize(
    ("limits", "body"),
    [
        (FormLimits(max_parts=2), multipart_body([field("a", b"1")] * 3, "b")),
        (FormLimits(max_field_size=10), multipart_body([field("a", b"x" * 11)], "b")),
        (FormLimits(max_part_size=10), multipart_body([field("a", b"x" * 11, "f.txt")], "b")),
        (FormLimits(max_size=100), multipart_body([field("a", b"x" * 200, "f.txt")], "b")),
        (FormLimits(max_header_size=100), multipart_body([field("a" * 200, b"1")], "b")),
    ],
)
def test_limits_are_413(limits: FormLimits, body: bytes) -> None:
    # Every limit is checked as the bytes arrive.
    with pytest.raises(MultipartError) as error:
        ours(body, "b", limits=limits)
    assert error.value.status == 413


# ── Against python-multipart ──────────────────────────────────────────────────

BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?"
NAME_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\;%')
CONTENT = st.lists(
    st.sampled_from(
        [b"\r\n", b"--", b"\r", b"\n", b"-", b"a", b"\x00", b"\xff", b"\r\n-", b"\r\n--x"]
    )
    | st.binary(max_size=20),
    max_size=12,
).map(b"".join)


@st.composite
def forms(draw: st.DrawFn) -> tuple[bytes, str, list[int]]:
    boundary = draw(st.text(BCHARS, min_size=1, max_size=70))
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.text(NAME_CHARS, min_size=1, max_size=12))
        filename = draw(st.none() | st.text(NAME_CHARS, max_size=12))
        content_type = draw(
            st.none() | st.sampled_from(["text/plain", "image/png", "application/octet-stream"])
        )
        parts.append(field(name, draw(CONTENT), filename, content_type))
    body = multipart_body(parts, boundary)
    assume(body.count(b"--" + boundary.encode()) == len(parts) + 1)  # no boundary in content
    cuts = draw(st.lists(st.integers(1, max(len(body) - 1, 1)), max_size=6))
    return body, boundary, cuts


@FUZZ_TIMEOUT
@PROFILE
@given(forms())
def test_parts_agree_with_python_multipart(form: tuple[bytes, str, list[int]]) -> None:
    # Differential: on any well-formed body, cut anywhere, both parsers give the same parts.
    body, boundary, cuts = form
    assert ours(body, boundary, cuts) == oracle(body, boundary, cuts)


@FUZZ_TIMEOUT
@PROFILE
@given(st.text(NAME_CHARS, min_size=1, max_size=15), st.text(NAME_CHARS, max_size=15))
def test_content_disposition_agrees_with_python_multipart(name: str, filename: str) -> None:
    # The parameters of a quoted Content-Disposition read the same in both.
    value = f'form-data; name="{name}"; filename="{filename}"'
    main, parameters = parse_options_header(value)
    oracle_main, oracle_parameters = oracle_options(value.encode())
    assert main.encode() == oracle_main
    assert {key.encode(): text.encode() for key, text in parameters.items()} == oracle_parameters


@FUZZ_TIMEOUT
@PROFILE
@given(st.binary(max_size=300), st.lists(st.integers(1, 299), max_size=5))
def test_any_bytes_give_parts_or_a_multipart_error(body: bytes, cuts: list[int]) -> None:
    # Garbage in: a MultipartError, never another exception (which would be a 500).
    try:
        ours(body, "b", [cut for cut in cuts if cut < len(body)])
    except MultipartError as error:
        assert error.status in (400, 413)


# ── File names ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("given_name", "safe"),
    [
        ("cat.png", "cat.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\cat.png", "cat.png"),
        (".htaccess", "htaccess"),
        ("a\x00b.txt", "a_b.txt"),
        ("a\r\nb.txt", "a__b.txt"),
        ("..", "upload"),
        ("", "upload"),
        ("CON.txt", "upload"),
        ("x" * 300 + ".png", "x" * 196 + ".png"),
        ("café.txt", "café.txt"),
    ],
)
def test_safe_filename_drops_paths_controls_hidden_dots_and_device_names(
    given_name: str, safe: str
) -> None:
    # No path, no control characters, no hidden files, no reserved device names.
    assert safe_filename(given_name) == safe


@FUZZ_TIMEOUT
@PROFILE
@given(st.text(max_size=80))
def test_safe_filename_always_stays_in_its_folder(name: str) -> None:
    safe = safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and len(safe) <= 200


# ── read_form over ASGI ───────────────────────────────────────────────────────


def read(
    body: bytes, content_type: str, limits: FormLimits = DEFAULT_LIMITS, chunk: int = 7
) -> Form:
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    headers = [(b"content-type", content_type.encode())]
    channels = Channels(body_events(*chunks), after={"type": "http.disconnect"})
    request = Request(http_scope("POST", "/", headers), channels.receive)
    return asyncio.run(read_form(request, limits))


@pytest.mark.exercise("5.9")
def test_read_form_gives_fields_like_bare_form_and_files_apart() -> None:
    form = read(EXAMPLE, f"multipart/form-data; boundary={BOUNDARY}")
    assert form == {"title": ["hello"], "empty": [""]}
    photo = form.files["photo"][0]
    assert (photo.filename, photo.content_type, photo.size) == ("cat.png", "image/png", 26)
    assert photo.read() == b"\x89PNG\r\n\x1a\n--not a boundary\r\n"
    form.close()


def test_urlencoded_goes_through_the_same_api() -> None:
    # The same Form for both encodings: form["name"] is a list, as in bare's form().
    form = read(b"a=1&a=2&b=%C3%A9", "application/x-www-form-urlencoded")
    assert form == {"a": ["1", "2"], "b": ["é"]}
    assert form.get_first("a") == "1" and form.files == {}


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/plain", 415),
        ("multipart/form-data", 400),  # no boundary
        ("multipart/form-data; boundary=" + "x" * 71, 400),  # too long
    ],
)
def test_wrong_or_incomplete_content_type_is_4xx(content_type: str, status: int) -> None:
    with pytest.raises(HTTPError) as error:
        read(EXAMPLE, content_type)
    assert error.value.status == status


def test_field_that_is_not_utf8_is_400() -> None:
    with pytest.raises(HTTPError) as error:
        read(multipart_body([field("a", b"\xff")], "b"), "multipart/form-data; boundary=b")
    assert error.value.status == 400


def test_part_without_a_name_is_400() -> None:
    body = multipart_body([([("Content-Disposition", "form-data")], b"1")], "b")
    with pytest.raises(HTTPError) as error:
        read(body, "multipart/form-data; boundary=b")
    assert error.value.status == 400


def test_declared_length_past_the_limit_is_413_before_reading() -> None:
    headers = [(b"content-type", b"multipart/form-data; boundary=b"), (b"content-length", b"999")]
    channels = Channels([], after={"type": "http.disconnect"})
    request = Request(http_scope("POST", "/", headers), channels.receive)
    with pytest.raises(HTTPError) as error:
        asyncio.run(read_form(request, FormLimits(max_size=100)))
    assert error.value.status == 413 and channels.received == 0


def test_upload_save_stays_in_its_folder_and_never_overwrites(tmp_path: Path) -> None:
    # A hostile name is saved under its safe name, inside the folder, beside (not over) others.
    body = multipart_body(
        [field("f", b"one", "../../evil.sh"), field("f", b"two", "../evil.sh")], "b"
    )
    form = read(body, "multipart/form-data; boundary=b")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    saved = [upload.save(uploads) for upload in form.files["f"]]
    form.close()
    assert [path.name for path in saved] == ["evil.sh", "evil-1.sh"]
    assert [path.read_bytes() for path in saved] == [b"one", b"two"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["evil-1.sh", "evil.sh"]


def test_handler_errors_are_4xx_over_http() -> None:
    # Through the app: malformed multipart is a 400 answer, never a 500.
    app = Bare()

    @app.post("/form")
    async def post_form(request: Request) -> dict[str, Any]:
        form = await read_form(request, FormLimits(max_size=1000))
        form.close()  # the uploads' temporary files
        return {"fields": form, "files": sorted(form.files)}

    good = call(app, "POST", "/form", data={"a": "1"}, files={"f": ("x.txt", b"hi")})
    assert good.json() == {"fields": {"a": ["1"]}, "files": ["f"]}
    bad = call(
        app,
        "POST",
        "/form",
        content=b"--b\r\nbroken",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    big = call(app, "POST", "/form", files={"f": ("x.txt", b"x" * 2000)})
    assert (bad.status_code, big.status_code) == (400, 413)

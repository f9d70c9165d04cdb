"""Optional whitespace in a field value is SP and HTAB only (RFC 9110 §5.6.3).

The fault kind: ``str.strip()``, ``str.split()`` and the ``\\s`` of a str
pattern treat ``"\\xa0"``, ``"\\x85"``, ``"\\x1c"``... as whitespace, so
``"\\xa0application/json"`` passed for JSON, ``"\\xa0sid=1"`` for the cookie
``sid`` and ``"\\xa0bytes=0-1"`` for a byte range. bare stands alone, so it
has its own ``bare.OWS``, which every bare_* module imports.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from bare import Bare, HTTPError, Request
from bare_errors import quality
from bare_forms import parse_options_header, read_form
from bare_helpers import Channels, body_events, call, http_scope
from bare_static import StaticFiles, parse_range

from workbook.fuzzing import FUZZ_TIMEOUT, NOT_OWS_SPACE, whitespace_properties

pytestmark = FUZZ_TIMEOUT  # no time limit under HYPOTHESIS_PROFILE=long

BOUNDARY = "b0undary"


def request(*headers: tuple[str, str], body: bytes = b"") -> Request:
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    channels = Channels(body_events(body), after={"type": "http.disconnect"})
    return Request(http_scope("POST", "/", raw), channels.receive)


def form_status(content_type: str, disposition: str) -> int:
    """Return the status read_form gives a one-field form (200 when it reads)."""
    body = (
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\nhello\r\n--{BOUNDARY}--\r\n"
    ).encode()  # part headers are UTF-8 (RFC 7578 §5.1)
    try:
        form = asyncio.run(read_form(request(("Content-Type", content_type), body=body)))
    except HTTPError as error:
        return error.status
    assert form == {"a": ["hello"]}
    return 200


@pytest.fixture
def static_app(tmp_path: Path) -> Bare:
    (tmp_path / "data.bin").write_bytes(bytes(range(100)))
    app = Bare()
    app.add_middleware(StaticFiles, prefix="/static", directory=tmp_path)
    return app


def get_static(app: Bare, **headers: str) -> Any:
    return call(
        app,
        "GET",
        "/static/data.bin",
        headers={
            name.replace("_", "-"): value.encode("latin-1") for name, value in headers.items()
        },
    )


# ── One test per field: SP/HTAB are trimmed, "\xa0" is not ───────────────────


@pytest.mark.parametrize("space", NOT_OWS_SPACE)
def test_content_type_after_other_whitespace_is_not_json(space: str) -> None:
    """Content-Type: \\xa0application/json is not JSON: request.json() is a 400."""
    assert request(("Content-Type", " application/json\t")).media_type == "application/json"
    with pytest.raises(HTTPError) as refused:
        asyncio.run(request(("Content-Type", space + "application/json"), body=b"{}").json())
    assert refused.value.status == 400


def test_the_charset_parameter_is_found_after_ows_only() -> None:
    """'; \\xa0charset=latin-1' is no charset parameter: the body is read as UTF-8."""
    body = "é".encode("latin-1")
    latin = asyncio.run(request(("Content-Type", "text/plain;\tcharset=latin-1"), body=body).text())
    with pytest.raises(HTTPError) as refused:
        asyncio.run(request(("Content-Type", "text/plain; \xa0charset=latin-1"), body=body).text())
    assert (latin, refused.value.status) == ("é", 400)


def test_a_cookie_name_after_other_whitespace_is_another_name() -> None:
    """Cookie: \\xa0sid=1 does not set sid (RFC 6265 §5.2 trims SP and HTAB only)."""
    assert request(("Cookie", "a=1;\tsid=2 ")).cookies == {"a": "1", "sid": "2"}
    assert "sid" not in request(("Cookie", "a=1; \xa0sid=2")).cookies


@pytest.mark.exercise("5.11")
@pytest.mark.parametrize(
    ("accept", "q"),
    [
        (" text/html ;\tq=0.5", 0.5),
        ("\xa0text/html", 0.0),
        ("text/html\x85", 0.0),
        ("text/html;q=\xa01", 0.0),
        ("text/html;q=1_0", 0.0),
        ("text/html;q=0.0001", 0.0),
    ],
)
def test_accept_is_split_on_ows_only(accept: str, q: float) -> None:
    """Accept: \\xa0text/html names no range we know; a q that is not a qvalue is 0 (§12.4.2)."""
    assert quality(accept, "text/html") == q


@pytest.mark.parametrize(
    ("content_type", "disposition", "status"),
    [
        (f"multipart/form-data; boundary={BOUNDARY}", 'form-data; name="a"', 200),
        (f"multipart/form-data;\tboundary={BOUNDARY} ", ' form-data ;\tname = "a"', 200),
        (f"\xa0multipart/form-data; boundary={BOUNDARY}", 'form-data; name="a"', 415),
        (f"multipart/form-data; \xa0boundary={BOUNDARY}", 'form-data; name="a"', 400),
        (f"multipart/form-data; boundary={BOUNDARY}", '\xa0form-data; name="a"', 400),
        (f"multipart/form-data; boundary={BOUNDARY}", 'form-data; \x85name="a"', 400),
    ],
)
def test_multipart_headers_are_split_on_ows_only(
    content_type: str, disposition: str, status: int
) -> None:
    """\\xa0multipart/form-data is 415; \\xa0form-data or \\x85name in a part is a 400."""
    assert form_status(content_type, disposition) == status


def test_a_part_header_name_must_be_a_token() -> None:
    """A part's header name with other whitespace in it is malformed: 400 (RFC 9110 §5.1)."""
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition\x0b: form-data; name="a"\r\n\r\nx\r\n'
        f"--{BOUNDARY}--\r\n"
    ).encode("latin-1")
    with pytest.raises(HTTPError) as refused:
        asyncio.run(
            read_form(
                request(("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"), body=body)
            )
        )
    assert refused.value.status == 400


@pytest.mark.exercise("5.7")
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (" bytes=0-9\t", (0, 9)),
        ("bytes= 0-9", (0, 9)),
        ("\xa0bytes=0-9", None),
        ("bytes=\xa00-9", None),
        ("bytes=0-9\x85", None),
    ],
)
def test_range_is_trimmed_of_ows_only(header: str, expected: Any) -> None:
    """Range: \\xa0bytes=0-9 is no byte range: ignored, the whole file is sent (§14.2)."""
    assert parse_range(header, 100) == expected


def test_validators_are_compared_after_ows_only(static_app: Bare) -> None:
    """If-None-Match, If-Range and If-Modified-Since with "\\xa0" match nothing."""
    first = get_static(static_app)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    statuses = [
        get_static(static_app, if_none_match=f" {etag}\t").status_code,
        get_static(static_app, if_none_match=f"\xa0{etag}").status_code,
        get_static(static_app, if_modified_since=modified).status_code,
        get_static(static_app, if_modified_since=f"\xa0{modified}").status_code,
        get_static(static_app, range="bytes=0-0", if_range=etag).status_code,
        get_static(static_app, range="bytes=0-0", if_range=f"\xa0{etag}").status_code,
    ]
    assert statuses == [304, 200, 304, 200, 206, 200]


# ── Properties: any non-OWS pad changes the token, any OWS pad does not ──────

FIELDS = ["content-type", "cookie", "accept", "disposition", "range", "if-none-match"]
ETAG = '"5f-64"'


def reads_as_the_token(field: str, before: str, after: str) -> bool:
    """Return whether the padded value is read as the bare token, for one field."""
    if field == "content-type":
        return (
            request(("Content-Type", before + "application/json" + after)).media_type
            == "application/json"
        )
    if field == "cookie":
        return request(("Cookie", f"{before}sid=1{after}")).cookies == {"sid": "1"}
    if field == "accept":
        return quality(before + "text/html" + after, "text/html") == 1.0
    if field == "disposition":
        return parse_options_header(f'{before}form-data{after}; name="a"')[0] == "form-data"
    if field == "range":
        return parse_range(f"{before}bytes=0-9{after}", 100) == (0, 9)
    from bare_static import _etag_listed  # the comparison itself: no file needed

    return _etag_listed(ETAG, before + ETAG + after)


(
    test_property_a_value_padded_with_non_ows_whitespace_is_never_the_token,
    test_property_a_value_padded_with_ows_is_the_token,
) = whitespace_properties(FIELDS, reads_as_the_token)

"""bare_static: a directory under a URL prefix; validators, ranges, HEAD, traversal refused."""

from __future__ import annotations

import asyncio
import email.utils
import os
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from bare import Bare
from bare_helpers import Channels, call
from bare_static import FileResponse, StaticFiles, parse_range, resolve_path
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from workbook.fuzzing import FUZZ_TIMEOUT, fuzz_settings

SECRET = b"the secret outside the root"

# Derandomized and bounded in make test; HYPOTHESIS_PROFILE=long for a deep run.
PROFILE = fuzz_settings(200, suppress=[HealthCheck.function_scoped_fixture])
CSS = b"body { color: red; }\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A served folder (site/) beside a secret file that must never be served."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    site = tmp_path / "site"
    (site / "css").mkdir(parents=True)
    (site / "css" / "site.css").write_bytes(CSS)
    (site / "data.bin").write_bytes(bytes(range(256)) * 4)  # 1024 bytes
    (site / "empty.txt").write_bytes(b"")
    (site / "escape").symlink_to(tmp_path / "secret.txt")
    (site / "inside").symlink_to(site / "css" / "site.css")
    return site


@pytest.fixture
def app(root: Path) -> Bare:
    app = Bare()

    @app.get("/")
    async def index(request: Any) -> str:
        return {"page": "index"}

    app.add_middleware(StaticFiles, prefix="/static", directory=root)
    return app


def raw_get(
    app: Any, raw_path: bytes, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Send one request with exactly this raw path (no client normalizes it); return the answer."""
    path = urllib.parse.unquote(raw_path.decode("latin-1"), errors="surrogateescape")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path,
        "query_string": b"",
        "root_path": "",
        "headers": headers or [],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    channels = Channels(
        [{"type": "http.request", "body": b"", "more_body": False}],
        after={"type": "http.disconnect"},
    )
    asyncio.run(app(scope, channels.receive, channels.send))
    start = channels.sent[0]
    body = b"".join(message.get("body", b"") for message in channels.sent[1:])
    return start["status"], dict(start["headers"]), body


# ── Resolving paths (exercise 5.6) ────────────────────────────────────────────


@pytest.mark.exercise("5.6")
def test_file_under_prefix_is_served_with_its_mime_type(app: Bare) -> None:
    # GET /static/css/site.css is static/css/site.css, typed by mimetypes.
    response = call(app, "GET", "/static/css/site.css")
    assert response.status_code == 200
    assert response.content == CSS
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["content-length"] == str(len(CSS))


@pytest.mark.exercise("5.6")
def test_other_paths_go_on_to_the_app(app: Bare) -> None:
    # Only the prefix is the middleware's; everything else reaches bare.
    assert call(app, "GET", "/").json() == {"page": "index"}
    assert call(app, "GET", "/staticky").status_code == 404


@pytest.mark.exercise("5.6")
@pytest.mark.parametrize(
    "raw_path",
    [
        b"/static/../secret.txt",
        b"/static/css/../../secret.txt",
        b"/static/%2e%2e/secret.txt",
        b"/static/%2E%2E/secret.txt",
        b"/static/css%2f..%2f..%2fsecret.txt",
        b"/static/..%2fsecret.txt",
        b"/static/..%5csecret.txt",
        b"/static/..\\secret.txt",
        b"/static//etc/passwd",
        b"/static/%2fetc%2fpasswd",
        b"/static/C:%5cWindows%5cwin.ini",
        b"/static/css/site.css%00.txt",
        b"/static/escape",
        b"/static/css/",
        b"/static/",
        b"/static/%ff%fe",
    ],
)
def test_traversal_in_any_form_is_404(app: Bare, raw_path: bytes) -> None:
    # Every way out of the root (or into nothing) is the same 404: no secret, no 500.
    status, _, body = raw_get(app, raw_path)
    assert status == 404, raw_path
    assert SECRET not in body


PIECES = st.sampled_from(
    [
        "..",
        ".",
        "%2e%2e",
        "%2E.",
        "%2f",
        "%2F",
        "%5c",
        "\\",
        "%00",
        "/",
        "//",
        "css",
        "site.css",
        "secret.txt",
        "escape",
        "inside",
        "data.bin",
        "C:",
        "%c0%af",
        "%ff",
        "~",
        "",
    ]
)


@FUZZ_TIMEOUT
@PROFILE
@given(st.lists(PIECES, max_size=8).map("".join))
def test_any_path_is_a_file_under_the_root_or_404(root: Path, app: Bare, tail: str) -> None:
    # Whatever the path, the answer is 404, or 200 with the bytes of a file inside the root.
    status, _, body = raw_get(app, b"/static/" + tail.encode())
    inside = {path.read_bytes() for path in root.rglob("*") if path.is_file()}
    assert status in (200, 404)
    assert status == 404 or body in inside
    assert SECRET not in body


@pytest.mark.exercise("5.6")
def test_symlink_inside_the_root_is_followed(app: Bare) -> None:
    # A link is refused for where it leads, not for being a link.
    status, _, body = raw_get(app, b"/static/inside")
    assert (status, body) == (200, CSS)


@pytest.mark.exercise("5.6")
@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("css/site.css", "css/site.css"),
        ("css/site%2ecss", "css/site.css"),
        ("../secret.txt", None),
        ("css/%2e%2e/%2e%2e/secret.txt", None),
        ("css%2fsite.css", None),
        ("css//site.css", None),
        ("./css/site.css", None),
        ("escape", None),
        ("css", None),
        ("nothing.txt", None),
    ],
)
def test_resolve_path_gives_a_file_under_the_root_or_none(
    root: Path, url_path: str, expected: str | None
) -> None:
    # resolve_path gives a file under the root, or None.
    found = resolve_path(root.resolve(), url_path)
    assert found == (None if expected is None else root.resolve() / expected)


# ── Validators and 304 ────────────────────────────────────────────────────────


def test_etag_revalidation_is_304_without_body(app: Bare) -> None:
    # RFC 9110 §13.1.2: a matching If-None-Match is 304 Not Modified, validators kept.
    first = call(app, "GET", "/static/css/site.css")
    etag = first.headers["etag"]
    again = call(app, "GET", "/static/css/site.css", headers={"if-none-match": f'"x", {etag}'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "content-length" not in again.headers
    other = call(app, "GET", "/static/css/site.css", headers={"if-none-match": '"other"'})
    assert other.status_code == 200


def test_if_modified_since_is_304_until_the_file_changes(app: Bare, root: Path) -> None:
    # RFC 9110 §13.1.3: not modified since the date -> 304; modified -> 200.
    first = call(app, "GET", "/static/css/site.css")
    since = first.headers["last-modified"]
    assert (
        call(app, "GET", "/static/css/site.css", headers={"if-modified-since": since}).status_code
        == 304
    )
    later = email.utils.parsedate_to_datetime(since).timestamp() + 60
    os.utime(root / "css" / "site.css", (later, later))
    assert (
        call(app, "GET", "/static/css/site.css", headers={"if-modified-since": since}).status_code
        == 200
    )


def test_bad_if_modified_since_is_ignored(app: Bare) -> None:
    # An invalid HTTP-date is ignored, not an error.
    response = call(app, "GET", "/static/css/site.css", headers={"if-modified-since": "yesterday"})
    assert response.status_code == 200


def test_if_none_match_wins_over_if_modified_since(app: Bare) -> None:
    # §13.1.3: when If-None-Match is present, If-Modified-Since is not evaluated.
    since = call(app, "GET", "/static/css/site.css").headers["last-modified"]
    response = call(
        app,
        "GET",
        "/static/css/site.css",
        headers={"if-none-match": '"stale"', "if-modified-since": since},
    )
    assert response.status_code == 200


# ── Ranges (exercise 5.7) ─────────────────────────────────────────────────────


@pytest.mark.exercise("5.7")
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 1023)),
        ("bytes=-100", (924, 1023)),
        ("bytes=-5000", (0, 1023)),
        ("bytes=1000-5000", (1000, 1023)),
        ("bytes=1023-1023", (1023, 1023)),
        ("BYTES = 0-0", (0, 0)),
        ("bytes=1024-", False),
        ("bytes=5000-6000", False),
        ("bytes=-0", False),
        ("bytes=0-1,5-6", None),
        ("bytes=5-1", None),
        ("bytes=abc", None),
        ("bytes=-", None),
        ("bytes=+1-2", None),
        ("bytes=٣-4", None),
        ("items=0-1", None),
        ("0-1", None),
    ],
)
def test_parse_range_takes_one_range_cut_to_the_file(header: str, expected: Any) -> None:
    # RFC 9110 §14.1.2: one range, cut to the file; several or malformed ones are ignored.
    assert parse_range(header, 1024) == expected


@pytest.mark.exercise("5.7")
def test_range_is_206_with_content_range(app: Bare) -> None:
    # §15.3.7: 206 Partial Content carries Content-Range and only those bytes.
    response = call(app, "GET", "/static/data.bin", headers={"range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 10-19/1024"
    assert response.content == bytes(range(10, 20))
    assert response.headers["content-length"] == "10"


@pytest.mark.exercise("5.7")
def test_unsatisfiable_range_is_416(app: Bare) -> None:
    # §15.5.17: 416 with Content-Range: bytes */size.
    response = call(app, "GET", "/static/data.bin", headers={"range": "bytes=2000-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"


@pytest.mark.exercise("5.7")
def test_stale_if_range_sends_the_whole_file(app: Bare) -> None:
    # §13.1.5: If-Range that does not match the current ETag means "send it all".
    etag = call(app, "GET", "/static/data.bin").headers["etag"]
    fresh = call(app, "GET", "/static/data.bin", headers={"range": "bytes=0-0", "if-range": etag})
    stale = call(app, "GET", "/static/data.bin", headers={"range": "bytes=0-0", "if-range": '"x"'})
    assert (fresh.status_code, len(fresh.content)) == (206, 1)
    assert (stale.status_code, len(stale.content)) == (200, 1024)


# ── Methods and streaming ─────────────────────────────────────────────────────


def test_head_has_get_headers_and_no_body(app: Bare) -> None:
    # RFC 9110 §9.3.2.
    status, headers, body = raw_get(app, b"/static/data.bin", method="HEAD")
    assert (status, headers[b"content-length"], body) == (200, b"1024", b"")


def test_other_methods_are_405_with_allow(app: Bare) -> None:
    response = call(app, "POST", "/static/data.bin", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_empty_file_is_an_empty_200(app: Bare) -> None:
    response = call(app, "GET", "/static/empty.txt")
    assert (response.status_code, response.content, response.headers["content-length"]) == (
        200,
        b"",
        "0",
    )


def test_file_is_streamed_in_chunks(tmp_path: Path) -> None:
    # A large file goes out as several body events of at most chunk_size bytes.
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(10_000))
    channels = Channels([], after={"type": "http.disconnect"})
    asyncio.run(FileResponse(big, chunk_size=4096).send(channels.send))
    bodies = [message["body"] for message in channels.sent[1:]]
    assert [len(body) for body in bodies] == [4096, 4096, 1808]
    assert [message["more_body"] for message in channels.sent[1:]] == [True, True, False]
    assert b"".join(bodies) == big.read_bytes()


def test_file_that_cannot_be_opened_fails_before_the_headers(tmp_path: Path) -> None:
    # The file is opened before the start event: a vanished file is an error the
    # caller can still answer (StaticFiles answers 404), not a response cut short.
    gone = tmp_path / "gone.txt"
    gone.write_bytes(b"soon gone")
    response = FileResponse(gone)
    gone.unlink()
    channels = Channels([], after={"type": "http.disconnect"})
    with pytest.raises(FileNotFoundError):
        asyncio.run(response.send(channels.send))
    assert channels.sent == []


def test_missing_directory_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        StaticFiles(None, directory=tmp_path / "nope")

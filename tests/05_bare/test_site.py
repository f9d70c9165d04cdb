"""The example site (site_app): all six modules together, in process and under uvicorn.

The browser test is in test_site_browser.py; this file drives the site with
httpx (in process and over loopback) and with raw sockets, where no client
cleans the path up first.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bare_helpers import BASE_URL, Channels, validate_openapi
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from workbook.fuzzing import FUZZ_TIMEOUT, fuzz_settings
from workbook.testing import free_port, loopback_client, serving, venv_script

SECRET = "s" * 40
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"

# Derandomized and bounded in make test; HYPOTHESIS_PROFILE=long for a deep run.
PROFILE = fuzz_settings(150, suppress=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def site(uploads: Path) -> Any:
    import site_app

    return site_app.create_app(uploads, secret=SECRET)


class Browser:
    """An httpx client with a cookie jar on the site, in process (one event loop for all)."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers={"accept": BROWSER}
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, path, **kwargs))

    def csrf(self, path: str) -> str:
        page = self.request("GET", path)
        return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]

    def sign_in(self, password: str = "lovelace") -> httpx.Response:
        token = self.csrf("/login")
        return self.request(
            "POST", "/login", data={"csrf": token, "username": "ada", "password": password}
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def browser(site: Any) -> Iterator[Browser]:
    client = Browser(site)
    yield client
    client.close()


# ── Pages ─────────────────────────────────────────────────────────────────────


def test_home_page_is_a_template_with_the_stylesheet(browser: Browser) -> None:
    page = browser.request("GET", "/")
    assert page.status_code == 200 and "Hello, stranger!" in page.text
    assert '<link rel="stylesheet" href="/static/site.css">' in page.text
    css = browser.request("GET", "/static/site.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8" and "etag" in css.headers


def test_sign_in_sets_a_session_and_sign_out_clears_it(browser: Browser) -> None:
    signed_in = browser.sign_in()
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    assert "HttpOnly" in signed_in.headers["set-cookie"]
    assert "Hello, ada!" in browser.request("GET", "/").text
    assert browser.request("GET", "/api/me").json() == {"user": "ada"}
    token = browser.csrf("/")
    assert browser.request("POST", "/logout", data={"csrf": token}).status_code == 303
    assert browser.request("GET", "/api/me").json() == {"user": None}


def test_wrong_password_is_400_with_the_form_again(browser: Browser) -> None:
    response = browser.sign_in("wrong")
    assert response.status_code == 400 and "Wrong name or password." in response.text


def test_form_without_its_csrf_token_is_403(browser: Browser) -> None:
    browser.request("GET", "/login")
    response = browser.request("POST", "/login", data={"username": "ada", "password": "lovelace"})
    assert response.status_code == 403


def test_tampered_session_cookie_is_signed_out(browser: Browser) -> None:
    browser.sign_in()
    value = browser.client.cookies["session"]
    browser.client.cookies.clear()
    browser.client.cookies.set("session", "e30" + value[3:])  # "{}" in place of the payload
    assert browser.request("GET", "/api/me").json() == {"user": None}


def test_upload_saves_into_the_upload_folder_only(browser: Browser, uploads: Path) -> None:
    assert browser.request("GET", "/upload").status_code == 303  # not signed in
    browser.sign_in()
    token = browser.csrf("/upload")
    response = browser.request(
        "POST",
        "/upload",
        data={"csrf": token, "note": "hi"},
        files={"file": ("../../../evil.txt", b"payload")},
    )
    assert response.status_code == 200 and "Saved evil.txt (7 bytes)" in response.text
    assert [p.name for p in uploads.parent.rglob("*") if p.is_file()] == ["evil.txt"]
    assert browser.request("GET", "/api/files").json() == [{"name": "evil.txt", "size": 7}]


@pytest.mark.parametrize(
    ("files", "content", "status"),
    [
        ({"file": ("big.bin", b"x" * (2 * 1024 * 1024 + 1))}, None, 413),
        (None, b"--b\r\nnot multipart", 400),
        ({"other": ("a.txt", b"1")}, None, 400),
    ],
)
def test_bad_uploads_are_4xx(
    browser: Browser, uploads: Path, files: Any, content: bytes | None, status: int
) -> None:
    browser.sign_in()
    token = browser.csrf("/upload")
    if content is None:
        response = browser.request("POST", "/upload", data={"csrf": token}, files=files)
    else:
        response = browser.request(
            "POST",
            "/upload",
            content=content,
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
    assert response.status_code == status
    assert list(uploads.iterdir()) == []


def test_upload_without_a_session_is_401(browser: Browser) -> None:
    response = browser.request("POST", "/upload", files={"file": ("a.txt", b"1")})
    assert response.status_code == 401


def test_error_pages_for_a_browser(browser: Browser, caplog: pytest.LogCaptureFixture) -> None:
    missing = browser.request("GET", "/no/such/page")
    assert missing.status_code == 404 and "<h1>404 Not Found</h1>" in missing.text
    with caplog.at_level(logging.CRITICAL, logger="bare"):
        crash = browser.request("GET", "/boom")
    assert crash.status_code == 500 and "<h1>500 Internal Server Error</h1>" in crash.text
    assert "deliberate bug" not in crash.text and "Traceback" not in crash.text


def test_openapi_document_is_valid(browser: Browser) -> None:
    document = browser.request("GET", "/openapi.json").json()
    validate_openapi(document)
    me = document["paths"]["/api/me"]["get"]["responses"]["200"]["content"]
    assert me["application/json"]["schema"] == {"$ref": "#/components/schemas/Me"}


# ── No client input is a 5xx ──────────────────────────────────────────────────


def run_raw(
    app: Any, method: str, raw_path: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> int:
    path = raw_path.decode("latin-1")
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
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    channels = Channels(
        [{"type": "http.request", "body": body, "more_body": False}],
        after={"type": "http.disconnect"},
    )
    asyncio.run(app(scope, channels.receive, channels.send))
    return channels.sent[0]["status"]


PATHS = st.sampled_from(
    [
        "/",
        "/login",
        "/logout",
        "/upload",
        "/static/",
        "/static/site.css",
        "/api/me",
        "/api/files",
        "/openapi.json",
        "/static/..",
    ]
)
SUFFIXES = st.text(st.sampled_from(list("./%2e5cfa\\\x00é")), max_size=12)
HEADERS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                b"cookie",
                b"content-type",
                b"range",
                b"if-none-match",
                b"accept",
                b"if-modified-since",
                b"content-length",
            ]
        ),
        st.binary(max_size=40).filter(lambda value: b"\r" not in value and b"\n" not in value)
        | st.sampled_from(
            [
                b"multipart/form-data; boundary=b",
                b"session=a.1.b",
                b"bytes=-0",
                b"application/x-www-form-urlencoded",
                b"text/html",
            ]
        ),
    ),
    max_size=4,
)


@FUZZ_TIMEOUT
@PROFILE
@given(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS"]),
    PATHS,
    SUFFIXES,
    HEADERS,
    st.binary(max_size=200) | st.sampled_from([b"--b\r\n\r\n--b--", b"csrf=x&username=ada"]),
)
def test_no_request_is_a_5xx(
    site: Any, method: str, path: str, suffix: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    # Any method, path, headers and body the client may send: a 4xx at worst.
    raw_path = (path + suffix).encode("utf-8")
    headers = [(name, value) for name, value in headers if name != b"content-length"] + [
        (b"content-length", b"%d" % len(body))
    ]
    assert run_raw(site, method, raw_path, headers, body) < 500


# ── Under uvicorn, with raw sockets ───────────────────────────────────────────


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    uploads = tmp_path_factory.mktemp("uploads")
    port = free_port()
    argv = [venv_script("uvicorn"), "site_app:app", "--host", "127.0.0.1", "--port", str(port)]
    with serving("05_bare", argv, port, BARE_SITE_UPLOADS=str(uploads), BARE_SITE_SECRET=SECRET):
        yield port, uploads


def raw_request(port: int, request: bytes) -> bytes:
    """Send ``request`` as bytes on a fresh connection; return all the server sent back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "target",
    [
        b"/static/../site_app.py",
        b"/static/%2e%2e/site_app.py",
        b"/static/..%2fsite_app.py",
        b"/static/..%5csite_app.py",
        b"/static/%2fetc%2fpasswd",
        b"/static//etc/passwd",
        b"/static/site.css%00",
        b"/static/../../../../etc/passwd",
    ],
)
def test_traversal_on_the_wire_is_404(served: tuple[int, Path], target: bytes, sent: Any) -> None:
    port, _ = served
    sent("GET", f"http://127.0.0.1:{port}{target.decode()}")
    answer = raw_request(
        port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 404 "), answer[:80]
    assert b"from bare" not in answer and b"root:" not in answer


def test_range_and_conditional_on_the_wire(served: tuple[int, Path]) -> None:
    port, _ = served
    with loopback_client(base_url=f"http://127.0.0.1:{port}") as client:
        whole = client.get("/static/site.css")
        part = client.get("/static/site.css", headers={"range": "bytes=0-9"})
        again = client.get("/static/site.css", headers={"if-none-match": whole.headers["etag"]})
    assert part.status_code == 206 and part.content == whole.content[:10]
    assert again.status_code == 304 and again.content == b""


def test_sign_in_and_upload_on_the_wire(served: tuple[int, Path]) -> None:
    port, uploads = served
    with loopback_client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]
        home = client.post(
            "/login", data={"csrf": token, "username": "ada", "password": "lovelace"}
        )
        assert "Hello, ada!" in home.text
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/upload").text)[1]
        saved = client.post(
            "/upload", data={"csrf": token}, files={"file": ("notes.txt", b"x" * 300_000)}
        )
    assert saved.status_code == 200
    assert (uploads / "notes.txt").stat().st_size == 300_000

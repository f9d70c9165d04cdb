"""The example site in a real browser: headless Chromium (Debian's) driven by Playwright.

Playwright's own browser download is never used: the test launches the
``chromium`` that Debian packages (``apt-get install chromium``; ``.ci/run``
installs it as root). Where no such browser is installed the test is
skipped, and says so.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbook.testing import free_port, serving, venv_script

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason=(
        "no chromium on PATH: install Debian's (apt-get install chromium) to run the browser test"
    ),
)

# The network is closed and the profile is fresh: switch off everything that phones home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    uploads = tmp_path_factory.mktemp("browser-uploads")
    port = free_port()
    argv = [venv_script("uvicorn"), "site_app:app", "--host", "127.0.0.1", "--port", str(port)]
    secret = "b" * 40
    with serving("05_bare", argv, port, BARE_SITE_UPLOADS=str(uploads), BARE_SITE_SECRET=secret):
        yield f"http://127.0.0.1:{port}", uploads


@pytest.fixture(scope="module")
def page(served: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context.set_default_timeout(20_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def test_site_in_a_browser(page: Any, served: tuple[str, Path], tmp_path: Path) -> None:
    # One visit, as a person would make it: read, sign in, upload, hit the error pages.
    base, uploads = served

    page.goto(f"{base}/")
    assert page.text_content("#greeting") == "Hello, stranger!"
    # The stylesheet was fetched from /static and applied.
    colour = page.eval_on_selector(".brand", "element => getComputedStyle(element).color")
    assert colour == "rgb(32, 96, 160)"

    page.click("#login-link")
    page.fill("#username", "ada")
    page.fill("#password", "wrong")
    page.click("#sign-in")
    assert page.text_content("#error") == "Wrong name or password."
    page.fill("#password", "lovelace")
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")
    assert page.text_content("#greeting") == "Hello, ada!"
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it

    upload = tmp_path / "<b>report<b>.txt"  # a name with markup in it
    upload.write_bytes(b"uploaded from chromium\n")
    page.goto(f"{base}/upload")
    page.fill("#note", "<script>alert(1)</script>")
    page.set_input_files("#file", str(upload))
    page.click("#send")
    assert "Saved" in page.text_content("#saved")
    assert "<script>alert(1)</script>" in page.text_content("#saved")  # shown as text, not run
    saved = list(uploads.iterdir())
    assert [path.read_bytes() for path in saved] == [b"uploaded from chromium\n"]
    assert saved[0].name == "_b_report_b_.txt"  # the name made safe, in the upload folder
    assert saved[0].name in page.text_content("#files")

    response = page.goto(f"{base}/no/such/page")
    assert response.status == 404 and page.text_content("h1") == "404 Not Found"
    response = page.goto(f"{base}/boom")
    assert response.status == 500 and page.text_content("h1") == "500 Internal Server Error"
    assert "Traceback" not in page.content()

    response = page.goto(f"{base}/openapi.json")
    assert json.loads(response.text())["openapi"] == "3.1.0"

    page.goto(f"{base}/")
    page.click("#logout")
    page.wait_for_url(f"{base}/")
    assert page.text_content("#greeting") == "Hello, stranger!"

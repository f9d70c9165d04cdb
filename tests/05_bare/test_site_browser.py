"""The example site in a real browser: headless Chromium (Debian's) driven by Playwright.

Playwright's own browser download is never used: the test launches the
``chromium`` that Debian packages (``apt-get install chromium``; ``.ci/run``
installs it as root). Where no such browser is installed the test is
skipped, and says so.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from workbook.testing import fetch, free_port, serving, venv_script

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason=(
            "no chromium on PATH: install Debian's (apt-get install chromium) to run the browser"
            " test"
        ),
    ),
    # A bound against a hang, not a timing: a whole visit in Chromium, step by step, ran
    # past the suite's 60 s at a load of 25 on two cores. A page that never loads fails
    # on its own action timeout (ACTION_TIMEOUT_MS), and a missing element at once.
    pytest.mark.timeout(300),
]
#: How long one browser action (a navigation, a click) may take, in milliseconds.
ACTION_TIMEOUT_MS = 60_000

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


@pytest.fixture
def open_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Any]]:
    """Return a function that starts headless Chromium and gives its page; closed afterwards.

    A function rather than a page, so that the test starts the browser (a
    few seconds of CPU) only once the site answers at all.
    """
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:

        def launch() -> Any:
            playwright = stack.enter_context(sync_playwright())
            profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
            context = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            stack.callback(context.close)
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            return context.pages[0] if context.pages else context.new_page()

        yield launch


def shown(page: Any, selector: str) -> Any:
    """Return the element ``selector`` on the page as loaded; fail at once if it is not there.

    The site renders every page on the server (no script adds elements),
    so a page that has loaded holds every element it ever will. Playwright's
    own auto-wait for a missing element would only wait out its timeout
    (:data:`ACTION_TIMEOUT_MS`) on a stage that answered with an error page.
    """
    element = page.query_selector(selector)
    assert element is not None, f"no {selector} on {page.url}:\n{page.content()[:1000]}"
    return element


def text(page: Any, selector: str) -> str:
    """Return the text of ``selector`` on the loaded page (see :func:`shown`)."""
    return str(shown(page, selector).text_content())


def navigate(page: Any, selector: str) -> None:
    """Click ``selector`` and wait for the page it leads to to load, redirects included."""
    with page.expect_navigation():
        shown(page, selector).click()


def visit(page: Any, url: str) -> Any:
    """Go to ``url``; return the response once the page has loaded."""
    response = page.goto(url)
    assert response is not None, f"no response for {url}"
    return response


def test_site_in_a_browser(
    open_page: Callable[[], Any], served: tuple[str, Path], tmp_path: Path
) -> None:
    # One visit, as a person would make it: read, sign in, upload, hit the error pages.
    base, uploads = served
    # The browser's first step, asked without a browser: a site whose home page is an
    # error fails here, before Chromium starts.
    home = fetch("GET", f"{base}/", headers={"Accept": "text/html"})
    assert home.status_code == 200, f"GET / answered {home.status_code}:\n{home.text[:1000]}"
    page = open_page()

    assert visit(page, f"{base}/").status == 200, page.content()[:1000]
    assert text(page, "#greeting") == "Hello, stranger!"
    # The stylesheet was fetched from /static and applied.
    colour = shown(page, ".brand").evaluate("element => getComputedStyle(element).color")
    assert colour == "rgb(32, 96, 160)"

    navigate(page, "#login-link")
    shown(page, "#username").fill("ada")
    shown(page, "#password").fill("wrong")
    navigate(page, "#sign-in")
    assert text(page, "#error") == "Wrong name or password."
    shown(page, "#password").fill("lovelace")
    navigate(page, "#sign-in")
    assert page.url == f"{base}/"
    assert text(page, "#greeting") == "Hello, ada!"
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it

    upload = tmp_path / "<b>report<b>.txt"  # a name with markup in it
    upload.write_bytes(b"uploaded from chromium\n")
    assert visit(page, f"{base}/upload").status == 200, page.content()[:1000]
    shown(page, "#note").fill("<script>alert(1)</script>")
    shown(page, "#file").set_input_files(str(upload))
    navigate(page, "#send")
    assert "Saved" in text(page, "#saved")
    assert "<script>alert(1)</script>" in text(page, "#saved")  # shown as text, not run
    saved = list(uploads.iterdir())
    assert [path.read_bytes() for path in saved] == [b"uploaded from chromium\n"]
    assert saved[0].name == "_b_report_b_.txt"  # the name made safe, in the upload folder
    assert saved[0].name in text(page, "#files")

    response = visit(page, f"{base}/no/such/page")
    assert response.status == 404 and text(page, "h1") == "404 Not Found"
    response = visit(page, f"{base}/boom")
    assert response.status == 500 and text(page, "h1") == "500 Internal Server Error"
    assert "Traceback" not in page.content()

    response = visit(page, f"{base}/openapi.json")
    assert json.loads(response.text())["openapi"] == "3.1.0"

    visit(page, f"{base}/")
    navigate(page, "#logout")
    assert page.url == f"{base}/"
    assert text(page, "#greeting") == "Hello, stranger!"

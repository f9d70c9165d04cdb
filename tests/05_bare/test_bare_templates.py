"""bare_templates: Jinja2 pages with autoescape on; a missing template is a 404."""

from __future__ import annotations

from pathlib import Path

import pytest
from bare import Bare, HTTPError, Request
from bare_helpers import call
from bare_templates import Templates


@pytest.fixture
def templates(tmp_path: Path) -> Templates:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "hello.html").write_text("<p>Hello, {{ name }}!</p>")
    (folder / "page.html").write_text(
        "{% extends 'base.html' %}{% block body %}{{ text }}{% endblock %}"
    )
    (folder / "base.html").write_text("<main>{% block body %}{% endblock %}</main>{{ site }}")
    (tmp_path / "secret.html").write_text("secret")
    return Templates(folder, globals={"site": "bare"})


@pytest.mark.exercise("5.8")
def test_template_renders_with_its_context(templates: Templates) -> None:
    assert templates.render("hello.html", {"name": "Ada"}) == "<p>Hello, Ada!</p>"


@pytest.mark.exercise("5.8")
def test_values_are_escaped(templates: Templates) -> None:
    # Autoescape: a value cannot inject markup.
    assert (
        templates.render("hello.html", {"name": "<script>x</script>"})
        == "<p>Hello, &lt;script&gt;x&lt;/script&gt;!</p>"
    )


@pytest.mark.exercise("5.8")
@pytest.mark.parametrize("name", ["missing.html", "../secret.html", "/etc/passwd", "a\x00b"])
def test_missing_or_escaping_template_is_404(templates: Templates, name: str) -> None:
    with pytest.raises(HTTPError) as error:
        templates.render(name)
    assert (error.value.status, error.value.message) == (404, "page not found")


@pytest.mark.exercise("5.8")
def test_a_template_extends_its_base_and_sees_the_globals(templates: Templates) -> None:
    assert templates.render("page.html", {"text": "hi"}) == "<main>hi</main>bare"


@pytest.mark.exercise("5.8")
def test_template_response_over_http(templates: Templates) -> None:
    # A page name from the URL: a template is a 200 HTML page, anything else a 404.
    app = Bare()

    @app.get("/pages/{name}")
    async def page(request: Request):
        return templates.response(request.path_params["name"], {"name": "Ada"}, request=request)

    found = call(app, "GET", "/pages/hello.html")
    assert found.status_code == 200
    assert found.headers["content-type"] == "text/html; charset=utf-8"
    assert found.text == "<p>Hello, Ada!</p>"
    assert call(app, "GET", "/pages/..%2fsecret.html").status_code == 404
    assert call(app, "GET", "/pages/nothing.html").status_code == 404


def test_missing_folder_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Templates(tmp_path / "nope")

"""Templates for bare: Jinja2 pages as responses, with HTML escaping on.

    templates = Templates("templates")

    @app.get("/")
    async def index(request):
        return templates.response("index.html", {"user": name}, request=request)

The chapter names Jinja2 for this, and a template engine is not what this
course teaches, so it is used as it comes. Two choices matter:

- **autoescape is on**, for every template: ``{{ name }}`` with
  ``<script>`` in it renders ``&lt;script&gt;``. Markup you trust goes
  through ``|safe`` or ``markupsafe.Markup``, which you then have to read.
- **a template that is not there is a 404**, not a 500: a page name can
  come from the URL (``/pages/{name}``), and a name like ``../../etc/passwd``
  is refused by Jinja2's loader the same way (``TemplateNotFound``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jinja2
from bare import HTMLResponse, HTTPError, Request

__all__ = ["Templates"]


class Templates:
    """A folder of Jinja2 templates, rendered with autoescape into HTMLResponses.

    ``globals`` are available in every template (a site name, a helper).
    Templates are compiled on first use and cached by Jinja2; with
    ``auto_reload`` (the default) an edited file is picked up.
    """

    def __init__(
        self, directory: str | os.PathLike[str], globals: Mapping[str, Any] | None = None
    ) -> None:
        if not os.path.isdir(directory):
            raise ValueError(f"template directory {str(directory)!r} does not exist")
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=True,
            undefined=jinja2.StrictUndefined,  # a typo in a name is an error, not ""
        )
        self.environment.globals.update(globals or {})

    def render(self, name: str, context: Mapping[str, Any] | None = None) -> str:
        """Return template ``name`` rendered with ``context``, or raise HTTPError(404).

        ``"index.html"``, ``{"user": "ada"}`` -> the page's text. A name
        that is not a template in the folder (missing, or a path that
        leaves it) is HTTPError(404, "page not found").
        """
        # EXERCISE 5.8: Render a template, or 404
        try:
            template = self.environment.get_template(name)
        except jinja2.TemplateNotFound:
            raise HTTPError(404, "page not found") from None
        return template.render(**(context or {}))
        # END EXERCISE

    def response(
        self,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        request: Request | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        """Return template ``name`` rendered as an HTMLResponse; ``request`` is in the context."""
        values = dict(context or {})
        if request is not None:
            values.setdefault("request", request)
        return HTMLResponse(self.render(name, values), status=status)

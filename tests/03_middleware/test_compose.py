"""build(): the first layer listed is the outermost; every layer is an app around an app."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import pytest
from onion.compose import build, layers
from stage02_helpers import call
from stage03_helpers import Recorder


class Mark:
    """A layer that records its name when the request passes in and the response out."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, name: str, trail: list[str]) -> None:
        self.app = app
        self.name = name
        self.trail = trail

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.trail.append(f"in {self.name}")

        def marking_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            self.trail.append(f"out {self.name}")
            return start_response(status, headers, exc_info)

        return self.app(environ, marking_start_response)


def test_first_layer_listed_is_outermost() -> None:
    """build(app, A, B, C): the request meets A first; the response leaves through A last."""
    trail: list[str] = []
    app = build(Recorder(), *(partial(Mark, name=name, trail=trail) for name in "ABC"))
    call(app)
    assert trail == ["in A", "in B", "in C", "out C", "out B", "out A"]


def test_build_is_nested_calls() -> None:
    """build(app, A, B) is A(B(app))."""
    api = Recorder()
    app = build(api, partial(Mark, name="A", trail=[]), partial(Mark, name="B", trail=[]))
    assert (app.name, app.app.name, app.app.app) == ("A", "B", api)  # type: ignore[attr-defined]


def test_build_without_layers_is_the_app() -> None:
    """build(app) with no layers returns the app itself."""
    api = Recorder()
    assert build(api) is api


def test_layers_lists_names_from_the_outside_in() -> None:
    """layers() follows each layer's .app down to the app."""
    app = build(Recorder(), partial(Mark, name="A", trail=[]), partial(Mark, name="B", trail=[]))
    assert layers(app) == ["Mark", "Mark", "Recorder"]


def test_a_layer_that_is_not_callable_is_refused() -> None:
    """Anything but a callable as a layer is a TypeError."""
    with pytest.raises(TypeError):
        build(Recorder(), "AccessLog")  # type: ignore[arg-type]

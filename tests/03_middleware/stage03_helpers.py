"""Apps for middleware tests: each one records what a middleware did to it.

``Recorder`` is a WSGI app with a scripted response whose body records
``close()``; ``sandwich`` wraps an app in werkzeug's lint *before* the
middleware wraps it, so that the middleware is checked as a server (by the
lint inside) and as an app (by both linters, which ``call`` puts outside).
Only lint goes inside: wsgiref's validator refuses the ``wsgi.input``
wrapper that an outer lint puts in the environ (it has no ``readlines``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from werkzeug.middleware.lint import LintMiddleware

App = Callable[..., Iterable[bytes]]


class RecordingBody:
    """A response body that yields its chunks and records every call to close()."""

    def __init__(
        self, chunks: Iterable[bytes], log: list[str], *, fail_after: int | None = None
    ) -> None:
        self._chunks = list(chunks)
        self._log = log
        self._fail_after = fail_after

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self._chunks):
            if self._fail_after is not None and index == self._fail_after:
                raise RuntimeError("failed while streaming")
            yield chunk
        if self._fail_after is not None and self._fail_after >= len(self._chunks):
            raise RuntimeError("failed while streaming")

    def close(self) -> None:
        self._log.append("closed")


@dataclass
class Recorder:
    """A WSGI app with a scripted response that records what it saw and whether it was closed.

    ``chunks`` as a list gives a whole body (a list); ``stream=True`` gives a
    streaming body (an iterator with close()). ``fail_after=n`` raises while
    iterating, before chunk n.
    """

    chunks: list[bytes] = field(default_factory=lambda: [b"hello"])
    status: str = "200 OK"
    headers: list[tuple[str, str]] = field(
        default_factory=lambda: [("Content-Type", "text/plain; charset=utf-8")]
    )
    stream: bool = False
    fail_after: int | None = None
    log: list[str] = field(default_factory=list)
    environ: dict[str, Any] = field(default_factory=dict)
    calls: int = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.calls += 1
        self.environ = environ
        headers = list(self.headers)
        if (
            not self.stream
            and self.fail_after is None
            and not any(name.lower() == "content-length" for name, _ in headers)
        ):
            headers.append(("Content-Length", str(sum(map(len, self.chunks)))))
        start_response(self.status, headers)
        if self.stream or self.fail_after is not None:
            return RecordingBody(self.chunks, self.log, fail_after=self.fail_after)
        return list(self.chunks)


def sandwich(layer: Callable[[App], App], app: App) -> App:
    """Return ``layer`` around ``app``, with werkzeug's lint between them."""
    return layer(LintMiddleware(app))

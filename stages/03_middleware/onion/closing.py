"""Closing through every layer: the iterable a middleware returns when it changes the body.

PEP 3333 makes the server call ``close()`` on whatever the app returned,
once, whether the body was sent completely, cut short by an error, or not
sent at all (the client went away). A middleware that returns its *own*
iterable in place of the app's must pass that call on, or the app's
``close()`` never runs: its file stays open, its database cursor is never
released, its access log line is never written.

A generator looks like the obvious tool, with ``try: ... finally:
body.close()``. It is not enough: closing a generator that has not started
yet does *not* run its ``finally:`` block (there is no frame to unwind), and
a server that never iterates (HEAD, or a client gone before the first chunk)
closes exactly such a generator. ``ClosingIterator`` makes the closing
explicit instead of leaving it to the generator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator


class ClosingIterator:
    """Send ``chunks``; on ``close()``, close them, then ``inner``, then call ``on_close``.

    ``chunks`` is what this layer sends (often a generator over ``inner``);
    ``inner`` is the wrapped app's result, whose ``close()`` must run;
    ``on_close`` is this layer's own end-of-response work (a log line).
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        *,
        inner: Iterable[bytes] | None = None,
        on_close: Callable[[], object] | None = None,
    ) -> None:
        self._chunks = chunks
        self._iterator: Iterator[bytes] = iter(chunks)
        self._inner = inner
        self._on_close = on_close
        self._closed = False

    def __iter__(self) -> ClosingIterator:
        return self

    def __next__(self) -> bytes:
        return next(self._iterator)

    def close(self) -> None:
        """Close every layer below, even if one of them fails; then re-raise the first error."""
        # EXERCISE 3.1: Close through every layer
        if self._closed:
            return
        self._closed = True
        closables: list[object] = [self._chunks]
        if self._inner is not None and self._inner is not self._chunks:
            closables.append(self._inner)
        steps: list[Callable[[], object]] = []
        for closable in closables:
            close = getattr(closable, "close", None)
            if close is not None:
                steps.append(close)
        if self._on_close is not None:
            steps.append(self._on_close)
        first_error: BaseException | None = None
        for step in steps:
            try:
                step()
            except Exception as error:
                if first_error is None:
                    first_error = error
        if first_error is not None:
            raise first_error
        # END EXERCISE

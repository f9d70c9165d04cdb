"""ClosingIterator: close() reaches every layer below, once, even when one of them fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from onion.closing import ClosingIterator


class Closable:
    """An iterable that records its close() in a shared log."""

    def __init__(self, name: str, log: list[str], *, fails: bool = False) -> None:
        self.name = name
        self.log = log
        self.fails = fails

    def __iter__(self) -> Iterator[bytes]:
        yield self.name.encode()

    def close(self) -> None:
        self.log.append(self.name)
        if self.fails:
            raise OSError(f"{self.name} failed to close")


def test_chunks_pass_through() -> None:
    """Iterating a ClosingIterator gives the chunks, unchanged."""
    assert list(ClosingIterator([b"a", b"b"])) == [b"a", b"b"]


@pytest.mark.exercise("3.1")
def test_close_closes_chunks_then_inner_then_calls_on_close() -> None:
    """close() closes this layer's chunks, then the app's body, then runs on_close."""
    log: list[str] = []
    closing = ClosingIterator(
        Closable("chunks", log),
        inner=Closable("inner", log),
        on_close=lambda: log.append("on_close"),
    )
    closing.close()
    assert log == ["chunks", "inner", "on_close"]


@pytest.mark.exercise("3.1")
def test_body_that_is_both_chunks_and_inner_is_closed_once() -> None:
    """A body passed as both chunks and inner has close() called once."""
    log: list[str] = []
    body = Closable("body", log)
    ClosingIterator(body, inner=body).close()
    assert log == ["body"]


@pytest.mark.exercise("3.1")
def test_inner_is_closed_even_if_the_generator_never_started() -> None:
    """Closing an unstarted generator runs none of its code: the inner body is still closed."""
    log: list[str] = []
    inner = Closable("inner", log)

    def chunks() -> Iterator[bytes]:
        try:
            yield from inner
        finally:
            log.append("generator finally")  # never runs: the generator never started

    ClosingIterator(chunks(), inner=inner).close()
    assert log == ["inner"]


@pytest.mark.exercise("3.1")
def test_every_step_runs_when_one_fails_and_the_first_error_is_raised() -> None:
    """If closing one layer raises, the others are still closed; then the error is raised."""
    log: list[str] = []
    closing = ClosingIterator(
        Closable("chunks", log, fails=True),
        inner=Closable("inner", log, fails=True),
        on_close=lambda: log.append("on_close"),
    )
    with pytest.raises(OSError, match="chunks failed"):
        closing.close()
    assert log == ["chunks", "inner", "on_close"]


@pytest.mark.exercise("3.1")
def test_second_close_does_nothing() -> None:
    """close() is idempotent: a second call closes nothing again."""
    log: list[str] = []
    closing = ClosingIterator([b"x"], inner=Closable("inner", log))
    closing.close()
    closing.close()
    assert log == ["inner"]


@pytest.mark.exercise("3.1")
def test_list_without_close_is_fine() -> None:
    """A plain list has no close(): closing around it just runs on_close."""
    log: list[str] = []
    ClosingIterator([b"a"], inner=[b"a"], on_close=lambda: log.append("done")).close()
    assert log == ["done"]

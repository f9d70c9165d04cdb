"""Follow one request's calls through a stage at run time, in every thread.

The recorder is a trace function (``sys.settrace``): Python calls it on
every function call. For code the stage's layer table shows, it returns a
local trace function that hears the call's ``return`` and ``exception``
events, so each shown call becomes a *span* with its arguments, its
result or error, and its duration. Everything else costs one dictionary
look-up and is not followed further.

Three details make this work for real servers:

* Threads. ``threading.settrace`` hands the same function to every thread
  started while it is installed, so a server's connection threads are
  followed too; :meth:`Recorder.run_in_thread` installs it in a thread of
  our own (the server thread). The recorder records only while *armed*, so
  a server thread can keep it installed between requests.
* Coroutines. A coroutine "returns" to the event loop at every ``await``
  that suspends, and is "called" again when resumed. The instruction the
  frame stopped on tells them apart: ``YIELD_VALUE`` (or, from Python
  3.13, the ``RESUME`` after it) is a suspension, ``RETURN_VALUE`` a real
  return, anything else an exception unwinding.
  A span stays open across suspensions, so its duration is wall time.
* Parents. A span's parent is the nearest frame up the *call chain*
  (``frame.f_back``) that has an open span, not the last span opened: with
  several tasks or threads interleaving, the chain is what is true.

The tracer's own cost (about a few microseconds per shown call) is part of
every duration it reports.
"""

from __future__ import annotations

import dis
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from inspect import (
    CO_ASYNC_GENERATOR,
    CO_COROUTINE,
    CO_GENERATOR,
    CO_ITERABLE_COROUTINE,
    CO_VARARGS,
    CO_VARKEYWORDS,
)
from types import CodeType, FrameType
from typing import Any

from workbook.tracer.layers import Call, LayerTable, describe_args, describe_outcome
from workbook.tracer.model import CLIENT, SERVER, SPAN, Lane, Step

TraceFunction = Callable[[FrameType, str, Any], Any]

_GENERATOR_FLAGS = CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE
_YIELD = {dis.opmap[name] for name in ("YIELD_VALUE",) if name in dis.opmap}
_RETURN = {dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in dis.opmap}
_RESUME = dis.opmap.get("RESUME")
#: Exceptions that are the machinery of generators and awaits, not errors.
_PLUMBING = (StopIteration, StopAsyncIteration)


def _opcode(frame: FrameType) -> tuple[int | None, int]:
    """Return the opcode and argument of the instruction the frame is on."""
    index = frame.f_lasti
    code = frame.f_code.co_code
    if index < 0 or index + 1 >= len(code):
        return None, 0
    return code[index], code[index + 1]


def _is_resumption(frame: FrameType) -> bool:
    """Return True if a 'call' event resumes a suspended generator or coroutine.

    ``RESUME 0`` opens a function; ``RESUME 1..3`` continues after a
    ``yield``, ``yield from`` or ``await``.
    """
    if not frame.f_code.co_flags & _GENERATOR_FLAGS or _RESUME is None:
        return False
    opcode, argument = _opcode(frame)
    return opcode == _RESUME and argument & 3 != 0


def _arguments(frame: FrameType) -> dict[str, Any]:
    """Return the arguments a frame was called with, by name."""
    code = frame.f_code
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & CO_VARARGS) + bool(code.co_flags & CO_VARKEYWORDS)
    values = frame.f_locals
    return {name: values[name] for name in code.co_varnames[:count] if name in values}


class Recorder:
    """Record the shown calls and the protocol events of one request at a time."""

    def __init__(
        self, table: LayerTable, *, clock: Callable[[], int] = time.perf_counter_ns
    ) -> None:
        self.table = table
        self.clock = clock
        self.steps: list[Step] = []
        self.lanes: dict[str, Lane] = {
            CLIENT: Lane(CLIENT, "client", table.lane_titles.get(CLIENT, "client")),
            SERVER: Lane(SERVER, "server", table.lane_titles.get(SERVER, "server")),
        }
        self._open: dict[FrameType, Step] = {}
        self._pending: dict[FrameType, BaseException] = {}
        self._calls: dict[int, tuple[Call, Any]] = {}
        self._origins: dict[int, tuple[str, Any]] = {}
        self._armed = False
        self._origin = clock()
        self._lock = threading.Lock()

    # ── Arming: one request at a time ────────────────────────────────────

    def arm(self) -> None:
        """Forget the last request and start recording from time zero."""
        with self._lock:
            self.steps = []
            self._open.clear()
            self._pending.clear()
            self._calls.clear()
            self._origins.clear()
            self._origin = self.clock()
            self._armed = True

    def disarm(self) -> list[Step]:
        """Stop recording and return the steps of the request."""
        with self._lock:
            self._armed = False
            self._open.clear()
            self._pending.clear()
            self._calls.clear()
            self._origins.clear()
            return self.steps

    @property
    def armed(self) -> bool:
        return self._armed

    def now(self) -> float:
        """Return milliseconds since the recorder was armed."""
        return self.elapsed(self.clock())

    def elapsed(self, reading: int) -> float:
        """Return a reading of ``clock`` (taken by a client, say) in ms since arming."""
        return (reading - self._origin) / 1e6

    def busy(self) -> bool:
        """Return True while some shown call has not returned yet."""
        return bool(self._open)

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait until every shown call has returned; False if some never did."""
        deadline = time.monotonic() + timeout
        while self._open:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    # ── Installing the trace function ────────────────────────────────────

    @contextmanager
    def installed(self) -> Iterator[Recorder]:
        """Follow calls in this thread and in every thread started meanwhile."""
        previous = sys.gettrace()
        previous_threads = threading.gettrace()
        sys.settrace(self.hook)
        threading.settrace(self.hook)
        try:
            yield self
        finally:
            sys.settrace(previous)
            threading.settrace(previous_threads)

    def run_in_thread(self, target: Callable[[], object]) -> Callable[[], None]:
        """Return a thread target that runs ``target`` with the recorder installed.

        Threads that ``target`` starts inherit it (``threading.settrace``
        in the thread would change it for the whole process).
        """

        def traced() -> None:
            sys.settrace(self.hook)
            try:
                target()
            finally:
                sys.settrace(None)

        return traced

    # ── The trace functions ──────────────────────────────────────────────

    def hook(self, frame: FrameType, event: str, arg: Any) -> TraceFunction | None:
        """The global trace function: decide, once per call, whether to follow it."""
        if not self._armed or event != "call":
            return None
        if frame in self._open:
            return self._local  # a coroutine resumed: its span is still open
        code = frame.f_code
        layer = self.table.layer_for(code, frame.f_globals.get("__name__", "?"))
        if layer is None or _is_resumption(frame):
            return None
        frame.f_trace_lines = False
        self._enter(frame, code, layer)
        return self._local

    def _local(self, frame: FrameType, event: str, arg: Any) -> TraceFunction | None:
        """The per-call trace function: hear the call's exceptions and its return."""
        if event == "exception":
            error = arg[1]
            if not isinstance(error, _PLUMBING):
                self._pending[frame] = error
        elif event == "return":
            opcode, argument = _opcode(frame)
            # Suspended, not finished: 3.11 and 3.12 stop on the YIELD_VALUE,
            # 3.13 already on the RESUME that will continue after it.
            if opcode in _YIELD or (opcode == _RESUME and argument & 3):
                return self._local
            error = None if opcode in _RETURN else self._pending.get(frame)
            self._leave(frame, arg if error is None else None, error)
        return self._local

    # ── Spans ────────────────────────────────────────────────────────────

    def _enter(self, frame: FrameType, code: CodeType, layer: Any) -> None:
        start = self.now()
        args = _arguments(frame)
        module = frame.f_globals.get("__name__", "?")
        placement = self.table.place(layer, code, module, args)
        parent = self.parent_of(frame.f_back)
        source = parent.lane if parent is not None else layer.source
        call = Call(args)
        detail, data = _describe(layer.call, call, describe_args(args))
        with self._lock:
            if not self._armed:
                return
            self.lanes.setdefault(
                placement.lane,
                Lane(
                    placement.lane,
                    layer.kind,
                    self.table.lane_titles.get(placement.lane, placement.lane),
                ),
            )
            step = Step(
                index=len(self.steps),
                kind=SPAN,
                lane=placement.lane,
                source=source,
                title=placement.title,
                detail=detail,
                start=start,
                parent=None if parent is None else parent.index,
                depth=0 if parent is None else parent.depth + 1,
                thread=threading.current_thread().name,
                data=data,
            )
            self.steps.append(step)
            self._open[frame] = step
            self._calls[step.index] = (call, layer)

    def _leave(self, frame: FrameType, value: Any, error: BaseException | None) -> None:
        end = self.now()
        with self._lock:
            step = self._open.pop(frame, None)
            self._pending.pop(frame, None)
            if step is None:
                return
            call, layer = self._calls.pop(step.index)
        step.end = end
        call.value, call.error = value, error
        if isinstance(error, GeneratorExit):
            step.result = "closed"
            return
        if error is not None:
            # Describers speak of results; an exception is told the same way everywhere.
            step.error = describe_outcome(call)
            step.data["error"] = step.error.removeprefix("raised ")
            return
        text, data = _describe(layer.result, call, describe_outcome(call))
        step.result = text
        step.data.update(data)
        if value is not None:
            # The deepest call that returned an object made it: a body list
            # is drawn as coming from the handler, not from the wrapper.
            self._origins.setdefault(id(value), (step.lane, value))

    def origin_lane(self, value: Any) -> str | None:
        """Return the lane of the layer that produced ``value``, if known.

        A generator's own lane while it runs; otherwise the lane of the
        deepest shown call that returned this very object.
        """
        frame = getattr(value, "gi_frame", None) or getattr(value, "ag_frame", None)
        if frame is not None and frame in self._open:
            return self._open[frame].lane
        origin = self._origins.get(id(value))
        return None if origin is None or origin[1] is not value else origin[0]

    def parent_of(self, frame: FrameType | None) -> Step | None:
        """Return the open span nearest up the call chain from ``frame``."""
        while frame is not None:
            step = self._open.get(frame)
            if step is not None:
                return step
            frame = frame.f_back
        return None

    # ── Point events: protocol messages, bytes, notes ────────────────────

    def event(
        self,
        kind: str,
        title: str,
        *,
        detail: str = "",
        source: str | None = None,
        lane: str | None = None,
        start: float | None = None,
        end: float | None = None,
        data: dict[str, Any] | None = None,
        caller: FrameType | None = None,
    ) -> Step | None:
        """Record an instant (or short) event at the point of the call chain it happened.

        ``source`` and ``lane`` default to the lane of the calling layer:
        a ``start_response`` call is an arrow from the app's lane to the
        server's, so the wrapper passes ``lane=SERVER`` and leaves ``source``.
        """
        if not self._armed:
            return None
        parent = self.parent_of(caller if caller is not None else sys._getframe(1))
        here = parent.lane if parent is not None else SERVER
        now = self.now()
        with self._lock:
            if not self._armed:
                return None
            step = Step(
                index=len(self.steps),
                kind=kind,
                lane=lane or here,
                source=source or here,
                title=title,
                detail=detail,
                start=now if start is None else start,
                end=now if end is None else end,
                parent=None if parent is None else parent.index,
                depth=0 if parent is None else parent.depth + 1,
                thread=threading.current_thread().name,
                data=data or {},
            )
            self.steps.append(step)
            return step


def _describe(describer: Any, call: Call, fallback: str) -> tuple[str, dict[str, Any]]:
    """Run a layer's describer; a describer's bug must never break the request."""
    if describer is None:
        return fallback, {}
    try:
        described = describer(call)
    except Exception as error:  # noqa: BLE001 - shown in the trace instead
        return f"{fallback}  [describer failed: {type(error).__name__}: {error}]", {}
    if isinstance(described, tuple):
        text, data = described
        return str(text), dict(data)
    return str(described), {}

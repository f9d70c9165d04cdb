"""The request tracer: follow one request through every layer of a stage.

    from workbook.tracer import stage_tracer

    tracer = stage_tracer(6)                      # the stage's example app
    trace = tracer.trace("GET", "/api/products")  # in process
    print(trace.timeline())                       # text, for a terminal
    svg = trace.svg()                             # a sequence diagram
    data = trace.to_dict()                        # JSON-ready

    with tracer.serve() as server:                # a real server, in a thread
        trace = server.trace("GET", "/api/products")   # bytes over a socket

How it works: :mod:`workbook.tracer.recorder` (following calls at run
time), :mod:`~workbook.tracer.layers` (which calls are shown, in which
lane), :mod:`~workbook.tracer.wsgi` and :mod:`~workbook.tracer.asgi` (the
protocol callables, wrapped), :mod:`~workbook.tracer.profiles` (one layer
table per stage), :mod:`~workbook.tracer.text` and
:mod:`~workbook.tracer.svg` (the renderings).

Beside its production twin (``python -m workbook trace N --beside``):

    from workbook.tracer.beside import beside

    twin = beside(1)                   # stage 01 and gunicorn's sync worker, over a socket
    print(twin.text())                 # both timelines and the map of layer to layer
    twin.theirs.trace.diagram()        # gunicorn's sequence diagram, in a notebook

:mod:`~workbook.tracer.beside` holds the comparisons (data, like the
profiles), :mod:`~workbook.tracer.peers` the production versions of the
example apps, and :mod:`~workbook.tracer.resolve` checks that every layer
pattern still names real code: every tracer runs it over its own table, and
a trace lists what it could not find (``trace.missing_layers``, a
``! layer not found`` line above the timeline).
"""

from __future__ import annotations

from workbook.tracer.core import LiveServer, Tracer
from workbook.tracer.http import Request, Response
from workbook.tracer.layers import Call, Layer, LayerTable
from workbook.tracer.model import CLIENT, NOTE, PROTOCOL, SERVER, SPAN, WIRE, Lane, Step, Trace
from workbook.tracer.resolve import MissingLayer

__all__ = [
    "CLIENT",
    "NOTE",
    "PROTOCOL",
    "SERVER",
    "SPAN",
    "WIRE",
    "Call",
    "Lane",
    "Layer",
    "LayerTable",
    "LiveServer",
    "MissingLayer",
    "Request",
    "Response",
    "Step",
    "Trace",
    "Tracer",
]

"""Requests both hand-written servers (stages 01 and 04) must refuse: one table, two suites.

Each is an input a proxy in front of the server could read otherwise (where
the request ends, or which site it is for), taken from public bug reports
against Python servers. Stage 01's README ("Request smuggling") explains
each rule; ``tests/01_raw_wsgi`` and ``tests/04_asgi`` send every case over
a real socket and expect its status, ``Connection: close`` and nothing more.
"""

from __future__ import annotations

#: (id, the bytes as sent, the status the server must answer with).
SMUGGLING_CASES: list[tuple[str, bytes, int]] = [
    (
        "te-nbsp",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \xa0chunked\r\n\r\n"
        b"1\r\nZ\r\n0\r\n\r\n",
        400,
    ),
    (
        "te-nel",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\x85\r\n\r\n"
        b"1\r\nZ\r\n0\r\n\r\n",
        400,
    ),
    ("cl-nbsp", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \xa01\r\n\r\nZ", 400),
    (
        "chunked-not-final",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
        b"1\r\nZ\r\n0\r\n\r\n",
        400,
    ),
    ("two-hosts-http-1.0", b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("host-space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    (
        "bare-lf-smuggling",
        b"GET / HTTP/1.1\r\nHost: a\r\nUseless:\n\nGET /echo?smuggled=1 HTTP/1.1\nHost: a\r\n\r\n",
        400,
    ),
    ("asterisk-get", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("field-over-8-kib", b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 8193 + b"\r\n\r\n", 431),
    (
        "cl-21-digits",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 123456789012345678901\r\n\r\n",
        413,
    ),
    (
        "forbidden-trailer",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1\r\nZ\r\n0\r\nContent-Length: 5\r\n\r\n",
        400,
    ),
]

#: A body announced with Expect: 100-continue and never sent: the server must say
#: "Connection: close" in the response before it closes (RFC 9112 §9.6).
UNANSWERED_CONTINUE = (
    b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
)

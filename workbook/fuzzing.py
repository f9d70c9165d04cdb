"""Property-based fuzzing of the example apps: hostile requests, strict checks.

Each framework stage's suite has a ``test_fuzz.py`` that sends requests
drawn by hypothesis to its example app, in process, and checks three
properties of every answer (DESIGN.md, rule 6):

1. the status is below 500: no client input is the server's fault;
2. the response is well formed: one status, header names that are tokens,
   values that are latin-1 text without CR, LF or NUL (RFC 9110, section
   5.5), a ``Content-Length`` equal to the body's length (RFC 9112, section
   6.3), and a JSON body that a strict parser accepts (RFC 8259: no
   ``NaN``, no ``Infinity``, no lone surrogates);
3. a refused request (4xx) leaves the app's data as it was.

The requests are what public bug reports against Starlette, FastAPI,
Flask, Werkzeug, Bottle and Django were made of: paths with percent-escapes
of any byte, unicode, dot and empty segments and huge numbers; query strings
with repeats, ``+`` and bad escapes; odd ``Content-Type`` parameters
(``charset=hex``), cookies, ``Accept-Encoding`` with odd q-values; bodies of
random bytes, deep JSON, ``NaN``, surrogates, wrong types and oversize.

Runs are reproducible: the default profile is derandomized (a fixed seed)
with few examples, so the whole set stays within seconds in ``make test``.
The inputs of the public bug reports themselves run first in every run
(``seed_requests``: each JSON trap aimed at each write the app takes), as
hypothesis's explicit examples.
For minutes of fuzzing with fresh random draws, run::

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests -k fuzz -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_to_bytes
from wsgiref.validate import validator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# ── Settings: a fixed seed in make test, a long profile for deep runs ────────

#: Examples per test in the default profile; the long profile multiplies it.
DEFAULT_EXAMPLES = 50
LONG_FACTOR = 50

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def long_run() -> bool:
    """Return whether ``HYPOTHESIS_PROFILE=long`` asks for minutes of fuzzing."""
    return os.environ.get("HYPOTHESIS_PROFILE") == "long"


#: Put on each fuzz test module (``pytestmark = FUZZ_TIMEOUT``): pytest-timeout
#: stops a test after 60 s (pyproject.toml), which a long run needs to exceed.
FUZZ_TIMEOUT = pytest.mark.timeout(0 if long_run() else 60)


def fuzz_settings(
    examples: int = DEFAULT_EXAMPLES, *, suppress: Sequence[HealthCheck] = ()
) -> settings:
    """Return the settings of one property test, from ``HYPOTHESIS_PROFILE`` (default or long).

    The default is derandomized (the same examples every run: a failure in
    CI is a failure on your machine) and keeps no example database. ``long``
    draws ``LONG_FACTOR`` times as many fresh examples each run. Every
    property test of the suites takes its settings from here; ``suppress``
    adds health checks a test knowingly trips (``function_scoped_fixture``
    for a fixture that holds no state between examples).
    """
    quiet = [*_QUIET, *suppress]
    if long_run():
        return settings(
            max_examples=examples * LONG_FACTOR, deadline=None, suppress_health_check=quiet
        )
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=quiet,
        print_blob=True,
    )


# ── Requests ─────────────────────────────────────────────────────────────────


@dataclass
class FuzzRequest:
    """One request as it comes off the wire: raw target bytes, header lines, body."""

    method: str
    raw_path: bytes  # percent-encoded, as in the request line
    query: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def __repr__(self) -> str:
        body = (
            self.body
            if len(self.body) <= 200
            else self.body[:200] + b"...(%d bytes)" % len(self.body)
        )
        return (
            f"FuzzRequest({self.method} {self.raw_path!r} ?{self.query!r} "
            f"headers={self.headers!r} body={body!r})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Show the short repr in hypothesis's reports too (a body may be a megabyte)."""
        printer.text(repr(self))


#: A number Python refuses to read or print (more than 4,300 digits).
HUGE_NUMBER = "1" * 5000

segments = st.one_of(
    st.sampled_from(
        [
            "",
            ".",
            "..",
            "%2E%2E",
            "%2F",
            "a%2Fb",
            "%00",
            "%FF",
            "%C3%A9",
            "%ED%A0%80",
            "%",
            "%zz",
            "0",
            "007",
            "-1",
            "+7",
            "1_000",
            "٣",
            "²",
            HUGE_NUMBER,
            "9" * 30,
            "9" * 4300,
            "export",
            "a b",
            "x;y",
            "~",
        ]
    ),
    st.text(min_size=1, max_size=12).map(
        lambda text: text.replace("/", "%2F").replace("?", "%3F").replace("#", "%23")
    ),
    st.binary(min_size=1, max_size=6).map(lambda data: "".join(f"%{byte:02X}" for byte in data)),
    st.integers(min_value=0, max_value=10**20).map(str),
)


def paths(prefixes: Sequence[str]) -> st.SearchStrategy[bytes]:
    """Return raw request paths: a known prefix (``/books``), then 0-3 hostile segments."""

    def build(prefix: str, tail: list[str], slash: bool) -> bytes:
        path = prefix.rstrip("/") + "".join("/" + segment for segment in tail)
        path = (path or "/") + ("/" if slash and tail else "")
        return path.encode("utf-8")  # non-ASCII sent raw, as some clients do

    return st.builds(
        build, st.sampled_from(list(prefixes)), st.lists(segments, max_size=3), st.booleans()
    )


queries = st.one_of(
    st.just(b""),
    st.sampled_from(
        [
            b"author=Ursula+K.+Le+Guin",
            b"author=a&author=b",
            b"done=true",
            b"done=false",
            b"a=%ZZ",
            b"a=%FF%FE",
            b"%C3%28=1",
            b"&&==&",
            b"a",
            b"a=1&a=2&a=3",
            ("n=" + HUGE_NUMBER).encode(),
        ]
    ),
    st.binary(max_size=40),
)

header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=40,
)


def content_types(media_types: Sequence[str]) -> st.SearchStrategy[str]:
    """Return Content-Type values: the expected type with odd parameters, or others."""
    parameters = st.sampled_from(
        [
            "",
            "; charset=utf-8",
            "; charset=UTF-16",
            "; charset=hex",
            "; charset=rot13",
            "; charset=idna",
            "; charset=nope",
            '; charset="utf-8"',
            "; charset=",
            "; boundary=x",
            ";;;",
        ]
    )
    return st.one_of(
        st.builds(
            lambda media, extra: media + extra, st.sampled_from(list(media_types)), parameters
        ),
        header_values,
    )


def basic_credentials(users: Sequence[tuple[str, str]]) -> st.SearchStrategy[str]:
    """Return Authorization values: valid ones for ``users``, and broken ones."""
    return st.one_of(
        st.sampled_from(
            [f"Basic {base64.b64encode(f'{u}:{p}'.encode()).decode()}" for u, p in users]
        ),
        st.binary(max_size=20).map(lambda data: "Basic " + base64.b64encode(data).decode()),
        st.sampled_from(
            ["Basic", "Basic !!!", "Basic =", "Bearer x", "basic YTpi", "Basic w6k6w6k="]
        ),
        header_values,
    )


def headers(
    media_types: Sequence[str], extra: Sequence[st.SearchStrategy[tuple[str, str]]] = ()
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Return header lines: Content-Type, Accept-Encoding, Cookie, and the ``extra`` kinds."""
    kinds: list[st.SearchStrategy[tuple[str, str]]] = [
        st.tuples(st.just("Content-Type"), content_types(media_types)),
        st.tuples(
            st.just("Accept-Encoding"),
            st.sampled_from(
                [
                    "gzip",
                    "gzip;q=0",
                    "br, gzip;q=0.5",
                    "*",
                    "*;q=0",
                    "gzip;q=nan",
                    "gzip;q=1e999",
                    "identity",
                    "gzip;q=-1",
                    ",",
                    "x-gzip",
                ]
            ),
        ),
        st.tuples(
            st.just("Cookie"),
            st.one_of(header_values, st.sampled_from(["a=1; a=2", 'a="x', "=", 'a=\\"'])),
        ),
        st.tuples(
            st.sampled_from(["X-Request-ID", "Accept", "Origin", "If-None-Match"]), header_values
        ),
        *extra,
    ]
    return st.lists(st.one_of(kinds), max_size=4)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(["\ud800", "a\udfffb", "", " ", "x" * 300]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def json_text(value: Any, ascii_only: bool) -> bytes:
    """Serialise ``value`` as Python's json would, NaN and surrogates included."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


#: Raw bodies that broke real frameworks' JSON handling.
JSON_TRAPS = (
    b"[" * 100_000,
    b'{"a":' * 50_000,
    b"NaN",
    b"-Infinity",
    b"1e999",
    b'{"title": NaN}',
    b'{"title": ' + HUGE_NUMBER.encode() + b"}",
    b'"\\ud800"',
    b'{"title": "\\udfff"}',
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    b"",
    b"{}",
    b"[]",
    b"null",
    b"5",
)

wild_values = st.one_of(
    json_values,
    st.sampled_from(
        [
            float("nan"),
            float("inf"),
            "\ud800",
            "x\udfffy",
            10**4000,
            1e308,
            -0.0,
            True,
            [[[[[[]]]]]],
            {"": None},
            "",
            " ",
            "\x00",
            "é" * 300,
        ]
    ),
)


def bodies(base: Mapping[str, Any], oversize: int) -> st.SearchStrategy[bytes]:
    """Return request bodies: ``base`` (a valid object) with wild values, JSON traps, bytes.

    ``base`` is what the app accepts (``{"title": "t", "author": "a"}``):
    changing one or two of its values, or adding a field, makes requests
    that pass the easy checks and reach the app's validation and storage.
    ``oversize`` is a length past the app's body limit.
    """
    names = st.sampled_from([*base, "extra"])
    changed = st.builds(
        lambda changes: {**base, **changes},
        st.dictionaries(names, wild_values, min_size=1, max_size=2),
    )
    # NOTE: hypothesis favours the first branch of one_of (it is the "simplest"),
    # so the branches come in the order of how much they find.
    return st.one_of(
        st.sampled_from(JSON_TRAPS),
        st.builds(json_text, changed, st.booleans()),
        st.builds(json_text, json_values, st.booleans()),
        st.binary(max_size=30),
        st.just(b"x" * oversize),
    )


def requests(
    prefixes: Sequence[str],
    *,
    methods: Sequence[str],
    media_types: Sequence[str],
    base: Mapping[str, Any],
    writes: Sequence[tuple[str, str]],
    oversize: int,
    extra_headers: Sequence[st.SearchStrategy[tuple[str, str]]] = (),
) -> st.SearchStrategy[FuzzRequest]:
    """Return the requests to send to one example app.

    Some are wild (any method, a hostile path under one of ``prefixes``,
    random headers); the others (hypothesis draws them first) are writes the app takes
    (``writes``: ``("POST", "/books")``...) with the first of ``media_types``
    (or an odd variant) and a hostile body, so that the app's own
    validation and storage see them.
    """
    wild = st.builds(
        FuzzRequest,
        st.sampled_from(list(methods)),
        paths(prefixes),
        queries,
        headers(media_types, extra_headers),
        bodies(base, oversize),
    )
    content_type = st.one_of(st.just(media_types[0]), content_types(media_types))
    aimed = st.builds(
        lambda write, kind, others, body: FuzzRequest(
            write[0], write[1].encode(), b"", [("Content-Type", kind), *others], body
        ),
        st.sampled_from(list(writes)),
        content_type,
        st.lists(st.one_of(*extra_headers), max_size=2) if extra_headers else st.just([]),
        bodies(base, oversize),
    )
    return st.one_of(aimed, wild)  # aimed first: hypothesis favours the first branch


def seed_requests(
    base: Mapping[str, Any], writes: Sequence[tuple[str, str]], media_type: str = "application/json"
) -> list[FuzzRequest]:
    """Return the known traps as requests: each write with each JSON trap and wild value.

    Hypothesis draws its examples at random (from a fixed seed in ``make
    test``), so a rare combination such as "POST with a JSON content type
    and 100,000 brackets" may not come up in a short run. These run first,
    every time: the inputs of the public bug reports, aimed at every write.
    """
    seeds = []
    wild_values: tuple[object, ...] = (
        float("nan"),
        float("inf"),
        "\ud800",
        10**4000,
        [[[[[]]]]],
        {"": None},
        None,
        True,
    )
    for method, path in writes:
        bodies_to_send = list(JSON_TRAPS)
        bodies_to_send += [
            json_text({**base, name: value}, ascii_only=True)
            for name in base
            for value in wild_values
        ]
        seeds += [
            FuzzRequest(method, path.encode(), b"", [("Content-Type", media_type)], body)
            for body in bodies_to_send
        ]
    return seeds


def seeded(seeds: Iterable[FuzzRequest], **other_arguments: Any) -> Callable[[Any], Any]:
    """Decorate a ``@given(request=...)`` test to run each of ``seeds`` first (``@example``)."""

    def decorate(test: Any) -> Any:
        for request in seeds:
            test = example(request=request, **other_arguments)(test)
        return test

    return decorate


# ── Checking a response ──────────────────────────────────────────────────────

# The checker's own copy of the token rule (RFC 9110 §5.6.2), on purpose: the
# stage under test (a learner's copy of stage 01 among them) cannot weaken the
# check by editing rawwsgi.http11.TOKEN.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
BAD_IN_VALUE = re.compile(r"[\r\n\x00]")


@dataclass
class Answer:
    """A response as the fuzz tests see it: status, header lines (text), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (any case), or None."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def refuse_constant(name: str) -> Any:
    """Make a strict JSON parser of Python's: NaN and Infinity are errors."""
    raise ValueError(f"{name} is not JSON (RFC 8259, section 6)")


def strict_json(body: bytes) -> Any:
    """Parse ``body`` as RFC 8259 JSON: UTF-8, no NaN or Infinity, no lone surrogate."""
    text = body.decode("utf-8")
    value = json.loads(text, parse_constant=refuse_constant)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate fails here
    return value


def check_answer(
    request: FuzzRequest,
    answer: Answer,
    *,
    server_drops_head_body: bool = False,
    check_json: bool = True,
) -> None:
    """Assert the first two properties: below 500, and well formed.

    ``server_drops_head_body``: the app may send a body to HEAD because its
    server drops it (stage 04's apps leave that to the server).
    ``check_json=False``: the body is the client's own, echoed back.
    """
    assert answer.status < 500, f"{answer.status} for {request!r}: {answer.body[:500]!r}"
    assert 100 <= answer.status <= 599, f"status {answer.status}"
    for name, value in answer.headers:
        assert TOKEN.fullmatch(name), f"header name {name!r} is not a token"
        assert not BAD_IN_VALUE.search(value), f"CR, LF or NUL in {name}: {value!r}"
        value.encode("latin-1")  # UnicodeEncodeError: not latin-1 text
    lengths = [value for name, value in answer.headers if name.lower() == "content-length"]
    assert len(lengths) <= 1, f"two Content-Length headers: {lengths}"
    no_content = answer.status < 200 or answer.status in (204, 304)
    if no_content:
        assert answer.body == b"", f"a {answer.status} with a body"
    if lengths and request.method != "HEAD" and not no_content:
        assert lengths[0].isdigit() and int(lengths[0]) == len(answer.body), (
            f"Content-Length {lengths[0]} for a body of {len(answer.body)} bytes"
        )
    if request.method == "HEAD" and not server_drops_head_body:
        assert answer.body == b"", "a body in the answer to HEAD"
    media_type = (answer.header("content-type") or "").split(";")[0].strip().lower()
    if (
        check_json
        and answer.body
        and (media_type == "application/json" or media_type.endswith("+json"))
    ):
        strict_json(decoded_body(answer))


def check_wsgi_request(
    app: Callable[..., Iterable[bytes]], request: FuzzRequest, read_data: Callable[[Any], Any]
) -> Answer:
    """Send ``request`` to a WSGI app and assert all three properties; return the answer.

    Below 500 and well formed (:func:`check_answer`), and a refused request
    (4xx) leaves what ``read_data(app)`` reads exactly as it was.
    """
    before = read_data(app)
    answer = call_wsgi(app, request)
    check_answer(request, answer)
    if answer.status >= 400:
        assert read_data(app) == before, (
            f"{request!r} was refused ({answer.status}) but changed the data"
        )
    return answer


def decoded_body(answer: Answer) -> bytes:
    """Return the body with its Content-Encoding (gzip) undone."""
    if (answer.header("content-encoding") or "").lower() == "gzip":
        return gzip.decompress(answer.body)
    return answer.body


# ── Sending: WSGI ────────────────────────────────────────────────────────────


def wsgi_environ(request: FuzzRequest) -> dict[str, Any]:
    """Return the environ a PEP 3333 server builds for ``request``."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        # The server percent-decodes the path and hands its bytes over as latin-1.
        "PATH_INFO": unquote_to_bytes(request.raw_path).decode("latin-1"),
        "QUERY_STRING": request.query.decode("latin-1"),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if request.body:
        environ["CONTENT_LENGTH"] = str(len(request.body))
    for name, value in request.headers:
        key = name.upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key
        environ[key] = (
            f"{environ[key]}, {value}" if key in environ and key != "CONTENT_TYPE" else value
        )
    return environ


def call_wsgi(app: Callable[..., Iterable[bytes]], request: FuzzRequest) -> Answer:
    """Serve ``request`` to a WSGI app wrapped in ``wsgiref.validate.validator``."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [(status, list(headers))]
        return lambda data: None

    result = validator(app)(wsgi_environ(request), start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    assert started, "the app returned without calling start_response"
    status, headers = started[0]
    code, space, reason = status.partition(" ")
    assert space and len(code) == 3 and code.isdigit(), f"malformed status {status!r}"
    return Answer(int(code), headers, body)


# ── Sending: ASGI ────────────────────────────────────────────────────────────


def asgi_scope(request: FuzzRequest, root_path: str = "") -> dict[str, Any]:
    """Return the HTTP scope an ASGI server builds for ``request`` (ASGI 3.0, HTTP scope)."""
    path = unquote(request.raw_path.decode("latin-1"), encoding="utf-8", errors="replace")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": root_path + path,
        "raw_path": root_path.encode() + request.raw_path,
        "query_string": request.query,
        "root_path": root_path,
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in [*request.headers, ("Content-Length", str(len(request.body)))]
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


async def _serve_asgi(app: Callable[..., Any], scope: dict[str, Any], body: bytes) -> Answer:
    sent: list[dict[str, Any]] = []
    finished = asyncio.Event()
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()  # the client stays until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        assert not finished.is_set(), f"{message['type']} sent after the response was complete"
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            finished.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert len(starts) == 1 and sent[0] is starts[0], f"expected one start event first: {sent!r}"
    assert finished.is_set(), "the response was never completed"
    headers = []
    for name, value in starts[0].get("headers", []):
        assert isinstance(name, bytes) and isinstance(value, bytes), (name, value)
        assert name == name.lower(), f"ASGI header names are lower case: {name!r}"
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
    body_out = b"".join(message.get("body", b"") for message in sent[1:])
    return Answer(starts[0]["status"], headers, body_out)


def call_asgi(app: Callable[..., Any], request: FuzzRequest, root_path: str = "") -> Answer:
    """Serve ``request`` to an ASGI app in process, as an ASGI server would."""
    return asyncio.run(_serve_asgi(app, asgi_scope(request, root_path), request.body))


# ── Whitespace that is not HTTP's ────────────────────────────────────────────

#: Characters that str.strip() and str.split() remove from latin-1 header text
#: but that are not whitespace in HTTP: OWS is SP and HTAB only (RFC 9110
#: §5.6.3). "\xa0gzip" padded with any of them must never pass for "gzip".
#: Each framework stage's test_ows.py checks it; for a deep run:
#: HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests -k ows -p no:cacheprovider
NOT_OWS_SPACE: tuple[str, ...] = tuple(
    character
    for character in map(chr, range(256))
    if character.isspace() and character not in " \t"
)

_OWS_TEXT = st.text(st.sampled_from(" \t"), max_size=3)
_NOT_OWS_TEXT = (
    st.lists(st.sampled_from((*NOT_OWS_SPACE, " ", "\t")), min_size=1, max_size=4)
    .filter(lambda characters: any(character in NOT_OWS_SPACE for character in characters))
    .map("".join)
)


def ows_pads() -> st.SearchStrategy[tuple[str, str]]:
    """Return (before, after) pads of OWS only (SP, HTAB; maybe empty): a value stays itself."""
    return st.tuples(_OWS_TEXT, _OWS_TEXT)


def non_ows_pads() -> st.SearchStrategy[tuple[str, str]]:
    """Return (before, after) pads with at least one whitespace character that is not OWS."""
    return st.one_of(
        st.tuples(_NOT_OWS_TEXT, _OWS_TEXT),
        st.tuples(_OWS_TEXT, _NOT_OWS_TEXT),
        st.tuples(_NOT_OWS_TEXT, _NOT_OWS_TEXT),
    )


def whitespace_properties(
    fields: Sequence[str], reads_as_the_token: Callable[[str, str, str], bool], examples: int = 60
) -> tuple[Callable[..., None], Callable[..., None]]:
    """Return a stage's two OWS property tests, one run per field in ``fields``.

    ``reads_as_the_token(field, before, after)`` says whether the field's
    value, padded with ``before`` and ``after``, is read as the bare token
    (``"gzip"``, ``"application/json"``...). Assign the pair to two names
    starting with ``test_`` in the test module, so that pytest collects them.
    """

    @pytest.mark.parametrize("field", list(fields))
    @fuzz_settings(examples)
    @given(pads=non_ows_pads())
    def never_with_other_whitespace(field: str, pads: tuple[str, str]) -> None:
        """A pad of whitespace other than SP or HTAB ("\xa0", "\x85"...) makes another value."""
        assert not reads_as_the_token(field, *pads)

    @pytest.mark.parametrize("field", list(fields))
    @fuzz_settings(max(examples // 3, 10))
    @given(pads=ows_pads())
    def always_with_ows(field: str, pads: tuple[str, str]) -> None:
        """SP and HTAB around the value are OWS (RFC 9110 §5.6.3): trimmed, it is the token."""
        assert reads_as_the_token(field, *pads)

    return never_with_other_whitespace, always_with_ows

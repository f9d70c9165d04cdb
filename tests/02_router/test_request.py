"""Request: a lazy view over the environ (path, query, headers, body, JSON)."""

from __future__ import annotations

import io

import pytest
from stage02_helpers import make_environ
from wsgirouter.request import Request
from wsgirouter.response import HTTPError


def request_for(method: str = "GET", path: str = "/", **options: object) -> Request:
    max_body = options.pop("max_body", 1024)
    return Request(make_environ(method, path, **options), max_body=max_body)  # type: ignore[arg-type]


# ── The path (exercise 2.1) ──────────────────────────────────────────────────


@pytest.mark.exercise("2.1")
@pytest.mark.parametrize(
    ("path_info", "expected"),
    [
        ("/books", "/books"),
        ("/caf\u00c3\u00a9", "/café"),  # /caf%C3%A9 on the wire
        ("/\u00e6\u0097\u00a5\u00e6\u009c\u00ac", "/日本"),  # three bytes a character
        ("/a b", "/a b"),
        ("", "/"),
    ],
)
def test_path_is_path_info_decoded_from_latin1_to_utf8(path_info: str, expected: str) -> None:
    """PATH_INFO's characters are the URL's bytes: re-encode as latin-1, decode as UTF-8."""
    request = Request(make_environ(path_info=path_info))
    assert request.path == expected


@pytest.mark.exercise("2.1")
def test_path_that_is_not_utf8_is_a_400() -> None:
    """A path whose bytes are not UTF-8 is the client's error: HTTPError(400)."""
    request = Request(make_environ(path_info="/caf\u00e9"))  # the single byte 0xE9
    with pytest.raises(HTTPError) as caught:
        request.path  # noqa: B018 -- the property does the work
    assert caught.value.status == 400


def test_method_is_kept_as_sent() -> None:
    """The method is REQUEST_METHOD as sent: methods are case-sensitive."""
    assert request_for("DELETE").method == "DELETE"


# ── Query and headers ────────────────────────────────────────────────────────


def test_query_keeps_every_value_of_a_repeated_name() -> None:
    """?tag=a&tag=b gives get_all("tag") == ["a", "b"] and ["tag"] == "a"."""
    query = request_for(query="tag=a&tag=b&q=x").query
    assert (query.get_all("tag"), query["tag"], query["q"]) == (["a", "b"], "a", "x")


@pytest.mark.parametrize(
    ("query_string", "name", "expected"),
    [
        ("q=caf%C3%A9", "q", ["café"]),
        ("q=a+b", "q", ["a b"]),
        ("empty=", "empty", [""]),
        ("flag", "flag", [""]),
        ("", "q", []),
        ("q=%FF", "q", ["\ufffd"]),  # not UTF-8: replaced, never a 500
    ],
)
def test_query_values_are_decoded(query_string: str, name: str, expected: list[str]) -> None:
    """Query values are percent-decoded UTF-8; blank values are kept."""
    assert request_for(query=query_string).query.get_all(name) == expected


def test_headers_are_read_from_the_environ_ignoring_case() -> None:
    """request.headers["x-request-id"] reads HTTP_X_REQUEST_ID; Content-Type is CONTENT_TYPE."""
    request = request_for(
        "POST", headers=[("X-Request-ID", "abc"), ("Content-Type", "text/csv")], body=b"a,b"
    )
    assert (request.headers["x-request-id"], request.headers["CONTENT-TYPE"]) == ("abc", "text/csv")


def test_headers_iterate_as_header_names() -> None:
    """Iterating the headers gives names like Content-Type and X-Request-Id."""
    request = request_for(
        "POST", headers=[("X-Request-ID", "abc"), ("Content-Type", "text/csv")], body=b"a,b"
    )
    assert {"X-Request-Id", "Content-Type", "Content-Length", "Host"} <= set(request.headers)


def test_missing_header_is_a_key_error() -> None:
    """A header that was not sent is missing: .get() gives None."""
    assert request_for().headers.get("Authorization") is None


# ── The body ─────────────────────────────────────────────────────────────────


def test_body_is_read_once_and_cached() -> None:
    """The body is read from wsgi.input once; a second Request over the environ sees it too."""
    environ = make_environ("POST", body=b"hello")
    first, second = Request(environ), Request(environ)
    assert (first.body, first.body, second.body) == (b"hello", b"hello", b"hello")


def test_body_reads_no_further_than_content_length() -> None:
    """Only CONTENT_LENGTH bytes are read: the rest of the stream belongs to the next request."""
    environ = make_environ("POST", body=b"hello")
    environ["wsgi.input"] = io.BytesIO(b"helloGET /next HTTP/1.1\r\n")
    assert Request(environ).body == b"hello"
    assert environ["wsgi.input"].read() == b"GET /next HTTP/1.1\r\n"


def test_body_without_content_length_is_empty() -> None:
    """Without Content-Length (and no terminated input) there is no body."""
    assert request_for("POST").body == b""


def test_terminated_input_is_read_to_its_end() -> None:
    """With wsgi.input_terminated, a body without Content-Length is read to EOF."""
    environ = make_environ("POST")
    environ["wsgi.input"] = io.BytesIO(b"chunked body")
    environ["wsgi.input_terminated"] = True
    assert Request(environ).body == b"chunked body"


def test_body_over_the_limit_is_a_413() -> None:
    """A Content-Length over max_body is refused with 413 before anything is read."""
    request = request_for("POST", body=b"x" * 11, max_body=10)
    with pytest.raises(HTTPError) as caught:
        request.body  # noqa: B018
    assert caught.value.status == 413


def test_terminated_body_over_the_limit_is_a_413() -> None:
    """A body without Content-Length that grows past max_body is a 413 too."""
    environ = make_environ("POST")
    environ["wsgi.input"] = io.BytesIO(b"x" * 11)
    environ["wsgi.input_terminated"] = True
    with pytest.raises(HTTPError) as caught:
        Request(environ, max_body=10).body  # noqa: B018
    assert caught.value.status == 413


@pytest.mark.parametrize("content_length", ["abc", "-1", "1.5", " 3"])
def test_invalid_content_length_is_a_400(content_length: str) -> None:
    """A Content-Length that is not a non-negative integer is a 400."""
    environ = make_environ("POST", body=b"abc")
    environ["CONTENT_LENGTH"] = content_length
    with pytest.raises(HTTPError) as caught:
        Request(environ).body  # noqa: B018
    assert caught.value.status == 400


def test_body_shorter_than_content_length_is_a_400() -> None:
    """A stream that ends before Content-Length bytes is a 400, not a hang or a 500."""
    environ = make_environ("POST", body=b"abc")
    environ["CONTENT_LENGTH"] = "10"
    with pytest.raises(HTTPError) as caught:
        Request(environ).body  # noqa: B018
    assert caught.value.status == 400


# ── JSON ─────────────────────────────────────────────────────────────────────


def json_request(body: bytes, content_type: str = "application/json") -> Request:
    return request_for("POST", headers=[("Content-Type", content_type)], body=body)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", b'{"a": [1, 2]}', {"a": [1, 2]}),
        ("application/json; charset=utf-8", '{"t": "café"}'.encode(), {"t": "café"}),
        ("application/problem+json", b"[]", []),
    ],
)
def test_json_body_is_parsed(content_type: str, body: bytes, expected: object) -> None:
    """A JSON body with a JSON media type is parsed."""
    assert json_request(body, content_type).json() == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"title":', "invalid JSON: Expecting value"),
        (b"", "invalid JSON: the body is empty"),
        (b'{"n": NaN}', "invalid JSON: NaN is not valid JSON"),
        (b"\xff\xfe\xfa", "invalid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    ],
)
def test_invalid_json_is_a_400_with_a_message(body: bytes, message: str) -> None:
    """Invalid JSON is a 400 whose message says what is wrong, never a 500."""
    request = Request(
        make_environ("POST", headers=[("Content-Type", "application/json")], body=body),
        max_body=1024 * 1024,
    )
    with pytest.raises(HTTPError) as caught:
        request.json()
    assert (caught.value.status, caught.value.message[: len(message)]) == (400, message)


def test_json_with_another_content_type_is_a_415() -> None:
    """A body that is not declared as JSON is a 415 Unsupported Media Type."""
    with pytest.raises(HTTPError) as caught:
        json_request(b"{}", "text/plain").json()
    assert caught.value.status == 415


# ── URLs ─────────────────────────────────────────────────────────────────────


def test_absolute_url_uses_scheme_host_and_mount_point() -> None:
    """absolute_url joins wsgi.url_scheme, Host and SCRIPT_NAME to the path."""
    environ = make_environ(headers=[("Host", "example.org:8080")])
    environ["SCRIPT_NAME"] = "/api"
    assert Request(environ).absolute_url("/books/1") == "http://example.org:8080/api/books/1"


def test_absolute_url_without_host_uses_server_name_and_port() -> None:
    """Without a Host header the URL uses SERVER_NAME and a non-default SERVER_PORT."""
    environ = make_environ()
    del environ["HTTP_HOST"]
    environ["SERVER_PORT"] = "8000"
    assert Request(environ).absolute_url("/") == "http://testserver:8000/"

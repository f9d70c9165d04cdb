"""The raw WSGI apps, called in process through wsgiref.validate.validator.

Calling an app needs no server at all: build an environ, pass a
start_response, join the iterable. Every call here goes through
``validator``, so each test is also a PEP 3333 conformance check.
"""

from __future__ import annotations

import io

import pytest
from rawwsgi import apps
from stage01_helpers import call


def test_hello_answers_utf8_plain_text_with_its_length() -> None:
    """GET / answers 200 "Hello, WSGI!" as UTF-8 plain text with its length."""
    result = call(apps.hello)
    assert (result.status, result.body) == ("200 OK", b"Hello, WSGI!")
    assert result.header("Content-Type") == "text/plain; charset=utf-8"
    assert result.header("Content-Length") == "12"


def test_hello_refuses_post_with_405_and_allow() -> None:
    """A method hello does not handle gets 405 and an Allow header naming those it does."""
    result = call(apps.hello, "POST", body=b"x")
    assert result.status == "405 Method Not Allowed"
    assert result.header("Allow") == "GET, HEAD"


def test_not_found_answers_404() -> None:
    """Any path the app does not know gets 404."""
    result = call(apps.app, "GET", "/nope")
    assert (result.status, result.body) == ("404 Not Found", b"Not Found")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", b"Hello, WSGI!"),
        ("", b"Hello, WSGI!"),  # PEP 3333: PATH_INFO may be empty when the URL is the app's root
        ("/echo", b"method: GET\npath: /echo\nquery: \nbody: \n"),
        ("/echo/", b"Not Found"),
    ],
)
def test_app_dispatches_on_path_info(path: str, expected: bytes) -> None:
    """The app sends "/" to hello, "/echo" to echo and anything else to the 404."""
    assert call(apps.app, "GET", path).body == expected


@pytest.mark.exercise("1.1")
def test_echo_echoes_method_path_query_and_body() -> None:
    """echo answers with the request's method, path, query string and body, one a line."""
    result = call(apps.echo, "POST", "/echo", query="name=wsgi", body=b"hello")
    assert result.body == b"method: POST\npath: /echo\nquery: name=wsgi\nbody: hello\n"


@pytest.mark.exercise("1.1")
def test_echo_sends_text_with_content_length() -> None:
    """echo's response is 200 text/plain with a Content-Length that matches its body."""
    result = call(apps.echo, "PUT", "/echo", body=b"data")
    assert result.status == "200 OK"
    assert result.header("Content-Type") == "text/plain; charset=utf-8"
    assert result.header("Content-Length") == str(len(result.body))


@pytest.mark.exercise("1.1")
def test_echo_without_body_echoes_an_empty_body() -> None:
    """A GET with no body is echoed with an empty body line."""
    assert call(apps.echo, "GET", "/echo").body == b"method: GET\npath: /echo\nquery: \nbody: \n"


@pytest.mark.exercise("1.1")
def test_echo_reads_no_more_than_content_length() -> None:
    """echo reads exactly CONTENT_LENGTH bytes: what follows belongs to someone else."""
    environ = {"wsgi.input": io.BytesIO(b"helloGET /next HTTP/1.1"), "CONTENT_LENGTH": "5"}
    result = call(apps.echo, "POST", "/echo", environ=environ)
    assert result.body.endswith(b"body: hello\n")


@pytest.mark.exercise("1.1")
def test_echo_reads_a_terminated_input_to_its_end() -> None:
    """With no CONTENT_LENGTH but wsgi.input_terminated (a chunked body), echo reads to EOF."""
    environ = {"wsgi.input": io.BytesIO(b"x" * 100_000), "wsgi.input_terminated": True}
    result = call(apps.echo, "POST", "/echo", environ=environ)
    assert result.body == b"method: POST\npath: /echo\nquery: \nbody: " + b"x" * 100_000 + b"\n"


@pytest.mark.exercise("1.1")
def test_echo_reads_nothing_without_a_length() -> None:
    """With neither CONTENT_LENGTH nor wsgi.input_terminated, there is no body to read."""
    environ = {"wsgi.input": io.BytesIO(b"not the body")}
    result = call(apps.echo, "POST", "/echo", environ=environ)
    assert result.body.endswith(b"body: \n")


@pytest.mark.exercise("1.1")
def test_echo_gives_back_the_path_bytes() -> None:
    """echo writes the path's original bytes: PATH_INFO is bytes decoded as latin-1."""
    path_info = "/café".encode().decode("latin-1")  # what a server makes of /caf%C3%A9
    result = call(apps.echo, "GET", path_info)
    assert b"path: /caf\xc3\xa9\n" in result.body

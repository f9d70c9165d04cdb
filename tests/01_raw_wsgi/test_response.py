"""start_response, write() and the framing of a response, with a list as the wire."""

from __future__ import annotations

import sys

import pytest
from rawwsgi.http11 import RequestHead
from rawwsgi.response import Response

TEXT = [("Content-Type", "text/plain")]


class Wire:
    """Stands in for the socket: records every send() in order."""

    def __init__(self) -> None:
        self.sends: list[bytes] = []

    def __call__(self, data: bytes) -> None:
        self.sends.append(data)

    @property
    def data(self) -> bytes:
        return b"".join(self.sends)

    @property
    def head(self) -> bytes:
        return self.data.partition(b"\r\n\r\n")[0]

    @property
    def body(self) -> bytes:
        return self.data.partition(b"\r\n\r\n")[2]

    def header(self, name: str) -> str | None:
        for line in self.head.decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(": ")
            if key.lower() == name.lower():
                return value
        return None


def response_to(
    method: str = "GET", version: str = "HTTP/1.1", *fields: tuple[str, str]
) -> tuple[Response, Wire]:
    wire = Wire()
    head = RequestHead(method, "/", "/", "", version, [("host", "a"), *fields])
    return Response(wire, head, date="Sat, 01 Jan 2000 00:00:00 GMT"), wire


def send(response: Response, pieces: list[bytes], *, one_item_list: bool = False) -> None:
    """Do what the server does with an app's iterable: write each piece, then finish."""
    if one_item_list:
        response.length_hint = len(pieces[0])
    for piece in pieces:
        response.write(piece)
        if response.headers_sent and not response.wants_body:
            break
    response.finish()


# ── start_response ───────────────────────────────────────────────────────────


@pytest.mark.exercise("1.4")
def test_start_response_records_status_and_headers() -> None:
    """start_response keeps the status and headers for the head it will send."""
    response, _ = response_to()
    response.start_response("201 Created", [("Content-Type", "text/plain"), ("X-A", "1")])
    assert (response.status, response.headers) == (
        "201 Created",
        [("Content-Type", "text/plain"), ("X-A", "1")],
    )


@pytest.mark.exercise("1.4")
def test_start_response_returns_a_write_callable_that_sends() -> None:
    """The legacy write() that start_response returns sends body bytes at once."""
    response, wire = response_to()
    write = response.start_response("200 OK", TEXT)
    write(b"streamed")
    assert wire.head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"streamed" in wire.body


@pytest.mark.exercise("1.4")
def test_start_response_sends_nothing_by_itself() -> None:
    """The head waits for the first body bytes: start_response alone sends nothing."""
    response, wire = response_to()
    response.start_response("200 OK", TEXT)
    response.write(b"")
    assert wire.sends == []


@pytest.mark.exercise("1.4")
def test_start_response_twice_without_exc_info_is_an_error() -> None:
    """PEP 3333: a second call is only allowed with exc_info."""
    response, _ = response_to()
    response.start_response("200 OK", TEXT)
    with pytest.raises(RuntimeError):
        response.start_response("500 Internal Server Error", TEXT)


@pytest.mark.exercise("1.4")
def test_start_response_with_exc_info_replaces_unsent_headers() -> None:
    """Before anything was sent, start_response(..., exc_info) replaces status and headers."""
    response, wire = response_to()
    response.start_response("200 OK", TEXT)
    try:
        raise ValueError("the app failed")
    except ValueError:
        response.start_response("500 Internal Server Error", TEXT, sys.exc_info())
    send(response, [b"sorry"])
    assert wire.head.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")


@pytest.mark.exercise("1.4")
def test_start_response_with_exc_info_after_sending_reraises() -> None:
    """Once the head is sent, start_response(..., exc_info) re-raises the app's own error."""
    response, _ = response_to()
    response.start_response("200 OK", TEXT)
    response.write(b"partial")
    error = ValueError("the app failed half-way")
    with pytest.raises(ValueError) as caught:
        try:
            raise error
        except ValueError:
            response.start_response("500 Internal Server Error", TEXT, sys.exc_info())
    assert caught.value is error


@pytest.mark.exercise("1.4")
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, TypeError),
        (b"200 OK", TypeError),
        ("200", ValueError),
        ("200OK", ValueError),
        ("2000 OK", ValueError),
        ("OK 200", ValueError),
        ("100 Continue", ValueError),
    ],
)
def test_start_response_refuses_a_bad_status(status: object, error: type[Exception]) -> None:
    """The status is a str: three digits (200 or more), a space, a reason phrase."""
    response, _ = response_to()
    with pytest.raises(error):
        response.start_response(status, TEXT)  # type: ignore[arg-type]


@pytest.mark.exercise("1.4")
@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ((("Content-Type", "text/plain"),), TypeError),
        ([["Content-Type", "text/plain"]], TypeError),
        ([("Content-Type",)], TypeError),
        ([("Content-Type", 5)], TypeError),
        ([("X-Split", "a\r\nSet-Cookie: evil=1")], ValueError),
        ([("X-Nul", "a\x00")], ValueError),
        ([("Bad Name", "x")], ValueError),
        ([("Connection", "close")], ValueError),
        ([("Transfer-Encoding", "chunked")], ValueError),
    ],
)
def test_start_response_refuses_bad_headers(headers: object, error: type[Exception]) -> None:
    """Headers are a list of (str, str) tuples, with no CR/LF/NUL and no hop-by-hop names."""
    response, _ = response_to()
    with pytest.raises(error):
        response.start_response("200 OK", headers)  # type: ignore[arg-type]


# ── Framing ──────────────────────────────────────────────────────────────────


@pytest.mark.exercise("1.4")
def test_framing_uses_the_apps_content_length() -> None:
    """With the app's Content-Length, the body goes as is, with no chunking."""
    response, wire = response_to()
    response.start_response("200 OK", [*TEXT, ("Content-Length", "10")])
    send(response, [b"hello", b"world"])
    assert (wire.header("Content-Length"), wire.header("Transfer-Encoding"), wire.body) == (
        "10",
        None,
        b"helloworld",
    )


@pytest.mark.exercise("1.4")
def test_framing_counts_a_one_item_list() -> None:
    """A one-item list has a known length: Content-Length, sent in a single send()."""
    response, wire = response_to()
    response.start_response("200 OK", TEXT)
    send(response, [b"hello"], one_item_list=True)
    assert (wire.header("Content-Length"), wire.body, len(wire.sends)) == ("5", b"hello", 1)


@pytest.mark.exercise("1.4")
def test_framing_chunks_an_unknown_length_for_http_1_1() -> None:
    """Unknown length, HTTP/1.1 client: Transfer-Encoding: chunked, ended by the last chunk."""
    response, wire = response_to()
    response.start_response("200 OK", TEXT)
    send(response, [b"hello", b"", b"world!"])
    assert wire.header("Transfer-Encoding") == "chunked"
    assert wire.body == b"5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n"
    assert response.keep_alive is True


@pytest.mark.exercise("1.4")
def test_framing_closes_to_end_an_unknown_length_for_http_1_0() -> None:
    """Unknown length, HTTP/1.0 client: no chunks; closing the connection ends the body."""
    response, wire = response_to("GET", "HTTP/1.0", ("connection", "keep-alive"))
    response.start_response("200 OK", TEXT)
    send(response, [b"hello", b"world"])
    assert (wire.header("Transfer-Encoding"), wire.header("Connection"), wire.body) == (
        None,
        "close",
        b"helloworld",
    )
    assert response.keep_alive is False


@pytest.mark.exercise("1.4")
def test_framing_keeps_an_http_1_0_connection_that_asked_for_it() -> None:
    """An HTTP/1.0 keep-alive request with a known length gets Connection: keep-alive."""
    response, wire = response_to("GET", "HTTP/1.0", ("connection", "keep-alive"))
    response.start_response("200 OK", [*TEXT, ("Content-Length", "2")])
    send(response, [b"ok"])
    assert (wire.header("Connection"), response.keep_alive) == ("keep-alive", True)


@pytest.mark.exercise("1.4")
def test_framing_says_close_when_the_client_did() -> None:
    """A request with Connection: close gets Connection: close back."""
    response, wire = response_to("GET", "HTTP/1.1", ("connection", "close"))
    response.start_response("200 OK", TEXT)
    send(response, [b"ok"], one_item_list=True)
    assert (wire.header("Connection"), response.keep_alive) == ("close", False)


@pytest.mark.exercise("1.4")
def test_framing_sends_no_body_for_head_but_the_get_length() -> None:
    """A HEAD response has the GET's headers, Content-Length included, and no body."""
    response, wire = response_to("HEAD")
    response.start_response("200 OK", TEXT)
    send(response, [b"hello"], one_item_list=True)
    assert (wire.header("Content-Length"), wire.body) == ("5", b"")


@pytest.mark.exercise("1.4")
@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_framing_sends_no_body_and_no_length_for_204_and_304(status: str) -> None:
    """204 and 304 responses never carry a body, nor a Content-Length the server invents."""
    response, wire = response_to()
    response.start_response(status, [])
    send(response, [b"ignored"], one_item_list=True)
    assert (wire.header("Content-Length"), wire.header("Transfer-Encoding"), wire.body) == (
        None,
        None,
        b"",
    )


@pytest.mark.exercise("1.4")
def test_framing_gives_an_empty_body_a_zero_length() -> None:
    """An app that yields nothing (or only b"") has a body known to be empty."""
    response, wire = response_to()
    response.start_response("200 OK", TEXT)
    send(response, [b"", b""])
    assert (wire.header("Content-Length"), wire.body) == ("0", b"")


@pytest.mark.exercise("1.4")
def test_framing_cuts_a_body_longer_than_its_content_length() -> None:
    """More bytes than the app's Content-Length are not sent; the connection closes."""
    response, wire = response_to()
    response.start_response("200 OK", [*TEXT, ("Content-Length", "3")])
    send(response, [b"abcdef"])
    assert (wire.body, response.keep_alive) == (b"abc", False)


@pytest.mark.exercise("1.4")
def test_framing_closes_after_a_body_shorter_than_its_content_length() -> None:
    """Fewer bytes than promised: the connection must close, or the client waits forever."""
    response, _ = response_to()
    response.start_response("200 OK", [*TEXT, ("Content-Length", "10")])
    send(response, [b"abc"])
    assert response.keep_alive is False


@pytest.mark.exercise("1.4")
def test_framing_adds_date_and_server_without_touching_the_apps_list() -> None:
    """The server adds Date and Server to the head, not to the list the app passed."""
    response, wire = response_to()
    headers = [*TEXT, ("Content-Length", "2")]
    response.start_response("200 OK", headers)
    send(response, [b"ok"])
    assert (wire.header("Date"), wire.header("Server")) == (
        "Sat, 01 Jan 2000 00:00:00 GMT",
        "rawwsgi",
    )
    assert headers == [*TEXT, ("Content-Length", "2")]


def test_write_before_start_response_is_an_error() -> None:
    """Body bytes before start_response() are an app error."""
    response, _ = response_to()
    with pytest.raises(RuntimeError):
        response.write(b"too early")


def test_finish_without_start_response_is_an_error() -> None:
    """An app that returns without calling start_response() has not answered."""
    response, _ = response_to()
    with pytest.raises(RuntimeError):
        response.finish()


def test_write_refuses_str() -> None:
    """Body pieces are bytes: a str is a TypeError, not a guess at an encoding."""
    response, _ = response_to()
    response.start_response("200 OK", TEXT)
    with pytest.raises(TypeError):
        response.write("text")  # type: ignore[arg-type]

"""The WebSocket codec with no I/O: the handshake key, frames, messages and close codes."""

from __future__ import annotations

import struct

import pytest
from rawasgi.websocket import (
    BinaryMessage,
    Close,
    Frame,
    MessageReader,
    Opcode,
    Ping,
    Pong,
    ProtocolError,
    TextMessage,
    accept_key,
    decode_close_payload,
    decode_frame,
    encode_close_payload,
    encode_frame,
    is_valid_client_key,
    mask_payload,
)
from stage04_helpers import client_frame


def test_accept_key_matches_rfc_6455_example() -> None:
    """Sec-WebSocket-Accept is base64(SHA-1(key + GUID)): RFC 6455 §1.3's own example."""
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("dGhlIHNhbXBsZSBub25jZQ==", True),
        (None, False),
        ("", False),
        ("c2hvcnQ=", False),
        ("not base64!", False),
    ],
)
def test_client_key_must_be_16_base64_bytes(key: str | None, valid: bool) -> None:
    """A Sec-WebSocket-Key is valid only if it is base64 for exactly 16 bytes."""
    assert is_valid_client_key(key) is valid


def test_masking_twice_gives_the_payload_back() -> None:
    """XOR masking is its own inverse, for payloads of any length."""
    payload = bytes(range(256)) * 3 + b"odd"
    assert mask_payload(mask_payload(payload, b"\x01\x02\x03\x04"), b"\x01\x02\x03\x04") == payload


@pytest.mark.parametrize(
    ("payload", "expected_head"),
    [
        (b"Hi", b"\x81\x02"),
        (b"x" * 126, b"\x81\x7e\x00\x7e"),
        (b"x" * 65536, b"\x81\x7f" + struct.pack("!Q", 65536)),
    ],
)
def test_encode_frame_uses_the_shortest_length(payload: bytes, expected_head: bytes) -> None:
    """A server frame: FIN + opcode, then a 7-bit, 16-bit or 64-bit length, no mask, the payload."""
    assert encode_frame(Opcode.TEXT, payload) == expected_head + payload


# ── decode_frame (exercise 4.4) ──────────────────────────────────────────────


@pytest.mark.exercise("4.4")
@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536], ids=lambda size: f"{size}-bytes")
def test_decode_frame_unmasks_every_length_encoding(size: int) -> None:
    """A masked client frame decodes to its payload, whichever length encoding it uses."""
    payload = bytes(index % 251 for index in range(size))
    data = client_frame(0x2, payload)
    assert decode_frame(data) == (Frame(Opcode.BINARY, payload, True), len(data))


@pytest.mark.exercise("4.4")
def test_decode_frame_reads_fin_and_opcode() -> None:
    """A non-final text fragment decodes with fin False."""
    assert decode_frame(client_frame(0x1, b"abc", fin=False))[0] == Frame(
        Opcode.TEXT, b"abc", False
    )


@pytest.mark.exercise("4.4")
def test_decode_frame_waits_for_the_whole_frame() -> None:
    """Every proper prefix of a frame decodes to None: more bytes are needed."""
    data = client_frame(0x1, b"x" * 300)
    assert [decode_frame(data[:end]) for end in range(len(data))] == [None] * len(data)


@pytest.mark.exercise("4.4")
def test_decode_frame_leaves_the_next_frame_alone() -> None:
    """Only the first frame's bytes are used; the count says where the next begins."""
    first, second = client_frame(0x1, b"one"), client_frame(0x1, b"two")
    frame, used = decode_frame(first + second)
    assert (frame.payload, used) == (b"one", len(first))


@pytest.mark.exercise("4.4")
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (client_frame(0x1, b"hi", mask=None), 1002),
        (client_frame(0x1, b"hi", rsv=4), 1002),
        (client_frame(0x3, b"hi"), 1002),
        (client_frame(0x9, b"ping", fin=False), 1002),
        (client_frame(0x9, b"x" * 126), 1002),
        (client_frame(0x2, b"x" * 200), 1009),
        (b"\x82\xff" + struct.pack("!Q", 1 << 63), 1002),
    ],
    ids=[
        "unmasked",
        "reserved-bit",
        "unknown-opcode",
        "fragmented-ping",
        "long-ping",
        "too-big",
        "64-bit-length-top-bit",
    ],
)
def test_decode_frame_refuses_broken_frames(data: bytes, code: int) -> None:
    """Broken frames raise ProtocolError with the close code to send: 1002, or 1009 if too big."""
    with pytest.raises(ProtocolError) as raised:
        decode_frame(data, max_size=150)
    assert raised.value.code == code


@pytest.mark.exercise("4.4")
def test_decode_frame_refuses_an_oversized_frame_from_its_header() -> None:
    """A frame over max_size is refused as soon as its length is known, before its payload."""
    head = b"\x82\xfe" + struct.pack("!H", 1000)  # 1000 bytes announced, none sent
    with pytest.raises(ProtocolError) as raised:
        decode_frame(head, max_size=500)
    assert raised.value.code == 1009


@pytest.mark.exercise("4.4")
def test_decode_frame_can_read_unmasked_server_frames() -> None:
    """With require_mask False (a client reading a server), unmasked frames decode."""
    assert decode_frame(b"\x81\x02Hi", require_mask=False) == (Frame(Opcode.TEXT, b"Hi", True), 4)


# ── Messages ─────────────────────────────────────────────────────────────────


def events_of(data: bytes, **options: int) -> list:
    reader = MessageReader(**options)
    reader.feed(data)
    events = []
    while (event := reader.next_event()) is not None:
        events.append(event)
    return events


def test_fragments_make_one_message_with_control_frames_between() -> None:
    """Fragments are joined into one message; a ping between them is returned at once."""
    text = "héllo wörld".encode()
    data = (
        client_frame(0x1, text[:2], fin=False)
        + client_frame(0x9, b"p")
        + client_frame(0x0, text[2:7], fin=False)
        + client_frame(0x0, text[7:])
    )
    assert events_of(data) == [Ping(b"p"), TextMessage("héllo wörld")]


def test_binary_and_pong_and_close() -> None:
    """Binary messages, pongs and close frames each become their own event."""
    data = (
        client_frame(0x2, b"\x00\x01") + client_frame(0xA, b"") + client_frame(0x8, b"\x03\xe8bye")
    )
    assert events_of(data) == [BinaryMessage(b"\x00\x01"), Pong(b""), Close(1000, "bye")]


def test_reader_accepts_bytes_one_at_a_time() -> None:
    """Bytes may arrive one by one: the message comes out when the last one is fed."""
    reader = MessageReader()
    data = client_frame(0x1, b"split")
    results = []
    for index in range(len(data)):
        reader.feed(data[index : index + 1])
        results.append(reader.next_event())
    assert results == [None] * (len(data) - 1) + [TextMessage("split")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (client_frame(0x1, b"\xff\xfe"), 1007),
        (client_frame(0x1, b"ok", fin=False) + client_frame(0x0, b"\xc0"), 1007),
        (client_frame(0x0, b"orphan"), 1002),
        (client_frame(0x1, b"a", fin=False) + client_frame(0x1, b"b"), 1002),
        (client_frame(0x2, b"x" * 100, fin=False) + client_frame(0x0, b"x" * 100), 1009),
        (client_frame(0x8, b"\x03"), 1002),
        (client_frame(0x8, b"\x03\xed"), 1002),
        (client_frame(0x8, b"\x03\xe8\xff"), 1007),
    ],
    ids=[
        "bad-utf8",
        "bad-utf8-in-a-fragment",
        "continuation-without-start",
        "new-message-mid-fragment",
        "message-too-big",
        "one-byte-close",
        "reserved-close-code",
        "bad-utf8-close-reason",
    ],
)
def test_reader_refuses_broken_messages(data: bytes, code: int) -> None:
    """Broken messages raise ProtocolError: 1007 for bad UTF-8, 1009 too big, 1002 otherwise."""
    with pytest.raises(ProtocolError) as raised:
        events_of(data, max_size=150)
    assert raised.value.code == code


def test_invalid_utf8_is_caught_in_the_first_fragment() -> None:
    """Text is checked as it arrives: a bad first fragment fails before the message ends."""
    reader = MessageReader()
    reader.feed(client_frame(0x1, b"\xff", fin=False))
    with pytest.raises(ProtocolError):
        reader.next_event()


@pytest.mark.parametrize(
    ("code", "reason", "payload"),
    [
        (1000, "", b"\x03\xe8"),
        (4000, "bye", b"\x0f\xa0bye"),
        (1005, "", b""),
    ],
)
def test_close_payload_round_trip(code: int, reason: str, payload: bytes) -> None:
    """A close payload is a 2-byte code and a UTF-8 reason; 1005 (no status) is empty."""
    assert (encode_close_payload(code, reason), decode_close_payload(payload)) == (
        payload,
        (code, reason),
    )


@pytest.mark.parametrize("code", [999, 1004, 1006, 1015, 2000, 5000])
def test_reserved_close_codes_cannot_be_sent(code: int) -> None:
    """Codes reserved by RFC 6455 (or out of range) are a ValueError to send."""
    with pytest.raises(ValueError):
        encode_close_payload(code)


def test_close_reason_longer_than_a_control_frame_is_refused() -> None:
    """A close reason over 123 bytes cannot fit a control frame: ValueError."""
    with pytest.raises(ValueError):
        encode_close_payload(1000, "x" * 124)

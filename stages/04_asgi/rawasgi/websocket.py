"""WebSocket framing (RFC 6455) with no I/O: handshake key, frames, messages, close codes.

A WebSocket starts life as an HTTP/1.1 request with ``Upgrade: websocket``.
The server answers ``101 Switching Protocols`` with a ``Sec-WebSocket-Accept``
header that proves it understood the handshake, and from then on both sides
exchange *frames* on the same TCP connection::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    | |1|2|3|       |K|             |                               |
    +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    |     Extended payload length continued, if payload len == 127  |
    + - - - - - - - - - - - - - - - +-------------------------------+
    |                               |Masking-key, if MASK set to 1  |
    +-------------------------------+-------------------------------+
    | Masking-key (continued)       |          Payload Data         |
    +-------------------------------- - - - - - - - - - - - - - - - +

Everything here works on bytes in and bytes (or events) out, like stage 01's
HTTP parser: the server in ``server.py`` does the reading and writing, and the
tests can check every rule with plain byte strings.

Reading order: ``accept_key`` (the handshake), ``encode_frame`` and
``decode_frame`` (one frame), then ``MessageReader`` (frames -> messages:
fragmentation, UTF-8, control frames, close codes).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import struct
from dataclasses import dataclass
from enum import IntEnum

#: The fixed GUID that RFC 6455 section 1.3 appends to the client's key.
HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: The only protocol version RFC 6455 defines (``Sec-WebSocket-Version``).
WEBSOCKET_VERSION = "13"

#: The largest payload a control frame (close, ping, pong) may carry.
MAX_CONTROL_PAYLOAD = 125

#: The default limit on one message (uvicorn and websockets use the same).
DEFAULT_MAX_SIZE = 16 * 1024 * 1024


class Opcode(IntEnum):
    """What a frame carries (RFC 6455 section 5.2)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


# PERF: membership in a frozenset of ints is cheaper than Opcode(value) + except.
_OPCODES = frozenset(int(opcode) for opcode in Opcode)


class CloseCode(IntEnum):
    """Why a WebSocket was closed (RFC 6455 section 7.4.1)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005  # never sent on the wire: "the close frame had no code"
    ABNORMAL = 1006  # never sent on the wire: "the TCP connection just dropped"
    INVALID_DATA = 1007  # e.g. a text message that is not UTF-8
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011


def is_valid_close_code(code: int) -> bool:
    """Return whether ``code`` may appear in a close frame on the wire.

    1000-1003 and 1007-1014 are defined by RFC 6455 and the IANA registry;
    3000-3999 are for libraries and frameworks, 4000-4999 for applications.
    1004, 1005, 1006 and 1015 are reserved and must never be sent.
    """
    return code in (1000, 1001, 1002, 1003) or 1007 <= code <= 1014 or 3000 <= code <= 4999


class ProtocolError(Exception):
    """The peer broke RFC 6455: close the connection with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


# ── The handshake ────────────────────────────────────────────────────────────


def accept_key(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value for a client's ``Sec-WebSocket-Key``.

    RFC 6455 section 1.3's own example:
    ``accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="``.
    """
    digest = hashlib.sha1((key + HANDSHAKE_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def is_valid_client_key(key: str | None) -> bool:
    """Return whether ``key`` is base64 for 16 bytes, as RFC 6455 section 4.1 requires.

    The parser has already removed the optional whitespace (SP, HTAB) around
    a field value; anything else, "\xa0" included, makes the key invalid.
    """
    if key is None:
        return False
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


# ── One frame ────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame: its opcode, its (unmasked) payload, and whether it ends a message."""

    opcode: Opcode
    payload: bytes
    fin: bool = True


def mask_payload(payload: bytes, mask: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``mask`` repeated; masking twice unmasks.

    >>> mask_payload(b"Hello", b"\\x37\\xfa\\x21\\x3d")
    b'\\x7f\\x9fMQX'
    """
    size = len(payload)
    if size == 0:
        return b""
    # PERF: one big-integer XOR is far faster than a Python loop over bytes.
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


def encode_frame(
    opcode: Opcode, payload: bytes, *, fin: bool = True, mask: bytes | None = None
) -> bytes:
    """Return the bytes of one frame; pass a 4-byte ``mask`` to frame as a client.

    Servers send unmasked frames; clients must mask every frame
    (RFC 6455 section 5.1). ``encode_frame(Opcode.TEXT, b"Hi")`` is
    ``b"\\x81\\x02Hi"``: FIN + text, no mask, length 2, the payload.
    """
    first = (0x80 if fin else 0x00) | opcode
    mask_bit = 0x80 if mask is not None else 0x00
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", first, mask_bit | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if mask is None:
        return head + payload
    if len(mask) != 4:
        raise ValueError(f"a frame mask is 4 bytes, got {len(mask)}")
    return head + mask + mask_payload(payload, mask)


def decode_frame(
    buffer: bytes | bytearray, *, max_size: int = DEFAULT_MAX_SIZE, require_mask: bool = True
) -> tuple[Frame, int] | None:
    """Decode the frame at the start of ``buffer``: ``(frame, bytes used)``, or None.

    None means the frame is not complete yet: read more and call again.
    A frame that breaks RFC 6455 raises ``ProtocolError`` with the close code
    to answer with: 1002 for a malformed or unmasked frame, 1009 for a payload
    larger than ``max_size``. ``b"\\x81\\x82" + mask + masked(b"Hi")`` decodes to
    ``(Frame(Opcode.TEXT, b"Hi", fin=True), 8)``.
    """
    # EXERCISE 4.4: Decode one WebSocket frame
    if len(buffer) < 2:
        return None
    first, second = buffer[0], buffer[1]
    fin = bool(first & 0x80)
    if first & 0x70:
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, "reserved bits set without an extension")
    opcode = first & 0x0F
    if opcode not in _OPCODES:
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
    masked = bool(second & 0x80)
    if require_mask and not masked:
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, "client frames must be masked")
    size = second & 0x7F
    offset = 2
    if opcode >= Opcode.CLOSE and (not fin or size > MAX_CONTROL_PAYLOAD):
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, "control frames must be whole and short")
    if size == 126:
        if len(buffer) < 4:
            return None
        (size,) = struct.unpack_from("!H", buffer, 2)
        offset = 4
    elif size == 127:
        if len(buffer) < 10:
            return None
        (size,) = struct.unpack_from("!Q", buffer, 2)
        if size >> 63:
            raise ProtocolError(CloseCode.PROTOCOL_ERROR, "the top bit of a 64-bit length is 0")
        offset = 10
    if size > max_size:
        raise ProtocolError(CloseCode.MESSAGE_TOO_BIG, f"frame of {size} bytes is over {max_size}")
    mask = b""
    if masked:
        if len(buffer) < offset + 4:
            return None
        mask = bytes(buffer[offset : offset + 4])
        offset += 4
    end = offset + size
    if len(buffer) < end:
        return None
    payload = bytes(buffer[offset:end])
    if masked:
        payload = mask_payload(payload, mask)
    return Frame(Opcode(opcode), payload, fin), end
    # END EXERCISE


# ── Close frames ─────────────────────────────────────────────────────────────


def encode_close_payload(code: int = CloseCode.NORMAL, reason: str = "") -> bytes:
    """Return a close frame's payload: a 2-byte code and a UTF-8 reason.

    ``code=1005`` (no status) gives an empty payload, as RFC 6455 section
    7.1.5 asks. A reason longer than a control frame allows is a ValueError.
    """
    if code == CloseCode.NO_STATUS:
        return b""
    if not is_valid_close_code(code):
        raise ValueError(f"{code} may not be sent in a close frame")
    payload = struct.pack("!H", code) + reason.encode("utf-8")
    if len(payload) > MAX_CONTROL_PAYLOAD:
        raise ValueError(f"close reason is {len(payload) - 2} bytes; at most 123 fit")
    return payload


def decode_close_payload(payload: bytes) -> tuple[int, str]:
    """Return ``(code, reason)`` from a close frame's payload, or raise ProtocolError.

    An empty payload means 1005 (no status). One byte, a reserved code, or a
    reason that is not UTF-8 is a protocol error (1002, or 1007 for UTF-8).
    """
    if not payload:
        return CloseCode.NO_STATUS, ""
    if len(payload) == 1:
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, "a close payload needs a 2-byte code")
    (code,) = struct.unpack_from("!H", payload)
    if not is_valid_close_code(code):
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(CloseCode.INVALID_DATA, "close reason is not UTF-8") from None
    return code, reason


# ── Frames -> messages ───────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A whole text message, decoded from UTF-8."""

    text: str


@dataclass(frozen=True, slots=True)
class BinaryMessage:
    """A whole binary message."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """A ping: the other side expects a pong with the same payload."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """A pong, the answer to a ping (or an unsolicited heartbeat)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """The peer started (or answered) the closing handshake."""

    code: int
    reason: str


Event = TextMessage | BinaryMessage | Ping | Pong | Close


class MessageReader:
    """Turn bytes from the peer into whole messages and control frames.

    Feed bytes with ``feed``; call ``next_event`` until it returns None
    (meaning "need more bytes"). It reassembles fragmented messages,
    checks that text is UTF-8 as it arrives (so a bad byte is caught in the
    first fragment, not after the last), and enforces ``max_size`` on the
    whole message. Control frames may arrive between the fragments of a
    message (RFC 6455 section 5.4) and are returned at once.
    """

    def __init__(self, *, max_size: int = DEFAULT_MAX_SIZE, require_mask: bool = True) -> None:
        if max_size < MAX_CONTROL_PAYLOAD:
            raise ValueError(f"max_size must be at least {MAX_CONTROL_PAYLOAD}, got {max_size}")
        self.max_size = max_size
        self.require_mask = require_mask
        self._buffer = bytearray()
        self._message_opcode: Opcode | None = None  # set while a fragmented message is open
        self._text_parts: list[str] = []
        self._binary_parts: list[bytes] = []
        self._message_size = 0
        self._text_decoder: codecs.IncrementalDecoder | None = None

    def feed(self, data: bytes) -> None:
        """Append bytes received from the peer."""
        self._buffer += data

    def next_event(self) -> Event | None:
        """Return the next message or control frame, or None if more bytes are needed."""
        while True:
            decoded = decode_frame(
                self._buffer, max_size=self.max_size, require_mask=self.require_mask
            )
            if decoded is None:
                return None
            frame, used = decoded
            del self._buffer[:used]
            event = self._handle_frame(frame)
            if event is not None:
                return event

    def _handle_frame(self, frame: Frame) -> Event | None:
        """Return the event a frame completes, or None if it is a middle fragment."""
        opcode = frame.opcode
        if opcode == Opcode.PING:
            return Ping(frame.payload)
        if opcode == Opcode.PONG:
            return Pong(frame.payload)
        if opcode == Opcode.CLOSE:
            return Close(*decode_close_payload(frame.payload))
        if opcode == Opcode.CONTINUATION:
            if self._message_opcode is None:
                raise ProtocolError(CloseCode.PROTOCOL_ERROR, "continuation frame with no message")
        elif self._message_opcode is not None:
            raise ProtocolError(CloseCode.PROTOCOL_ERROR, "new message inside a fragmented one")
        else:
            self._start_message(opcode)
        return self._add_fragment(frame.payload, frame.fin)

    def _start_message(self, opcode: Opcode) -> None:
        """Begin collecting a text or binary message."""
        self._message_opcode = opcode
        self._text_parts = []
        self._binary_parts = []
        self._message_size = 0
        if opcode == Opcode.TEXT:
            self._text_decoder = codecs.getincrementaldecoder("utf-8")()

    def _add_fragment(self, payload: bytes, fin: bool) -> Event | None:
        """Add one fragment; return the message when ``fin`` completes it."""
        self._message_size += len(payload)
        if self._message_size > self.max_size:
            raise ProtocolError(CloseCode.MESSAGE_TOO_BIG, f"message of over {self.max_size} bytes")
        if self._text_decoder is not None:
            try:
                self._text_parts.append(self._text_decoder.decode(payload, final=fin))
            except UnicodeDecodeError:
                raise ProtocolError(CloseCode.INVALID_DATA, "text message is not UTF-8") from None
        else:
            self._binary_parts.append(payload)
        if not fin:
            return None
        message: Event
        if self._text_decoder is not None:
            message = TextMessage("".join(self._text_parts))
        else:
            message = BinaryMessage(b"".join(self._binary_parts))
        self._message_opcode = None
        self._text_decoder = None
        self._text_parts = []
        self._binary_parts = []
        return message

"""Multipart parsing speed, in process: bare_forms' hand-written parser beside python-multipart.

Both parsers are sans-IO: each is fed the same ``multipart/form-data`` body
(a few text fields and one 4 MiB file part) in 64 KiB pieces, as a server
would deliver it, and each event handler only counts bytes, so the time is
the parser's own. The loops are timed in CPU seconds of this process
(``process_time``), and the best of ``repeat`` loops is kept, so a busy
machine changes the figure little. python-multipart is a tuned pure-Python
parser; the goal asks the teaching parser for at least half its speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from workbook.bench.results import MultipartResult, MultipartTarget

BOUNDARY = "----WireUpBenchBoundary7MA4YWxkTrZu0gW"
CHUNK = 64 * 1024
FILE_SIZE = 4 * 1024 * 1024


def body() -> bytes:
    """Return the benchmark body: three fields and one 4 MiB file of mixed bytes."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="field{index}"\r\n\r\n'
        f"value {index}\r\n".encode()
        for index in range(3)
    ]
    content = (bytes(range(256)) + b"\r\n--" + b"-" * 30) * (FILE_SIZE // 290 + 1)
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="data.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content[:FILE_SIZE]
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def ours(data: bytes) -> int:
    """Parse ``data`` with bare_forms.MultipartParser; return the content bytes seen."""
    from bare_forms import FormLimits, MultipartParser, PartData

    parser = MultipartParser(
        BOUNDARY.encode(), FormLimits(max_part_size=len(data), max_size=len(data))
    )
    seen = 0
    for start in range(0, len(data), CHUNK):
        for event in parser.feed(data[start : start + CHUNK]):
            if type(event) is PartData:
                seen += len(event.data)
    parser.close()
    return seen


def theirs(data: bytes) -> int:
    """Parse ``data`` with python-multipart's MultipartParser; return the content bytes seen."""
    from python_multipart.multipart import MultipartParser

    seen = 0

    def on_part_data(chunk: bytes, start: int, end: int) -> None:
        nonlocal seen
        seen += end - start

    parser = MultipartParser(BOUNDARY, {"on_part_data": on_part_data})
    for start in range(0, len(data), CHUNK):
        parser.write(data[start : start + CHUNK])
    parser.finalize()
    return seen


#: Parses per timed loop: one parse of 4 MiB takes a few ms, too short to time alone.
PARSES_PER_LOOP = 10


def best_seconds(parse: Callable[[bytes], int], data: bytes, repeat: int) -> tuple[float, int]:
    """Return the best CPU time per parse of ``data`` over ``repeat`` loops, and the bytes seen."""
    times, seen = [], 0
    for _ in range(repeat):
        started = time.process_time()
        for _ in range(PARSES_PER_LOOP):
            seen = parse(data)
        times.append((time.process_time() - started) / PARSES_PER_LOOP)
    return min(times), seen


def measure(repeat: int = 5) -> MultipartResult:
    """Return MB/s of both parsers on the same body (MB = 10**6 bytes of body)."""
    from workbook.stages import activate

    activate("05_bare")
    data = body()
    result = MultipartResult(body_bytes=len(data), chunk_bytes=CHUNK)
    expected = None
    for key, label, parse in (
        ("bare_forms", "bare_forms (stage 05, by hand)", ours),
        ("python-multipart", "python-multipart", theirs),
    ):
        try:
            seconds, seen = best_seconds(parse, data, repeat)
        except Exception as error:  # a broken stage is reported, not fatal
            result.targets[key] = MultipartTarget(label, error=f"{type(error).__name__}: {error}")
            continue
        if expected is not None and seen != expected:
            result.targets[key] = MultipartTarget(
                label, error=f"saw {seen} content bytes, expected {expected}"
            )
            continue
        expected = seen
        result.targets[key] = MultipartTarget(
            label, mb_per_s=len(data) / seconds / 1e6, seconds=seconds
        )
    return result

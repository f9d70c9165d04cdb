"""A small keep-alive HTTP/1.1 load client, for machines without wrk.

``python -m workbook.bench.pyload URL --connections 8 --duration 0.5 [--path P ...]``
prints one line, ``WRK_JSON {...}``, in the same shape as ``wrk/report.lua``,
so the harness reads both clients alike.

It is written on asyncio streams: each connection sends a request, reads the
whole response (Content-Length, chunked, or up to close for HTTP/1.0), and
sends the next one on the same connection unless the server said it would
close. Being Python, it saturates long before wrk does and measures the
client as much as the server: ``make bench-quick`` uses it to check that the
harness works, never to rank frameworks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HEADER_LIMIT = 64 * 1024
RESPONSE_TIMEOUT = 5.0


@dataclass
class Tally:
    """What every connection adds to while the run lasts."""

    latencies: list[float] = field(default_factory=list)
    bytes: int = 0
    errors: dict[str, int] = field(
        default_factory=lambda: {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0}
    )


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, int]:
    """Read one response; return its status, whether the connection stays open, its size."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status, *_ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
    size = len(head)
    if "content-length" in headers:
        size += len(await reader.readexactly(int(headers["content-length"])))
    elif headers.get("transfer-encoding") == "chunked":
        size += await read_chunks(reader)
    else:
        size += len(await reader.read())  # no length: the body ends when the server closes
        return int(status), False, size
    connection = headers.get("connection", "")
    keep_alive = connection == "keep-alive" if version == "HTTP/1.0" else connection != "close"
    return int(status), keep_alive, size


async def read_chunks(reader: asyncio.StreamReader) -> int:
    """Read a chunked body to its last chunk and trailers; return its size on the wire."""
    size = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        length = int(line.split(b";")[0], 16)
        size += len(line) + length + 2
        await reader.readexactly(length + 2)
        if length == 0:
            return size


async def connection(
    host: str, port: int, requests: list[bytes], deadline: float, tally: Tally
) -> None:
    """Send requests on one connection (reopened if the server closes it) until the deadline."""
    count = 0
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    # At least one request per connection, however late it starts: a loaded
    # machine may take the whole of a very short run just to start this process.
    while count == 0 or time.perf_counter() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(host, port, limit=HEADER_LIMIT)
            except OSError:
                tally.errors["connect"] += 1
                count += 1
                await asyncio.sleep(0.01)
                continue
        request = requests[count % len(requests)]
        count += 1
        started = time.perf_counter()
        try:
            writer.write(request)
            await writer.drain()
        except OSError:
            tally.errors["write"] += 1
            await closed(writer)
            writer = None
            continue
        assert reader is not None  # opened with the writer
        try:
            status, keep_alive, size = await asyncio.wait_for(
                read_response(reader), RESPONSE_TIMEOUT
            )
        except TimeoutError:
            tally.errors["timeout"] += 1
            await closed(writer)
            writer = None
            continue
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            tally.errors["read"] += 1
            await closed(writer)
            writer = None
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.bytes += size
        if status >= 400:
            tally.errors["status"] += 1
        if not keep_alive:
            await closed(writer)
            writer = None
    if writer is not None:
        await closed(writer)


async def closed(writer: asyncio.StreamWriter) -> None:
    """Close a connection, ignoring a peer that already went away."""
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return None


def percentile(ordered: list[float], share: float) -> float:
    """Return the value below which ``share`` percent of ``ordered`` falls."""
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, round(share / 100 * (len(ordered) - 1)))
    return ordered[index]


def summary(tally: Tally, seconds: float) -> dict[str, object]:
    """Return the run in ``wrk/report.lua``'s shape (microseconds)."""
    ordered = sorted(tally.latencies)
    micro = [value * 1e6 for value in ordered]
    mean = sum(micro) / len(micro) if micro else 0.0
    latency = {"mean": round(mean, 1)}
    for share in (50, 75, 90, 99, 99.9):
        latency[f"p{share:g}"] = round(percentile(micro, share))
    latency["max"] = round(micro[-1]) if micro else 0
    return {
        "requests": len(ordered),
        "duration_us": round(seconds * 1e6),
        "bytes": tally.bytes,
        "errors": tally.errors,
        "latency_us": latency,
    }


async def run(url: str, connections: int, duration: float, paths: list[str]) -> dict[str, object]:
    """Load ``url`` (or its host with each of ``paths`` in turn) for ``duration`` seconds."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    targets = paths or [parts.path or "/"]
    requests = [f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() for path in targets]
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(
        *(connection(host, port, requests, deadline, tally) for _ in range(connections))
    )
    return summary(tally, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbook.bench.pyload", description=__doc__.split("\n")[0]
    )
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds")
    parser.add_argument("--path", action="append", default=[], help="paths to send in turn")
    options = parser.parse_args(argv)
    result = asyncio.run(run(options.url, options.connections, options.duration, options.path))
    print("WRK_JSON " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

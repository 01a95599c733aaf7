"""Closed- and open-loop HTTP/1.1 load generators in plain asyncio, for machines without wrk.

Input: host, port, the request paths, extra headers, connections and seconds (and, open loop, the
offered rate). Output: each request's latency (seconds) and the count of non-200 answers. Every
connection is kept alive and sends one prebuilt request at a time (each connection cycles through
the paths); an answer is read as its head and then exactly Content-Length bytes. No HTTP library
in the loop: httpx spends several hundred µs of the same two cores per request, which the server
then waits for; this client spends a few tens, so the figures are the server's, as wrk's are.
"""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple


def _request(host: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError("an answer without Content-Length (this client reads no chunked bodies)")


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    offset: int,
    until: float,
    timings: list[float],
    failures: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = offset
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            await _exchange(reader, writer, requests[i % len(requests)], failures)
            timings.append(time.perf_counter() - started)
            i += 1
    finally:
        writer.close()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, failures: list[int]
) -> None:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(_content_length(head))
    if not head.startswith(b"HTTP/1.1 200 "):
        failures.append(int(head[9:12]))


class OpenLoopResult(NamedTuple):
    """Latency from each request's scheduled send time (so a late send counts against the
    figure, no coordinated omission), the part of it the client was late in sending (its own
    scheduling, not the server's), and the non-200 statuses."""

    timings: list[float]
    send_lag: list[float]
    failures: list[int]


async def _paced_connection(
    stream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    requests: list[bytes],
    offset: int,
    schedule: list[float],
    result: OpenLoopResult,
) -> None:
    reader, writer = stream
    try:
        for k, due in enumerate(schedule):
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            sent = time.perf_counter()
            await _exchange(reader, writer, requests[(offset + k) % len(requests)], result.failures)
            result.timings.append(time.perf_counter() - due)
            result.send_lag.append(max(0.0, sent - due))
    finally:
        writer.close()


async def closed_loop(
    host: str,
    port: int,
    paths: list[str],
    headers: dict[str, str],
    connections: int,
    seconds: float,
) -> tuple[list[float], list[int]]:
    """`connections` clients, each firing again as soon as its answer is in, for `seconds`."""
    requests = [_request(f"{host}:{port}", path, headers) for path in paths]
    timings: list[float] = []
    failures: list[int] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(
            _connection(host, port, requests, c * 7, until, timings, failures)
            for c in range(connections)
        )
    )
    return timings, failures


async def open_loop(
    host: str,
    port: int,
    paths: list[str],
    headers: dict[str, str],
    connections: int,
    seconds: float,
    rate: float,
) -> OpenLoopResult:
    """`connections` clients offering `rate` requests/s in all for `seconds`: connection c sends
    at start + (c + k * connections) / rate, evenly interleaved, whether or not the server kept
    up (a connection still waiting for its last answer sends the next one when that arrives, and
    the wait counts in the latency)."""
    requests = [_request(f"{host}:{port}", path, headers) for path in paths]
    result = OpenLoopResult([], [], [])
    per_connection = max(1, round(seconds * rate / connections))
    streams = await asyncio.gather(
        *(asyncio.open_connection(host, port) for _ in range(connections))
    )
    start = time.perf_counter() + 0.01
    schedules = [
        [start + (c + k * connections) / rate for k in range(per_connection)]
        for c in range(connections)
    ]
    await asyncio.gather(
        *(
            _paced_connection(stream, requests, c * 7, schedule, result)
            for c, (stream, schedule) in enumerate(zip(streams, schedules, strict=True))
        )
    )
    return result

"""A closed-loop HTTP/1.1 load generator in plain asyncio, for machines without wrk.

Input: host, port, the request paths, extra headers, connections and seconds. Output: each
request's latency (seconds) and the count of non-200 answers. Every connection is kept alive
and sends one prebuilt request at a time (each connection cycles through the paths); an answer
is read as its head and then exactly Content-Length bytes. No HTTP library in the loop: httpx
spends several hundred µs of the same two cores per request, which the server then waits for;
this client spends a few tens, so the figures are the server's, as wrk's are.
"""

from __future__ import annotations

import asyncio
import time


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
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(_content_length(head))
            timings.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200 "):
                failures.append(int(head[9:12]))
            i += 1
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

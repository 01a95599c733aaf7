"""Benchmark: the server's own CPU per cached read, in process (the ASGI app, no socket).

Usage: python bench/bench_read_path.py [--tenants 1000] [--requests 20000] [--profile N]
Builds the same scratch workspace as bench_api.py (N compiled tenants, an admin token), starts
the app's lifespan, then calls the whole middleware stack and route (request context, access
control, rate limit, metrics, guard, answer cache) with a real token, for the tenant list and
200 tenants' details, once warm. Reports µs per request (p50/p99) for each, and with --profile N
the N costliest functions under cProfile. What uvicorn and llhttp add on top is bench_api.py's
`server_cpu_us_per_request` (wrk against the real server); this is the part the app owns.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import TOKEN, make_workspace
from machine import load_average, machine, pick

from compiler.service.app import create_app
from compiler.settings import Settings

HEADERS = [
    (b"host", b"127.0.0.1"),
    (b"user-agent", b"bench"),
    (b"authorization", f"Bearer {TOKEN}".encode()),
    (b"x-demo-mode", b"false"),
]
ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope_of(path: str) -> dict[str, Any]:
    """What uvicorn's httptools protocol hands the app for `GET path` (keys and types alike)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8001),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": list(HEADERS),
        "state": {},
    }


async def one(app: ASGI, path: str) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope_of(path), receive, send)
    return status


async def run(app: ASGI, paths: list[str], requests: int) -> list[float]:
    """Wall-clock seconds per request (the last item: CPU seconds of the whole run, which
    other processes' load does not inflate the way it inflates the wall clock)."""
    samples: list[float] = []
    cpu = time.process_time()
    for i in range(requests):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        status = await one(app, path)
        samples.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
    samples.append(time.process_time() - cpu)
    return samples


def summary(timed: list[float]) -> dict[str, float]:
    samples, cpu = timed[:-1], timed[-1]
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "cpu_us_per_request": round(cpu / len(ordered) * 1e6, 1),
        "p10_us": round(pick(ordered, 0.1) * 1e6, 1),
        "p50_us": round(pick(ordered, 0.5) * 1e6, 1),
        "p99_us": round(pick(ordered, 0.99) * 1e6, 1),
        "mean_us": round(sum(ordered) / len(ordered) * 1e6, 1),
    }


async def measure(app: ASGI, lists: list[str], details: list[str], args: Any) -> dict[str, Any]:
    await run(app, lists + details, 2000)  # warm: every answer built and cached once
    report: dict[str, Any] = {
        "list_100_per_page": summary(await run(app, lists, args.requests)),
        "detail_200_tenants": summary(await run(app, details, args.requests)),
    }
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await run(app, lists + details, args.requests)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile)
        print(out.getvalue(), file=sys.stderr)
    return report


async def with_lifespan(app: Any, body: Callable[[], Awaitable[dict[str, Any]]]) -> Any:
    async with app.router.lifespan_context(app):
        return await body()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    args = parser.parse_args()
    at_start = machine()
    root = make_workspace(args.tenants)
    try:
        app = create_app(Settings.load(root))
        rng = random.Random(7)
        details = [f"/api/v1/tenants/bench-{rng.randrange(args.tenants):05d}" for _ in range(200)]
        report = asyncio.run(
            with_lifespan(app, lambda: measure(app, ["/api/v1/tenants/"], details, args))
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        json.dumps({"machine": at_start, **report, "load_average_at_end": load_average()}, indent=2)
    )


if __name__ == "__main__":
    main()

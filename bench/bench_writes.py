"""Benchmark: concurrent writes (group commit) and the reads served meanwhile, on a real server.

Usage: python bench/bench_writes.py [--tenants 1000] [--writers 50] [--writes 20] [--rate 40]
       python bench/bench_writes.py --tenants 10000 --writers 0 --creates 100  (scaling figures)
Takes a compiled, published N-tenant git workspace (bench_workspace: output/ committed, a deploy
repo with a bare remote and Argo CD/Flux files; built once and cached, so reruns are quick),
starts `ecp serve` (real uvicorn, real git), then: `--writers` clients each PUT `--writes`
updates to random tenants back to back (closed loop), while readers GET tenant details at
`--rate` requests/s (open loop); then `--creates` creates one after another (create ->
published latency; the first is the first write after start) and the server's RSS after them.
The report names the machine and its load average before and after: the figures are only as
quiet as the machine was.
Targets (issue 10): >= 30 writes/s, write p99 <= 2 s, read p99 <= 25 ms during the writes;
create -> published p50 <= 300 ms and p99 <= 1 s at 10,000 tenants, RSS <= 300 MB after 100.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import time
from pathlib import Path

import httpx
from bench_api import HEADERS, free_port, percentiles, start_server
from bench_workspace import workspace

KEEPALIVE_S = 2.0


def cpu_s(pid: int) -> float:
    """CPU seconds used by the server and its children (the compile worker and what it forked,
    every git it ran): a cost per write that contention on the machine does not inflate."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for proc in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile (its time is in its parent's cutime once waited for)
        utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
        total += (utime + stime + cutime + cstime) / tick
    return total


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def writer(
    client: httpx.AsyncClient, ids: list[str], writes: int, rng: random.Random, out: list[float]
) -> None:
    for _ in range(writes):
        tenant_id = rng.choice(ids)
        body = {"service_requirements": {"chatbot": rng.randint(1, 60)}}
        started = time.perf_counter()
        answer = await client.put(f"/tenants/{tenant_id}", json=body)
        out.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:300]


async def reader(
    client: httpx.AsyncClient, ids: list[str], rate: float, stop: asyncio.Event, out: list[float]
) -> None:
    rng = random.Random(11)
    while not stop.is_set():
        started = time.perf_counter()
        answer = await client.get(f"/tenants/{rng.choice(ids)}")
        elapsed = time.perf_counter() - started
        out.append(elapsed)
        assert answer.status_code == 200, answer.text[:300]
        await asyncio.sleep(max(0.0, 1 / rate - elapsed))


async def write_load(api: str, ids: list[str], args: argparse.Namespace) -> dict[str, object]:
    writes: list[float] = []
    reads: list[float] = []
    stop = asyncio.Event()
    # The server closes keep-alive connections idle for 5 s; a client that keeps them longer
    # races that close (a request sent on a connection being closed fails with ReadError).
    limits = httpx.Limits(max_connections=args.writers + 4, keepalive_expiry=KEEPALIVE_S)
    read_limits = httpx.Limits(keepalive_expiry=KEEPALIVE_S)
    async with (
        httpx.AsyncClient(base_url=api, headers=HEADERS, timeout=120, limits=limits) as client,
        httpx.AsyncClient(
            base_url=api, headers=HEADERS, timeout=60, limits=read_limits
        ) as read_client,
    ):
        readers = asyncio.ensure_future(reader(read_client, ids, args.rate, stop, reads))
        started = time.perf_counter()
        await asyncio.gather(
            *(
                writer(client, ids, args.writes, random.Random(n), writes)
                for n in range(args.writers)
            )
        )
        elapsed = time.perf_counter() - started
        stop.set()
        await readers
    return {
        "writes": len(writes),
        "seconds": round(elapsed, 2),
        "writes_per_s": round(len(writes) / elapsed, 1),
        "write_latency": percentiles(writes),
        "read_latency_during_writes": percentiles(reads),
    }


def creates(api: str, count: int, pid: int) -> dict[str, object]:
    published: list[float] = []
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_S)
    with httpx.Client(base_url=api, headers=HEADERS, timeout=120, limits=limits) as client:
        for i in range(count):
            body = {
                "tenant_id": f"new-{i:04d}",
                "name": "new",
                "service_requirements": {"chatbot": 8},
            }
            started = time.perf_counter()
            answer = client.post("/tenants/", json=body)
            published.append(time.perf_counter() - started)
            assert answer.status_code == 201, answer.text[:300]
            assert answer.json().get("deployment_id"), answer.text[:300]  # published
    return {
        "first_create_after_start_ms": round(published[0] * 1000, 1) if published else None,
        "create_to_published": percentiles(published),
        "rss_mib_after": rss_mib(pid),
        "compile_worker_rss_mib_after": [rss_mib(child) for child in children(pid)],
    }


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--rate", type=float, default=40.0, help="reads/s during the writes")
    parser.add_argument("--creates", type=int, default=20)
    args = parser.parse_args()
    root = workspace(args.tenants)
    report: dict[str, object] = {"machine": machine(), "tenants": args.tenants}
    port = free_port()
    started = time.perf_counter()
    server = start_server(root, port)
    report["server_start_s"] = round(time.perf_counter() - started, 2)
    api = f"http://127.0.0.1:{port}/api/v1"
    ids = [f"bench-{i:05d}" for i in range(args.tenants)]
    try:
        report["rss_mib_at_start"] = rss_mib(server.pid)
        if args.writers:
            cpu_before = cpu_s(server.pid)
            load = asyncio.run(write_load(api, ids, args))
            spent = cpu_s(server.pid) - cpu_before
            load["server_cpu_ms_per_write"] = round(
                spent * 1000 / max(1, args.writers * args.writes), 1
            )
            report["concurrent_writes"] = load
        if args.creates:
            report["creates"] = creates(api, args.creates, server.pid)
        report["load_average_after"] = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=60)
        print(json.dumps(report, indent=2), flush=True)  # before the (slow) cleanup
        shutil.rmtree(root, ignore_errors=True)


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "load_average_before": os.getloadavg(),
    }


if __name__ == "__main__":
    main()

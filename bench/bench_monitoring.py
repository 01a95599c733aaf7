"""Monitoring bench: ingest throughput and 24 h / 5 m query latency over 1,000 tenants.

Usage: .venv/bin/python bench/bench_monitoring.py [--tenants 1000] [--queries 500] [--keep DIR]

1. Service ingest: a day of 1-per-minute samples (all nine metrics) for every tenant, through
   MonitoringSpace.store_samples (alert evaluation + SQLite + gauges) = 1.44 M rows at 1,000.
2. HTTP ingest: batches of 5,000 samples POSTed to a real uvicorn server in a second process.
3. Query latency: random tenants, GET-equivalent 24 h / 5 m over all metrics, in process and
   over HTTP against the same server. Targets: >= 20,000 samples/s; query p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from compiler.alerting import METRIC_NAMES  # noqa: E402
from compiler.monitoring import MonitoringQuery, MonitoringService  # noqa: E402
from compiler.monitoring.demo import demo_samples  # noqa: E402
from compiler.settings import Settings  # noqa: E402

SPEC = "tenant_id: {0}\nname: {0}\nservice_requirements:\n  chatbot: 10\n"
SERVER = """
import sys, uvicorn
from pathlib import Path
from compiler.settings import Settings
from compiler.service.app import create_app
uvicorn.run(create_app(Settings.load(Path(sys.argv[1]))), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning")
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def make_workspace(root: Path, tenants: int) -> list[str]:
    shutil.copytree(REPO / "presets", root / "presets")
    (root / "tenants").mkdir()
    ids = [f"tenant-{i:04d}" for i in range(tenants)]
    for tenant_id in ids:
        (root / "tenants" / f"{tenant_id}.yaml").write_text(SPEC.format(tenant_id), "utf-8")
    return ids


def bench_service_ingest(service: MonitoringService, ids: list[str], now_ms: int) -> float:
    space = service.space(False)
    # Generated up front so the timing is the store's, not the generator's.
    day = {t: demo_samples(t, now_ms - 24 * 3_600_000 + 60_000, now_ms) for t in ids}
    total = sum(len(s) for s in day.values())
    started = time.perf_counter()
    for tenant_id, samples in day.items():
        space.store_samples(tenant_id, samples)
    elapsed = time.perf_counter() - started
    print(
        f"service ingest: {total:,} samples in {elapsed:.1f} s = {total / elapsed:,.0f}/s "
        f"(batches of {len(next(iter(day.values())))}, alerts evaluated)"
    )
    return total / elapsed


def bench_query(service: MonitoringService, ids: list[str], queries: int) -> None:
    space = service.space(False)
    query = MonitoringQuery(hours=24, interval="5m")
    rng = random.Random(7)
    timings = []
    points = 0
    for _ in range(queries):
        tenant_id = rng.choice(ids)
        started = time.perf_counter()
        answer = space.query(tenant_id, query)
        timings.append((time.perf_counter() - started) * 1000)
        points = len(answer["metrics"]["cpu"])
    print(
        f"in-process query 24h/5m, all 9 metrics ({points} buckets each): "
        f"p50 {percentile(timings, 0.5):.2f} ms, p99 {percentile(timings, 0.99):.2f} ms"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(root), str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def bench_http(port: int, ids: list[str], queries: int, now_ms: int) -> None:
    base = f"http://127.0.0.1:{port}"
    headers = {"X-Demo-Mode": "false"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        batches = 20
        total = 0
        started = time.perf_counter()
        for b in range(batches):
            tenant_id = ids[b % len(ids)]
            samples = demo_samples(tenant_id, now_ms - 5000 * 60_000, now_ms - 1)[-5000:]
            body = [
                {
                    "timestamp": s.ts_ms / 1000,
                    "metrics": dict(zip(METRIC_NAMES, s.values, strict=True)),
                }
                for s in samples
            ]
            response = client.post(f"/api/v1/tenants/{tenant_id}/monitoring", json=body)
            response.raise_for_status()
            total += response.json()["accepted"]
        elapsed = time.perf_counter() - started
        print(
            f"HTTP ingest: {total:,} samples in {batches} POSTs of 5,000, {elapsed:.1f} s = "
            f"{total / elapsed:,.0f}/s (JSON encode + send + parse + validate + store)"
        )

        rng = random.Random(11)
        timings = []
        for _ in range(queries):
            tenant_id = rng.choice(ids)
            started = time.perf_counter()
            response = client.get(
                f"/api/v1/tenants/{tenant_id}/monitoring", params={"hours": 24, "interval": "5m"}
            )
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        print(
            f"HTTP query 24h/5m, all metrics: p50 {percentile(timings, 0.5):.2f} ms, "
            f"p99 {percentile(timings, 0.99):.2f} ms, mean {statistics.mean(timings):.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--port", type=int, default=0, help="0: a free loopback port")
    parser.add_argument("--keep", type=Path, default=None, help="workspace dir to keep")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"SQLite {__import__('sqlite3').sqlite_version}"
    )
    root = args.keep or Path(tempfile.mkdtemp(prefix="ecp-bench-monitoring-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        ids = make_workspace(root, args.tenants)
        settings = Settings.load(root)
        now_ms = int(time.time() * 1000)
        service = MonitoringService(settings)
        bench_service_ingest(service, ids, now_ms)
        bench_query(service, ids, args.queries)
        rows = service.space(False).store.count()
        size = settings.resolve(settings.database).stat().st_size / 2**20
        print(f"store: {rows:,} rows, {size:.0f} MiB main file")
        service.close()
        port = args.port or free_port()
        server = start_server(root, port)
        try:
            bench_http(port, ids, min(args.queries, 300), now_ms)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Prometheus backend bench: remote-write ingest throughput and GET monitoring latency.

Usage: .venv/bin/python bench/bench_prometheus.py [--tenants 1000] [--hours 24] [--queries 300]
       [--metrics cpu_usage,memory_usage,gpu_usage,response_time] [--threads 4]

Starts a real Prometheus (Debian's 2.42) on a free loopback port with a temp TSDB, then:
1. Ingest: --hours of 1-per-minute samples for every tenant, sent the way POST .../monitoring
   forwards them (PrometheusBackend.write: our WriteRequest encoding + snappy + HTTP), one
   request per tenant per hour of data, in time order, from --threads threads.
2. Query, once Prometheus has compacted the written day into blocks: random tenants,
   GET-equivalent 24 h / 5 m over every metric (MonitoringSpace.query: a series lookup, one
   query_range and one instant query). Targets: >= 20,000 samples/s; p99 <= 100 ms.
The warm-up query is left out of the figures; the report opens with the machine and its load
average (os.getloadavg), and repeats the load after each phase.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from compiler.alerting import METRIC_NAMES  # noqa: E402
from compiler.monitoring import MonitoringQuery, MonitoringService  # noqa: E402
from compiler.monitoring.prometheus import PrometheusBackend  # noqa: E402
from compiler.monitoring.samples import Sample  # noqa: E402
from compiler.settings import Settings  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from machine import load_average, machine, pick  # noqa: E402

SPEC = "tenant_id: {0}\nname: {0}\nservice_requirements:\n  chatbot: 10\n"
HOUR_MS = 3_600_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_prometheus(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("prometheus")
    if binary is None:
        sys.exit("prometheus is not installed (apt-get install -y prometheus)")
    port = free_port()
    (workdir / "prometheus.yml").write_text("global: {scrape_interval: 1m}\n", "utf-8")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-remote-write-receiver",
        ],
        stdout=(workdir / "prometheus.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    sys.exit("prometheus did not start")


def cpu_seconds(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("process_cpu_seconds_total "):
            return float(line.split()[1])
    return 0.0


def settle(url: str, window_s: float = 5.0, limit_s: float = 600.0) -> float:
    """Wait until Prometheus is idle (under 10 % of a core over window_s): the day just written
    has been compacted out of the head into blocks, so queries are measured in steady state,
    not beside a compaction."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = cpu_seconds(url)
        time.sleep(window_s)
        if cpu_seconds(url) - before < 0.1 * window_s:
            break
    return time.monotonic() - started


def hour_of_samples(tenant: int, start_ms: int, metrics: list[int]) -> list[Sample]:
    out = []
    for minute in range(60):
        ts = start_ms + minute * 60_000
        wave = math.sin((ts / 60_000 + tenant) / 30)
        values: list[float | None] = [None] * len(METRIC_NAMES)
        for index in metrics:
            values[index] = (
                round(50 + 30 * wave, 2)
                if METRIC_NAMES[index] != "response_time"
                else 150 + 20 * wave
            )
        out.append(Sample(ts, tuple(values)))
    return out


def ingest(
    backend: PrometheusBackend,
    ids: list[str],
    start_ms: int,
    hours: int,
    metrics: list[int],
    threads: int,
) -> None:
    total = 0
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for hour in range(hours):
            hour_ms = start_ms + hour * HOUR_MS
            batches = [
                (tenant_id, hour_of_samples(i, hour_ms, metrics)) for i, tenant_id in enumerate(ids)
            ]
            list(pool.map(lambda b: backend.write(*b), batches))
            total += len(ids) * 60 * len(metrics)
    elapsed = time.perf_counter() - started
    print(
        f"remote-write ingest: {total:,} samples ({len(ids)} tenants x {hours} h x "
        f"{len(metrics)} metrics at 1/min) in {elapsed:.1f} s = "
        f"{total / elapsed:,.0f} samples/s (load average after: {load_average()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--metrics", default="cpu_usage,memory_usage,gpu_usage,response_time")
    parser.add_argument("--intervals", default="5m,1m", help="GET monitoring intervals to time")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep Prometheus's data here; a later run given the same folder skips the ingest",
    )
    args = parser.parse_args()
    metrics = [METRIC_NAMES.index(m) for m in args.metrics.split(",")]
    print("machine:", json.dumps(machine()))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-prom-"))
    reuse = (workdir / "now_ms").is_file()
    workdir.mkdir(parents=True, exist_ok=True)
    process, url = start_prometheus(workdir)
    try:
        ids = [f"tenant-{i:04d}" for i in range(args.tenants)]
        if not reuse:
            shutil.copytree(REPO / "presets", workdir / "presets")
            (workdir / "tenants").mkdir()
            for tenant_id in ids:
                spec = SPEC.format(tenant_id)
                (workdir / "tenants" / f"{tenant_id}.yaml").write_text(spec, "utf-8")
            (workdir / "now_ms").write_text(str(int(time.time() * 1000) // 60_000 * 60_000))
        now_ms = int((workdir / "now_ms").read_text())
        start_ms = now_ms - args.hours * HOUR_MS
        settings = Settings.load(
            workdir, metrics_backend="prometheus", prometheus_url=url, prometheus_timeout_s=30
        )
        service = MonitoringService(settings, clock=lambda: now_ms / 1000)
        backend = service.space(False).prometheus
        assert backend is not None

        if reuse:
            print(f"reusing the samples in {workdir} (written at {now_ms})")
        else:
            ingest(backend, ids, start_ms, args.hours, metrics, args.threads)
            settled = settle(url)
            print(f"Prometheus idle (compaction done) {settled:.0f} s after the ingest")

        space = service.space(False)
        rng = random.Random(7)
        for interval in args.intervals.split(","):
            query = MonitoringQuery(hours=24, interval=interval)
            for tenant_id in ids[:5]:  # warm (not counted): the first queries load the index
                space.query(tenant_id, query)
            timings = []
            prometheus_cpu, own_cpu = cpu_seconds(url), time.process_time()
            for _ in range(args.queries):
                tenant_id = rng.choice(ids)
                begun = time.perf_counter()
                answer = space.query(tenant_id, query)
                timings.append((time.perf_counter() - begun) * 1000)
            # CPU per answer, which other processes' load does not inflate as it does latency:
            # Prometheus's own (its process_cpu_seconds_total) and this process's (the client,
            # JSON parsing, building the answer).
            prometheus_ms = (cpu_seconds(url) - prometheus_cpu) / args.queries * 1000
            own_ms = (time.process_time() - own_cpu) / args.queries * 1000
            points = sum(len(v) for v in answer["metrics"].values())
            ordered = sorted(timings)
            print(
                f"GET monitoring 24h/{interval}, all metrics, {args.queries} random tenants: "
                f"p50 {pick(ordered, 0.5):.1f} ms, p95 {pick(ordered, 0.95):.1f} ms, "
                f"p99 {pick(ordered, 0.99):.1f} ms, max {ordered[-1]:.1f} ms "
                f"({points} points per answer; CPU per answer: Prometheus {prometheus_ms:.1f} ms, "
                f"ours {own_ms:.1f} ms; load average after: {load_average()})"
            )
        service.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: the API under load, from a second process, on a workspace of N compiled tenants.

Usage: python bench/bench_api.py [--tenants 1000] [--clients 50] [--requests 2000] [--creates 20]
Builds a scratch git workspace (the repo's presets/, N synthetic specs), compiles it, starts the
real `ecp serve` in a subprocess, then from this process drives 50 concurrent httpx clients:
list (GET /tenants/) and detail (GET /tenants/{id}) p50/p99, both saturated (closed loop: each
client fires again at once, so latency = 50 / throughput) and paced (open loop at --rate req/s in
all), create->published latency (the answer comes after compile + publish), and the time to
refuse a YAML alias bomb (422).
Targets (issue 4): reads p99 <= 25 ms, create p50 <= 300 ms, hostile YAML 422 within 100 ms.
Every request carries an admin API token (issue 9), as a real client must; the bench principal's
rate budget is raised in the scratch workspace's ecp.toml so the limiter measures, not throttles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from compiler.access.tokens import TokenStore

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa")
TOKEN = "ecp_" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(48))
HEADERS = {"X-Demo-Mode": "false", "Authorization": f"Bearer {TOKEN}"}
LOAD_BUDGET = """\
[access.rate_limits.admin]
reads = {per_second = 1000000, burst = 1000000}
writes = {per_second = 1000000, burst = 1000000}
"""
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def synthetic_spec(i: int, rng: random.Random) -> str:
    chosen = rng.sample(SERVICES, rng.randint(1, 4))
    lines = [f"tenant_id: bench-{i:05d}", f"name: Bench tenant {i}", "service_requirements:"]
    lines += [f"  {s}: {rng.randint(1, 40)}" for s in chosen]
    availability = rng.choice(["99.5%", "99.9%", "99.95%"])
    lines += ["sla_target:", f'  availability: "{availability}"', "  response_time: 300ms"]
    return "\n".join(lines) + "\n"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=600)


def ecp_command(root: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from compiler.cli import main; main()",
        "--root",
        str(root),
        *args,
    ]


def make_workspace(n: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="ecp-bench-api-"))
    shutil.copytree(ROOT / "presets", root / "presets")
    (root / "tenants").mkdir()
    rng = random.Random(4)
    for i in range(n):
        (root / "tenants" / f"bench-{i:05d}.yaml").write_text(synthetic_spec(i, rng), "utf-8")
    (root / ".gitignore").write_text("output/\n.ecp/\necp.toml\n", "utf-8")
    (root / "ecp.toml").write_text(LOAD_BUDGET, "utf-8")
    TokenStore(root / ".ecp" / "tokens.json").create("bench", "admin", secret=TOKEN)
    git(root, "init", "-q", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "seed")
    started = time.perf_counter()
    subprocess.run(ecp_command(root, "compile", "--all"), check=True, capture_output=True)
    print(f"compiled {n} tenants in {time.perf_counter() - started:.1f} s")
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    cmd = ecp_command(root, "serve", "--host", "127.0.0.1", "--port", str(port))
    process = subprocess.Popen([*cmd, "--log-level", "warning"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("server did not start")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50_ms": round(pick(0.50) * 1000, 2),
        "p99_ms": round(pick(0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


async def load(api: str, paths: list[str], clients: int) -> list[float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    timings: list[float] = []

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=api, headers=HEADERS, timeout=60) as client:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                answer = await client.get(path)
                timings.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")

    await asyncio.gather(*(worker() for _ in range(clients)))
    return timings


async def paced(api: str, paths: list[str], clients: int, rate: float) -> list[float]:
    """Open loop: `clients` clients together offer `rate` requests/s (each its share, evenly)."""
    timings: list[float] = []
    per_client = [paths[i::clients] for i in range(clients)]
    interval = clients / rate

    async def worker(mine: list[str], offset: float) -> None:
        async with httpx.AsyncClient(base_url=api, headers=HEADERS, timeout=60) as client:
            await asyncio.sleep(offset)
            for path in mine:
                started = time.perf_counter()
                answer = await client.get(path)
                elapsed = time.perf_counter() - started
                timings.append(elapsed)
                assert answer.status_code == 200, answer.text[:200]
                await asyncio.sleep(max(0.0, interval - elapsed))

    await asyncio.gather(
        *(worker(mine, i * interval / clients) for i, mine in enumerate(per_client))
    )
    return timings


_WRK_LINE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$")
_WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)")
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_load(url: str, connections: int, seconds: int = 8) -> dict[str, float] | None:
    """Latency percentiles from wrk (a C load generator, Debian package `wrk`), when installed.

    Python clients add their own milliseconds under 50-way concurrency on 2 cores; wrk measures
    the server, as a Prometheus-scraped production load balancer would see it.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    done = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            "X-Demo-Mode: false",
            "-H",
            f"Authorization: Bearer {TOKEN}",
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 60,
    )
    result: dict[str, float] = {}
    for line in done.stdout.splitlines():
        if match := _WRK_LINE.match(line):
            result[f"p{match[1]}_ms"] = round(float(match[2]) * _UNIT[match[3]], 2)
        elif match := _WRK_RATE.match(line):
            result["requests_per_s"] = float(match[1])
    return result or None


def creates(api: str, count: int) -> tuple[list[float], list[float]]:
    published: list[float] = []
    refusals: list[float] = []
    with httpx.Client(base_url=api, headers=HEADERS, timeout=120) as client:
        for i in range(count):
            body = {
                "tenant_id": f"new-{i:03d}",
                "name": "new",
                "service_requirements": {"chatbot": 8},
            }
            started = time.perf_counter()
            answer = client.post("/tenants/", json=body)
            published.append(time.perf_counter() - started)
            assert answer.status_code == 201, answer.text
            status = client.get(f"/tenants/new-{i:03d}/deployment-status").json()
            assert status["deployment_id"] == answer.json()["deployment_id"], status
        for _ in range(count):
            started = time.perf_counter()
            answer = client.post(
                "/tenants/validate-manifest", json={"manifest_content": ALIAS_BOMB}
            )
            refusals.append(time.perf_counter() - started)
            assert answer.status_code == 422, answer.text
    return published, refusals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--creates", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop requests/s")
    args = parser.parse_args()
    root = make_workspace(args.tenants)
    port = free_port()
    server = start_server(root, port)
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        rng = random.Random(7)
        ids = [f"bench-{rng.randrange(args.tenants):05d}" for _ in range(args.requests)]
        asyncio.run(load(api, ["/tenants/", *[f"/tenants/{i}" for i in ids[:200]]], 10))  # warm
        list_one = asyncio.run(load(api, ["/tenants/"] * 200, 1))
        detail_one = asyncio.run(load(api, [f"/tenants/{i}" for i in ids[:200]], 1))
        list_t = asyncio.run(load(api, ["/tenants/"] * args.requests, args.clients))
        detail_t = asyncio.run(load(api, [f"/tenants/{i}" for i in ids], args.clients))
        paced_n = int(args.rate * 10)  # ten seconds of each
        list_paced = asyncio.run(paced(api, ["/tenants/"] * paced_n, args.clients, args.rate))
        detail_paths = [f"/tenants/{i}" for i in ids[:paced_n]]
        detail_paced = asyncio.run(paced(api, detail_paths, args.clients, args.rate))
        wrk_list = wrk_load(f"{api}/tenants/", args.clients)
        wrk_detail = wrk_load(f"{api}/tenants/{ids[0]}", args.clients)
        published, refusals = creates(api, args.creates)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "tenants": args.tenants,
        "clients": args.clients,
        "one_client": {
            "list_100_per_page": percentiles(list_one),
            "detail": percentiles(detail_one),
        },
        "saturated_closed_loop": {
            "list_100_per_page": percentiles(list_t),
            "detail": percentiles(detail_t),
            "list_requests_per_s": round(len(list_t) / sum(list_t) * args.clients, 1),
            "detail_requests_per_s": round(len(detail_t) / sum(detail_t) * args.clients, 1),
        },
        f"open_loop_{args.rate:g}_per_s": {
            "list_100_per_page": percentiles(list_paced),
            "detail": percentiles(detail_paced),
        },
        "wrk_saturated_closed_loop": {
            "list_100_per_page": wrk_list or "wrk not installed (apt-get install wrk)",
            "detail": wrk_detail or "wrk not installed (apt-get install wrk)",
        },
        "create_to_published": percentiles(published),
        "alias_bomb_422": percentiles(refusals),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

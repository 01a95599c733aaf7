"""Benchmark: sizing 1,000 tenants in process with alternatives, and `ecp calc` of a 10,000-channel
request beyond start-up (issue 8 targets: <= 0.5 s and <= 50 ms).

Usage: python bench/bench_sizing.py [--tenants 1000]
The tenants are bench_compile's synthetic mix (1-4 services of 1-40 channels, 99.5-99.95 %) at
SLAs of 300 ms to 1 s; refused tenants (an SLA below a path's floor) count, as they cost a search.
Reports wall time and process CPU time: on a shared machine CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compiler.catalogue import load_catalogue
from compiler.errors import OrchestratorError
from compiler.sizing import calculate
from compiler.spec.models import CalculateRequest

ROOT = Path(__file__).resolve().parents[1]
ECP = str(Path(sys.executable).parent / "ecp")
SERVICES = ("callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa")
BIG = {"service_requirements": {"chatbot": 10_000}, "sla_target": {"availability": "99.9%"}}


def requests(n: int) -> list[CalculateRequest]:
    rng = random.Random(42)
    out = []
    for _ in range(n):
        chosen = rng.sample(SERVICES, rng.randint(1, 4))
        body = {
            "service_requirements": {s: rng.randint(1, 40) for s in chosen},
            "sla_target": {
                "availability": rng.choice(["99.5%", "99.9%", "99.95%"]),
                "response_time": rng.choice(["300ms", "400ms", "500ms", "1s"]),
            },
        }
        out.append(CalculateRequest.model_validate(body))
    return out


def size_all(batch: list[CalculateRequest]) -> tuple[float, float, int]:
    catalogue = load_catalogue(ROOT / "presets")
    wall, cpu = time.perf_counter(), time.process_time()
    planned = 0
    for r in batch:
        try:
            calculate(r, catalogue)  # the plan and its alternative
            planned += 1
        except OrchestratorError:
            pass
    return time.perf_counter() - wall, time.process_time() - cpu, planned


def best_of(command: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"load average: {os.getloadavg()[0]:.1f}")
    batch = requests(args.tenants)
    size_all(batch[:50])  # imports and first-use memos
    wall, cpu, planned = size_all(batch)
    print(
        f"sizing {len(batch)} tenants with alternatives: {wall:.3f} s wall, {cpu:.3f} s CPU "
        f"({planned} planned, {len(batch) - planned} refused)"
    )
    catalogue = load_catalogue(ROOT / "presets")
    big = CalculateRequest.model_validate(BIG)
    start = time.perf_counter()
    calculate(big, catalogue)
    took = (time.perf_counter() - start) * 1000
    print(f"calculate, 10,000 chatbot channels, in process: {took:.1f} ms")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(BIG, f)
    calc = best_of([ECP, "calc", "-f", f.name])
    start_up = best_of([ECP, "calc", "--help"])
    print(
        f"ecp calc of it: {calc * 1000:.0f} ms wall, `ecp calc --help` {start_up * 1000:.0f} ms: "
        f"{(calc - start_up) * 1000:.0f} ms beyond start-up (best of 5)"
    )


if __name__ == "__main__":
    main()

"""Benchmark: the discrete-event simulator's events per second, and a 50-plan corpus at 20,000
requests per path (the corpus the model-vs-simulation test runs).

Usage: python bench/bench_simulation.py [--plans 50] [--requests 20000]
In process, one core: the engine is pure Python. The corpus comes from tests/sim_plans.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sim_plans import corpus  # noqa: E402

from compiler.sizing.simulation import simulate  # noqa: E402


def single_queue(rate_per_s: float) -> dict[str, Any]:
    """M/M/4 at 0.75: the engine's inner loop without routing or multi-stage overhead."""
    queue = {
        "pods": 1,
        "slots_per_pod": 4,
        "arrival_rate_per_s": rate_per_s,
        "hold_ms": 20.0,
        "hold_cv": 1.0,
        "response_ms": 0.0,
        "response_cv": 0.0,
        "routing": "random",
    }
    return {
        "paths": [{"name": "p", "stages": ["s"], "arrival_rate_per_s": rate_per_s}],
        "services": [{"service_name": "s", "queue": queue}],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    )
    started = time.perf_counter()
    result = simulate(single_queue(150.0), requests_per_path=200_000)
    seconds = time.perf_counter() - started
    print(
        f"M/M/4, 200,000 requests: {result.events:,} events in {seconds:.2f} s "
        f"= {result.events / seconds:,.0f} events/s"
    )
    plans = corpus(args.plans)
    events, slowest = 0, 0.0
    started = time.perf_counter()
    for plan in plans:
        one = time.perf_counter()
        events += simulate(plan, requests_per_path=args.requests).events
        slowest = max(slowest, time.perf_counter() - one)
    seconds = time.perf_counter() - started
    visits = sum(len(p["stages"]) for plan in plans for p in plan["paths"])
    print(
        f"corpus: {len(plans)} plans ({visits} path stages), {args.requests:,} requests per path: "
        f"{seconds:.1f} s, {events:,} events = {events / seconds:,.0f} events/s; "
        f"slowest plan {slowest:.2f} s"
    )


if __name__ == "__main__":
    main()

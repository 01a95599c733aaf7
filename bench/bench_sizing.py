"""Benchmark: sizing 1,000 tenants in process with alternatives (issue 8 target: <= 0.5 s).

Usage: python bench/bench_sizing.py [--tenants 1000] [--runs 5]
The tenants are bench_compile's synthetic mix (1-4 services of 1-40 channels, 99.5-99.95 %) at
SLAs of 300 ms to 1 s; refused tenants (an SLA below a path's floor) count, as they cost a search.
Each run loads a fresh catalogue (so its memo starts empty) and sizes every tenant with its
alternative; the figure is the median of the runs, wall and process CPU time (on a shared
machine CPU time is the steadier one). `ecp calc` from the shell: bench/bench_calc_cli.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from pathlib import Path

from compiler.catalogue import load_catalogue
from compiler.errors import OrchestratorError
from compiler.sizing import calculate
from compiler.spec.models import CalculateRequest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa")


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
    """(wall s, CPU s, tenants planned): the catalogue is loaded outside the timing."""
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


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    batch = requests(args.tenants)
    size_all(batch[:50])  # imports and first-use costs outside the runs
    runs = [size_all(batch) for _ in range(args.runs)]
    walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
    planned = runs[0][2]
    print(
        f"sizing {len(batch)} tenants with alternatives, median of {args.runs} runs: "
        f"{statistics.median(walls):.3f} s wall ({min(walls):.3f}-{max(walls):.3f}), "
        f"{statistics.median(cpus):.3f} s CPU ({min(cpus):.3f}-{max(cpus):.3f}); "
        f"{planned} planned, {len(batch) - planned} refused"
    )
    print(machine())


if __name__ == "__main__":
    main()

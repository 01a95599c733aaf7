"""Varied plan JSONs in the I8 contract's shape, for simulation and model-vs-simulation corpora.

`random_plan(rng)` draws 1-5 services (pods 1-8, slots 1-64, hold cv 0-1.5, random / least-request /
shared routing, response = hold or an independent fraction of it) and 1-3 paths of 1-4 distinct
stages, with path rates within 3x of each other so a simulation stays short. Each service's hold is
set from its drawn utilisation (0.1-0.85), so `queue.utilisation` is exact. The model's fields
(`predicted_ms`, `sla_ms`, `meets_sla`, `availability`) are left out: the model fills them.
"""

from __future__ import annotations

import math
import random
from typing import Any

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)
ROUTINGS = ("random", "random", "random", "least-request", "shared")


def _cv(rng: random.Random) -> float:
    """Exactly 0 and exactly 1 come up often: they are the closed-form cases."""
    roll = rng.random()
    if roll < 0.2:
        return 0.0
    if roll < 0.45:
        return 1.0
    return round(rng.uniform(0.1, 1.5), 3)


def _queue(rng: random.Random, rate_per_s: float) -> dict[str, Any]:
    utilisation = rng.uniform(0.1, 0.85)
    pods = rng.randint(1, 8)
    hold_target_ms = math.exp(rng.uniform(math.log(5.0), math.log(3000.0)))
    slots = max(1, min(64, round(rate_per_s * hold_target_ms / 1000.0 / (utilisation * pods))))
    hold_ms = utilisation * pods * slots / rate_per_s * 1000.0
    is_hold = rng.random() < 0.4
    return {
        "pods": pods,
        "slots_per_pod": slots,
        "arrival_rate_per_s": rate_per_s,
        "hold_ms": hold_ms,
        "hold_cv": _cv(rng),
        "response_ms": hold_ms if is_hold else hold_ms * rng.uniform(0.02, 1.0),
        "response_cv": 0.0 if is_hold else _cv(rng),
        "response_is_hold": is_hold,
        "routing": rng.choice(ROUTINGS),
        "utilisation": utilisation,
    }


def random_plan(rng: random.Random) -> dict[str, Any]:
    """One plan: every service on at least one path, every queue stable (utilisation <= 0.85)."""
    names = [f"svc{i}" for i in range(rng.randint(1, 5))]
    base = math.exp(rng.uniform(math.log(0.5), math.log(200.0)))
    paths: list[dict[str, Any]] = []
    for p in range(rng.randint(1, 3)):
        stages = rng.sample(names, rng.randint(1, min(4, len(names))))
        paths.append(
            {
                "name": f"path{p}",
                "stages": stages,
                "percentile": rng.choice(PERCENTILES),
                "arrival_rate_per_s": round(base * rng.uniform(1.0, 3.0), 6),
            }
        )
    used = [n for n in names if any(n in p["stages"] for p in paths)]
    services = []
    for name in used:
        rate = sum(p["arrival_rate_per_s"] for p in paths if name in p["stages"])
        queue = _queue(rng, rate)
        services.append({"service_name": name, "replicas": queue["pods"], "queue": queue})
    return {"paths": paths, "services": services}


def corpus(count: int = 50, seed: int = 8) -> list[dict[str, Any]]:
    """`count` plans from one seed: the same list on every call."""
    rng = random.Random(seed)
    return [random_plan(rng) for _ in range(count)]

"""Sizing figures computed OUTSIDE compiler/sizing, for tests/test_sizing_expectations.py.

Everything here is written from the formulas (textbook or README, Sizing) and reads presets/ as
plain YAML: nothing imports compiler.sizing's model or its catalogue objects, so a bug there and a
golden file regenerated from it cannot agree with these numbers by construction.

- Erlang C by its closed form C = (A^c/c! * c/(c-A)) / (sum_{i<c} A^i/i! + A^c/c! * c/(c-A)),
  not the Erlang B recursion the model uses.
- The per-pod wait tail P(W > t) = C * exp(-t / theta), theta = hold / (c - A) x f, f the
  README's blend of Allen-Cunneen's (1 + cv^2) / 2 and M/M/c.
- k-of-n availability as sum_{i=k..n} C(n, i) a^i (1-a)^(n-i) with math.comb.
- Path percentiles by convolution on a 0.02 ms grid (the model's grids are 10-50x coarser and
  move mass to a cell's right edge; this one is fine enough to be taken as exact).
"""

from __future__ import annotations

import itertools
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
STEP_MS = 0.02


@cache
def preset(name: str) -> Any:
    return yaml.safe_load((ROOT / "presets" / name).read_text(encoding="utf-8"))


def service(name: str) -> dict[str, Any]:
    data: dict[str, Any] = preset("services.yaml")["services"][name]
    return data


def millicores(text: str) -> int:
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def mebibytes(text: str) -> int:
    match = re.fullmatch(r"(\d+)(Mi|Gi)", text)
    assert match, text
    return int(match[1]) * (1024 if match[2] == "Gi" else 1)


def gib_in_gb(text: str) -> float:
    """A volume of `text` (e.g. 1Gi) in the GB the totals count (10^9 bytes)."""
    return mebibytes(text) * 2**20 / 1e9


def price(key: str) -> float:
    value: float = preset("prices.yaml")["prices"][key]
    return value


def gpu_hour(gpu_type: str) -> float:
    value: float = preset("prices.yaml")["prices"]["gpu_hour"][gpu_type]
    return value


def hours() -> float:
    return price("hours_per_month")


def rollout_share() -> float:
    return float(preset("paths.yaml")["sizing_policy"]["rollout_hours_per_month"]) / hours()


def erlang_c(servers: int, load: float) -> float:
    """P(wait) in M/M/c by the closed form (logs keep A^i / i! finite)."""
    if load <= 0:
        return 0.0
    assert load < servers
    logs = [i * math.log(load) - math.lgamma(i + 1) for i in range(servers + 1)]
    top = max(logs)
    below = sum(math.exp(x - top) for x in logs[:servers])
    last = math.exp(logs[servers] - top) * servers / (servers - load)
    return last / (below + last)


def wait_mean(slots: int, load: float, hold_ms: float, hold_cv: float, p_wait: float) -> float:
    """E[W | W > 0] in ms: hold / (c - A) x f; f is Allen-Cunneen's (1 + cv^2) / 2 once 30 % of
    arrivals wait, moving linearly to halfway between it and 1 as waits get rare (README)."""
    ac = (1 + hold_cv**2) / 2
    heavy = min(1.0, p_wait / 0.3)
    f = heavy * ac + (1 - heavy) * (1 + ac) / 2
    return hold_ms / (slots - load) * f


def k_of_n(k: int, n: int, a: float) -> float:
    return sum(math.comb(n, i) * a**i * (1 - a) ** (n - i) for i in range(k, n + 1))


def with_rollouts(k: int, n: int, a: float, share: float) -> float:
    """README: a rollout takes one pod down on purpose when there are spares (maxUnavailable 1);
    without spares it surges first and takes nothing down."""
    if n == k or share == 0:
        return k_of_n(k, n, a)
    return (1 - share) * k_of_n(k, n, a) + share * k_of_n(k, n - 1, a)


def _gamma_masses(mean: float, cv: float, size: int) -> np.ndarray:
    grid = (np.arange(size) + 0.5) * STEP_MS  # cell midpoints
    shape, scale = 1 / cv**2, mean * cv**2
    log_pdf = (
        (shape - 1) * np.log(grid) - grid / scale - math.lgamma(shape) - shape * math.log(scale)
    )
    return np.asarray(np.exp(log_pdf) * STEP_MS)


def _wait_masses(p_wait: float, theta: float, size: int) -> np.ndarray:
    edges = np.arange(size + 1) * STEP_MS
    survival = np.exp(-edges / theta)
    mass = p_wait * (survival[:-1] - survival[1:])
    mass[0] += 1 - p_wait
    return np.asarray(mass)


def path_quantile(stages: list[tuple[float, float, float, float]], level: float) -> float:
    """The `level` (0-1) quantile in ms of sum(W + R) over stages (response mean, response cv,
    P(wait), E[W | W > 0]); R ~ Gamma, W = 0 or exponential. Exact to one 0.02 ms cell."""
    end = sum(
        m * (1 + 12 * cv) + (theta * math.log(max(p, 1e-300) / 1e-9) if p > 1e-9 else 0.0)
        for m, cv, p, theta in stages
    )
    size = int(end / STEP_MS) + 1
    fft = 1 << (2 * size).bit_length()
    spectrum = np.ones(fft // 2 + 1, dtype=complex)
    for mean, cv, p_wait, theta in stages:
        spectrum *= np.fft.rfft(_gamma_masses(mean, cv, size), fft)
        if p_wait > 1e-9:
            spectrum *= np.fft.rfft(_wait_masses(p_wait, theta, size), fft)
    cdf = np.cumsum(np.clip(np.fft.irfft(spectrum, fft)[:size], 0, None))
    index = int(np.searchsorted(cdf, level))
    assert index < size, "grid too short"
    return (index + 1) * STEP_MS


def idle_quantile(responses: list[tuple[float, float]], level: float) -> float:
    return path_quantile([(m, cv, 0.0, 0.0) for m, cv in responses], level)


def store_availability(data_pods: int) -> float:
    """presets/redis.yaml: one pod a; replicated 1 - (1-a)^n - failovers x failover time / month
    - (1-a) x P(fewer than 2 of 3 sentinels up)."""
    redis = preset("redis.yaml")["redis"]
    a = redis["availability"]
    if data_pods == 1:
        return float(a)
    failovers = redis["failovers_per_month"] * redis["failover_seconds"] / (hours() * 3600)
    sentinels = redis["sentinel"]["replicas"]
    no_majority = (1 - a) * (1 - k_of_n(sentinels // 2 + 1, sentinels, a))
    return float(1 - (1 - a) ** data_pods - failovers - no_majority)


def store_totals(data_pods: int, tier: str) -> tuple[int, int, float]:
    """(CPU m, memory Mi, storage GB) of the tenant's Redis: data pods (+ sentinels if > 1)."""
    redis = preset("redis.yaml")["redis"]
    size = redis["sizes"][tier]
    sentinels = redis["sentinel"]["replicas"] if data_pods > 1 else 0
    cpu = data_pods * millicores(size["cpu_request"])
    cpu += sentinels * millicores(redis["sentinel"]["cpu_request"])
    memory = data_pods * mebibytes(size["memory"]) + sentinels * mebibytes(
        redis["sentinel"]["memory"]
    )
    return cpu, memory, data_pods * gib_in_gb(size["storage"])


def monthly(
    cpu_m: float, memory_mib: float, gpu_dollars_per_hour: float, storage_gb: float
) -> float:
    """OpenCost's method: requests x hourly prices x 730 h, plus storage per GB-month."""
    return (
        cpu_m / 1000 * price("cpu_core_hour") * hours()
        + memory_mib / 1024 * price("memory_gib_hour") * hours()
        + gpu_dollars_per_hour * hours()
        + storage_gb * price("storage_gb_month")
    )


def serving_pods(
    slots: int,
    load: float,
    hold_ms: float,
    hold_cv: float,
    cap: float,
    allowance: float,
    tail: float,
) -> int:
    """Fewest pods at or under the utilisation cap whose wait tail P(W > allowance) <= tail, each
    pod its own M/G/c queue of load / pods Erlangs (random routing)."""
    pods = max(1, math.ceil(load / (slots * cap) - 1e-9))
    while True:
        a = load / pods
        c = erlang_c(slots, a)
        if c == 0 or c * math.exp(-allowance / wait_mean(slots, a, hold_ms, hold_cv, c)) <= tail:
            return pods
        pods += 1


# --- a small independent planner: every combination of runs, cheapest first -------------------


def runs(name: str) -> list[dict[str, Any]]:
    """The ways `name` can run (presets/services.yaml): its CPU pod, then each GPU run, with slots
    of a derived run = the base run's x relative throughput, rounded DOWN."""
    s = service(name)
    gpus = preset("gpus.yaml")["gpus"]
    out = []
    if "response_ms" in s:
        hold = s["response_ms"] if s["response_is_hold"] else s["hold_ms"]
        cv = s["response_cv"] if s["response_is_hold"] else s["hold_cv"]
        out.append(
            {
                "key": "cpu",
                "gpu_type": None,
                "gpus": 0,
                "slots": s["slots"],
                "hold_ms": hold,
                "hold_cv": cv,
                "response_ms": s["response_ms"],
                "response_cv": s["response_cv"],
                "cpu_m": millicores(s["cpu_request"]),
                "memory_mib": mebibytes(s["memory"]),
                "storage_per_replica": s["storage_gb_per_replica"],
            }
        )
    pod = s.get("gpu_pod", s)
    for run in s.get("gpu_runs", []):
        base = run
        slots = run.get("slots")
        if "scale_from" in run:
            base = next(
                r
                for r in s["gpu_runs"]
                if r["gpu_type"] == run["scale_from"] and r["mode"] == run["mode"] and "slots" in r
            )
            ratio = gpus[run["gpu_type"]]["relative_throughput"]
            ratio /= gpus[base["gpu_type"]]["relative_throughput"]
            slots = max(1, math.floor(base["slots"] * ratio))
        out.append(
            {
                "key": f"{run['gpu_type']} {run['mode']}",
                "gpu_type": run["gpu_type"],
                "gpus": s["gpu"],
                "slots": slots,
                "hold_ms": base.get("hold_ms", s.get("hold_ms")),
                "hold_cv": base.get("hold_cv", s.get("hold_cv")),
                "response_ms": base["response_ms"],
                "response_cv": base["response_cv"],
                "cpu_m": millicores(pod["cpu_request"]),
                "memory_mib": mebibytes(pod["memory"]),
                "storage_per_replica": pod.get(
                    "storage_gb_per_replica", s["storage_gb_per_replica"]
                ),
            }
        )
    return out


@cache
def _idle(responses: tuple[tuple[float, float], ...], level: float) -> float:
    return idle_quantile(list(responses), level)


def plan_by_hand(
    channels: dict[str, int], availability: float, sla_ms: float, percentile: float = 95
) -> dict[str, Any]:
    """The cheapest choice of runs whose every path's idle time at (100 + p) / 2 fits the SLA; per
    service: serving pods from its wait allowance (a quarter of each path's slack with its own
    run and the fastest runs elsewhere, split over the path's stages, the least over its paths;
    a choice is feasible when each path's floor plus its stages' allowances fits) and tail (1 -
    p) / (2 x its longest path), then replicas until k-of-n with rollouts meets target^(1 /
    longest path), at least 2 from 99.9 %. Session-path spares are not modelled (the model
    prices them into its search, Sizer.with_spares; no shipped tenant's choice of runs moves
    with them): callers check the paths."""
    paths = [
        (name, p, channels[p["entry"]] * p["requests_per_channel_per_s"])
        for name, p in preset("paths.yaml")["paths"].items()
        if channels.get(p["entry"], 0) > 0
    ]
    names = [n for n in service_order() if any(n in stages(p) for _, p, _ in paths)]
    rate = {n: sum(r for _, p, r in paths if n in stages(p)) for n in names}
    longest = {n: max(len(stages(p)) for _, p, _ in paths if n in stages(p)) for n in names}
    level = (100 + percentile) / 200
    best: tuple[float, dict[str, Any]] | None = None
    floor = 2 if availability >= 0.999 else 1
    for combo in itertools.product(*(runs(n) for n in names)):
        chosen = dict(zip(names, combo, strict=True))
        floors = {
            name: _idle(
                tuple((chosen[s]["response_ms"], chosen[s]["response_cv"]) for s in stages(p)),
                level,
            )
            for name, p, _ in paths
        }
        if any(f > sla_ms for f in floors.values()):
            continue
        # A stage's share of a path's slack is judged on its own run with the fastest run of
        # every other stage (so another stage's hardware never lends it slack); the run is
        # feasible when each path's floor plus its stages' shares fits the SLA.
        allowance: dict[str, float] = {}
        fits = True
        for name, p, _ in paths:
            shares = {}
            for s in stages(p):
                own = min(
                    _idle(
                        tuple(
                            (o["response_ms"], o["response_cv"])
                            for o in (
                                other if t != s else chosen[s]
                                for t, other in zip(stages(p), alternative, strict=True)
                            )
                        ),
                        level,
                    )
                    for alternative in itertools.product(*(runs(t) for t in stages(p)))
                )
                shares[s] = 0.25 * (sla_ms - own) / len(stages(p))
            fits = fits and floors[name] + sum(shares.values()) <= sla_ms + 1e-9
            for s, each in shares.items():
                allowance[s] = min(allowance.get(s, each), each)
        if not fits:
            continue
        plan: dict[str, Any] = {}
        cost = 0.0
        for n in names:
            o = chosen[n]
            load = rate[n] * o["hold_ms"] / 1000
            tail = (1 - percentile / 100) / (2 * longest[n])
            cap = service(n)["utilisation_cap"]
            k = serving_pods(o["slots"], load, o["hold_ms"], o["hold_cv"], cap, allowance[n], tail)
            a = service(n)["availability"]
            target = availability ** (1 / longest[n])
            replicas = max(k, floor)
            while with_rollouts(k, replicas, a, rollout_share()) + 1e-12 < target:
                replicas += 1
            reach = sum(channels[p["entry"]] for _, p, _ in paths if n in stages(p))
            storage = reach * service(n)["storage_gb_per_channel"]
            storage += replicas * o["storage_per_replica"]
            gpu = o["gpus"] * gpu_hour(o["gpu_type"]) if o["gpu_type"] else 0.0
            cost += monthly(
                replicas * o["cpu_m"], replicas * o["memory_mib"], replicas * gpu, storage
            )
            plan[n] = {"run": o, "k": k, "replicas": replicas, "storage_gb": storage, "load": load}
        if best is None or cost < best[0] - 0.005:
            best = (cost, {"services": plan, "floors": floors, "paths": paths})
    assert best is not None, "no feasible combination"
    return best[1]


def service_order() -> list[str]:
    return list(preset("services.yaml")["services"])


def stages(path: dict[str, Any]) -> list[str]:
    return [s["service"] for s in path["stages"]]


def queue_stage(
    run: dict[str, Any], rate_per_s: float, pods: int
) -> tuple[float, float, float, float]:
    """(response mean, cv, P(wait), E[W | W > 0]) of a stage on `pods` pods of `run`."""
    a = rate_per_s * run["hold_ms"] / 1000 / pods
    c = erlang_c(run["slots"], a)
    return (
        run["response_ms"],
        run["response_cv"],
        c,
        wait_mean(run["slots"], a, run["hold_ms"], run["hold_cv"], c),
    )

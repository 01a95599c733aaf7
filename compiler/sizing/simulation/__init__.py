"""Discrete-event simulation of a sizing plan: the independent check of the model's percentiles.

Input: a plan JSON as `ecp calc --format json` prints it (`paths[]`, `services[].queue`).
Output: simulated end-to-end samples per path and queue statistics per service.
It must not read the catalogue or presets, nor share code with the analytic model
(compiler.sizing's other modules): it re-derives every number from the JSON alone. Tests, bench/
and `ecp calc --simulate` import it; the compile path never does (an import-linter contract).

Semantics: each path is a Poisson stream at its `arrival_rate_per_s`; a request visits the path's
stages in order; at each it is routed to one of `pods` pods (random, least-request: fewest in
service + waiting, ties lowest index, or shared: one FIFO in front of every slot), waits FIFO for
one of `slots_per_pod` slots (W), holds it for S ~ D(hold_ms, hold_cv), and moves on after W + R,
R = S if `response_is_hold` else an independent D(response_ms, response_cv). D is Gamma with shape
1/cv^2 (cv 0: the constant mean). Load a service's `arrival_rate_per_s` has beyond its paths' sum
(more than 1 %) runs as a background stream. The first `warmup_fraction` of each path's requests
are simulated but not measured; service statistics cover the window from the moment every path is
past its warm-up to the moment the last path generated its last measured request. All paths keep
generating until every measured request has finished, so late requests see the full load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.errors import Location, ValidationFailed
from compiler.sizing.simulation.compare import PathComparison, compare
from compiler.sizing.simulation.engine import run
from compiler.sizing.simulation.plan_input import read_plan
from compiler.sizing.simulation.results import (
    PathResult,
    ServiceResult,
    SimulationResult,
    interpolated_percentile,
)

__all__ = [
    "PathComparison",
    "PathResult",
    "ServiceResult",
    "SimulationResult",
    "compare",
    "interpolated_percentile",
    "simulate",
]

MAX_REQUESTS_PER_PATH = 10_000_000


def _check_run(requests_per_path: object, seed: object, warmup_fraction: object) -> None:
    if (
        isinstance(requests_per_path, bool)
        or not isinstance(requests_per_path, int)
        or not 10 <= requests_per_path <= MAX_REQUESTS_PER_PATH
    ):
        raise ValidationFailed(
            f"requests_per_path must be an integer from 10 to {MAX_REQUESTS_PER_PATH:,}, "
            f"got {requests_per_path!r}",
            location=Location(field="requests_per_path"),
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationFailed(
            f"seed must be an integer, got {seed!r}", location=Location(field="seed")
        )
    if (
        isinstance(warmup_fraction, bool)
        or not isinstance(warmup_fraction, int | float)
        or not 0 <= warmup_fraction <= 0.9
    ):
        raise ValidationFailed(
            f"warmup_fraction must be from 0 to 0.9, got {warmup_fraction!r}",
            location=Location(field="warmup_fraction"),
        )


def simulate(
    plan_json: Mapping[str, Any],
    *,
    requests_per_path: int = 20_000,
    seed: int = 0,
    warmup_fraction: float = 0.1,
) -> SimulationResult:
    """Simulate `plan_json`; raises ValidationFailed (VALIDATION_ERROR) on bad or unstable input."""
    _check_run(requests_per_path, seed, warmup_fraction)
    return run(read_plan(plan_json), requests_per_path, seed, float(warmup_fraction))

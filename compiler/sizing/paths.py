"""A tenant's user-facing paths (presets/paths.yaml) and what each lets its stages spend.

Input: channels per service, the SLA and the catalogue. Output: the paths the tenant has, the
arrival rate each brings to each service, and per service a wait allowance (ms) and a tail
share. The rule that makes a plan's percentile a bound: with every stage's P(W > allowance) <=
(1 - p) / (2 m) and the path's idle time at percentile (100 + p) / 2 within SLA - sum of the
allowances, P(path > SLA) <= 1 - p (Bonferroni). Nothing here depends on load except the rates.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from compiler.catalogue import Catalogue, PathDef
from compiler.errors import SlaUnachievable
from compiler.sizing.distribution import IdleDistribution, idle_distribution
from compiler.sizing.options import ServiceOption


@dataclass(frozen=True, slots=True)
class TenantPath:
    definition: PathDef
    rate_per_s: float

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def services(self) -> tuple[str, ...]:
        return self.definition.services


def tenant_paths(channels: Mapping[str, int], catalogue: Catalogue) -> tuple[TenantPath, ...]:
    return tuple(
        TenantPath(path, channels[path.entry] * path.requests_per_channel_per_s)
        for path in catalogue.paths.values()
        if channels.get(path.entry, 0) > 0
    )


def idle_of(options: Sequence[ServiceOption], catalogue: Catalogue) -> IdleDistribution:
    """The distribution of the sum of the options' response times with no waits (memoised on
    the catalogue: it depends on the catalogue's figures alone)."""
    key = ("idle", tuple((o.service, o.key) for o in options))
    memo = catalogue.memo
    if key not in memo:
        memo[key] = idle_distribution([(o.response_ms, o.response_cv) for o in options])
    idle: IdleDistribution = memo[key]
    return idle


def idle_percentile(
    options: Sequence[ServiceOption], percentile: float, catalogue: Catalogue
) -> float:
    """The percentile of the options' summed response times with no waits."""
    return idle_of(options, catalogue).quantile(percentile / 100)


def check_percentile(percentile: float) -> float:
    """The idle percentile the Bonferroni rule checks: half the tail goes to waits."""
    return (100 + percentile) / 2


@dataclass(frozen=True, slots=True)
class Budget:
    """Per service: the wait it may spend (ms) and how rarely it may wait longer."""

    allowance_ms: dict[str, float]
    tail: dict[str, float]
    fastest_floor_ms: dict[str, float]  # per path: the check floor on the fastest hardware


def budget(
    paths: Sequence[TenantPath],
    options: Mapping[str, Sequence[ServiceOption]],
    sla_ms: float,
    percentile: float,
    catalogue: Catalogue,
) -> Budget:
    check = check_percentile(percentile)
    share = catalogue.sizing_policy.wait_share
    allowance: dict[str, float] = {}
    longest: dict[str, int] = {}
    fastest: dict[str, float] = {}
    for path in paths:
        floor = _fastest(path, options, check, catalogue)
        fastest[path.name] = floor
        if floor > sla_ms:
            raise unachievable(path, floor, sla_ms, percentile, options, catalogue)
        each = share * (sla_ms - floor) / len(path.services)
        for s in path.services:
            allowance[s] = min(allowance.get(s, each), each)
            longest[s] = max(longest.get(s, 0), len(path.services))
    tail = {s: (1 - percentile / 100) / (2 * m) for s, m in longest.items()}
    return Budget(allowance, tail, fastest)


def _fastest(
    path: TenantPath,
    options: Mapping[str, Sequence[ServiceOption]],
    level: float,
    catalogue: Catalogue,
) -> float:
    """The path's idle percentile on its fastest combination of options (memoised)."""
    lists = [tuple(options[s]) for s in path.services]
    key = ("fastest", path.services, tuple(tuple(o.key for o in opts) for opts in lists), level)
    if key not in catalogue.memo:
        catalogue.memo[key] = min(
            idle_percentile(c, level, catalogue) for c in itertools.product(*lists)
        )
    floor: float = catalogue.memo[key]
    return floor


def unachievable(
    path: TenantPath,
    check_floor: float,
    sla_ms: float,
    percentile: float,
    options: Mapping[str, Sequence[ServiceOption]],
    catalogue: Catalogue,
) -> SlaUnachievable:
    idle = _fastest(path, options, percentile, catalogue)
    nearest = int(check_floor) + 1
    p = f"p{percentile:g}"
    return SlaUnachievable(
        f"path {path.name} ({' -> '.join(path.services)}) cannot meet {sla_ms:g}ms at {p}: "
        f"its idle floor is {idle:.1f}ms at {p} on the fastest hardware in presets/; the "
        f"nearest feasible target is {nearest}ms",
        details={
            "field": "sla_target.response_time",
            "path": path.name,
            "percentile": percentile,
            "idle_floor_ms": round(idle, 1),
            "target_ms": sla_ms,
            "nearest_feasible_ms": nearest,
        },
    )

"""A tenant's user-facing paths (presets/paths.yaml) and what each lets its stages spend.

Input: channels per service, the SLA and the catalogue. Output: the paths the tenant has, the
arrival rate each brings to each service, per service a tail share, and for a choice of hardware
per service a wait allowance (ms). The rule that makes a plan's percentile a bound: with every
stage's P(W > allowance) <= (1 - p) / (2 m) and the path's idle time at percentile (100 + p) / 2
within SLA - sum of the allowances, P(path > SLA) <= 1 - p (Bonferroni). A stage's allowance is
`wait_share` of its path's slack ON THE HARDWARE CHOSEN, split over the path's stages (the least
over its paths), so a choice of hardware is judged by its own floor, and an option added to the
catalogue never changes the plans of the others. Nothing here depends on load except the rates.
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
    the catalogue by the response figures alone: runs that share a latency share it)."""
    key = ("idle", tuple((o.response_ms, o.response_cv) for o in options))
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


def check_floor(options: Sequence[ServiceOption], percentile: float, catalogue: Catalogue) -> float:
    """A path's idle percentile at the check level on these options, one per stage (memoised
    on the catalogue by the response figures and the percentile)."""
    key = ("check", tuple((o.response_ms, o.response_cv) for o in options), percentile)
    memo = catalogue.memo
    floor: float | None = memo.get(key)
    if floor is None:
        floor = idle_percentile(options, check_percentile(percentile), catalogue)
        memo[key] = floor
    return floor


@dataclass(frozen=True, slots=True)
class Budget:
    """Per service: how rarely it may wait longer than its allowance; per path: its check floor
    on the fastest hardware (below which no plan exists)."""

    tail: dict[str, float]
    fastest_floor_ms: dict[str, float]  # per path: the check floor on the fastest hardware


def budget(
    paths: Sequence[TenantPath],
    options: Mapping[str, Sequence[ServiceOption]],
    sla_ms: float,
    percentile: float,
    catalogue: Catalogue,
) -> Budget:
    """The tails, and the refusal of a path that no hardware in presets/ can serve in time."""
    check = check_percentile(percentile)
    longest: dict[str, int] = {}
    fastest: dict[str, float] = {}
    for path in paths:
        floor = _fastest(path, options, check, catalogue)
        fastest[path.name] = floor
        if floor > sla_ms:
            raise unachievable(path, floor, sla_ms, percentile, options, catalogue)
        for s in path.services:
            longest[s] = max(longest.get(s, 0), len(path.services))
    tail = {s: (1 - percentile / 100) / (2 * m) for s, m in longest.items()}
    return Budget(tail, fastest)


def wait_allowances(
    floors: Mapping[str, float], paths: Sequence[TenantPath], sla_ms: float, share: float
) -> dict[str, float]:
    """Each service's wait allowance for one choice of hardware: `share` of the slack of every
    path through it (SLA - that path's check floor on the hardware chosen, `floors`), split over
    the path's stages; the least over its paths. Their sum along a path is at most share x its
    slack, so a path whose floor fits the SLA keeps the rest for its idle time."""
    out: dict[str, float] = {}
    for path in paths:
        each = share * (sla_ms - floors[path.name]) / len(path.services)
        for s in path.services:
            out[s] = min(out.get(s, each), each)
    return out


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

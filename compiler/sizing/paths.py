"""A tenant's user-facing paths (presets/paths.yaml) and what each lets its stages spend.

Input: channels per service, the SLA and the catalogue. Output: the paths the tenant has, the
arrival rate each brings to each service, per service a tail share, and for a choice of hardware
per service a wait allowance (ms). The rule that makes a plan's percentile a bound: with every
stage's P(W > allowance) <= (1 - p) / (2 m) and the path's idle time at percentile (100 + p) / 2
within SLA - sum of the allowances, P(path > SLA) <= 1 - p (Bonferroni). A stage's allowance on
a path is `wait_share` of the path's slack with THE STAGE'S OWN hardware and the fastest of the
tenant's options at the other stages, split over the path's stages (the least over its paths);
a choice of hardware is feasible when the path's floor on it plus its stages' allowances fit the
SLA. So a stage's allowance depends on its own hardware alone, never on what the other stages
run: a harder request (more channels, a stricter SLA or percentile) never gives a service whose
hardware did not change a larger allowance, hence never fewer serving pods (issue 8, monotone).
Nothing here depends on load except the rates.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.catalogue import Catalogue, PathDef
from compiler.errors import SlaUnachievable
from compiler.sizing.distribution import IdleDistribution, idle_distribution
from compiler.sizing.memo import load_memo
from compiler.sizing.options import ServiceOption


@dataclass(frozen=True, slots=True)
class TenantPath:
    definition: PathDef
    rate_per_s: float
    # the definition's, copied in: sizing reads them tens of times per tenant
    name: str = field(init=False, compare=False)
    services: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.definition.name)
        object.__setattr__(self, "services", self.definition.services)


def tenant_paths(channels: Mapping[str, int], catalogue: Catalogue) -> tuple[TenantPath, ...]:
    """The paths whose entry has channels, with their rates (memoised on the channels: a
    tenant's sizing asks twice, and tenants with the same channels share them)."""
    memo = load_memo(catalogue)
    key = ("tenant paths", tuple(channels.items()))
    found: tuple[TenantPath, ...] | None = memo.get(key)
    if found is None:
        found = tuple(
            _tenant_path(path, channels[path.entry], memo)
            for path in catalogue.paths.values()
            if channels.get(path.entry, 0) > 0
        )
        memo[key] = found
    return found


def _tenant_path(path: PathDef, channels: int, memo: dict[Any, Any]) -> TenantPath:
    """The path at `channels` on its entry (memoised: tenants share a path's channel count far
    more often than all of their channels)."""
    key = ("tenant path", path.name, channels)
    found: TenantPath | None = memo.get(key)
    if found is None:
        found = TenantPath(path, channels * path.requests_per_channel_per_s)
        memo[key] = found
    return found


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


def stage_share(
    path: TenantPath,
    name: str,
    option: ServiceOption,
    options: Mapping[str, Sequence[ServiceOption]],
    runs: Mapping[str, tuple[str, str | None]],
    sla_ms: float,
    percentile: float,
    catalogue: Catalogue,
) -> float:
    """`name`'s wait allowance on `path` with `option`: wait_share x (SLA - the path's check
    floor with `option` at `name` and the fastest of `options` at the other stages) / stages.
    Memoised on the catalogue: the stages' options (named by `runs`, each service's engine and
    GPU pin: options_for's key), the SLA and the percentile decide it."""
    named = tuple(runs[s] for s in path.services)
    key = ("stage share", path.services, name, option.key, named, sla_ms, percentile)
    found: float | None = catalogue.memo.get(key)
    if found is None:
        lists = [(option,) if s == name else tuple(options[s]) for s in path.services]
        floor = min(check_floor(c, percentile, catalogue) for c in itertools.product(*lists))
        share = catalogue.sizing_policy.wait_share
        found = share * (sla_ms - floor) / len(path.services)
        catalogue.memo[key] = found
    return found


def stage_shares(
    path: TenantPath,
    chosen: Mapping[str, ServiceOption],
    options: Mapping[str, Sequence[ServiceOption]],
    runs: Mapping[str, tuple[str, str | None]],
    sla_ms: float,
    percentile: float,
    catalogue: Catalogue,
) -> dict[str, float]:
    """stage_share of each stage of `path` that `chosen` names, with its chosen option."""
    return {
        s: stage_share(path, s, chosen[s], options, runs, sla_ms, percentile, catalogue)
        for s in path.services
        if s in chosen
    }


def wait_allowances(shares: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Each service's wait allowance: the least of its shares over the paths through it
    (`shares`: per path, per stage, stage_share), in the paths' order."""
    out: dict[str, float] = {}
    for per_stage in shares.values():
        for s, each in per_stage.items():
            out[s] = min(out.get(s, each), each)
    return out


def path_fits(floor: float, shares: Mapping[str, float], sla_ms: float) -> bool:
    """Whether a path's check floor on the chosen hardware plus its stages' allowances on it
    fit the SLA (the Bonferroni rule's condition; the allowances are at most these shares)."""
    return floor + sum(shares.values()) <= sla_ms + 1e-9


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

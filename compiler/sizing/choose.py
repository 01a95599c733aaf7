"""Choose the hardware per service and the tier: the cheapest plan whose every path meets the SLA.

A service's pods depend only on its own option, load and budget (paths.py), so a plan's cost
is a sum over services and its feasibility a rule per path over the options of the path's
stages. Services linked by paths are searched together (every combination of their options);
unlinked groups independently. Tiers are quota envelopes: the recommended tier is the smallest
that holds the cheapest plan; an explicit preset (or the largest tier) restricts the search to
plans that fit it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from compiler.catalogue import Catalogue, Tier
from compiler.errors import InsufficientResources, SlaUnachievable
from compiler.sizing.cost import plan_cost, service_cost
from compiler.sizing.models import ResourcePlan, ServicePlan
from compiler.sizing.options import ServiceOption, options_for
from compiler.sizing.paths import (
    Budget,
    TenantPath,
    budget,
    check_percentile,
    idle_percentile,
    tenant_paths,
)
from compiler.sizing.plan import misfits, plan_service, predict_paths, totals_of
from compiler.sizing.queueing import pods_under_cap
from compiler.spec.models import SERVICES, CalculateRequest, SlaTarget, TenantSpec

MAX_JOINT_PLANS = 20_000  # combinations tried when the cheapest plan does not fit the tier
USER_FACING = ("callbot", "chatbot", "advisor")  # services whose every channel has a person


@dataclass(frozen=True)
class Demand:
    """What sizing needs to know, whichever shell it came from."""

    requested: Mapping[str, int]
    sla: SlaTarget
    preset: str | None
    gpu_type: str | None
    engines: Mapping[str, str]
    images: Mapping[str, str]


Combo = tuple[ServiceOption, ...]


class Sizer:
    """One demand against one catalogue: options, budget, and service plans per option."""

    def __init__(self, demand: Demand, catalogue: Catalogue) -> None:
        self.demand = demand
        self.catalogue = catalogue
        self.percentile = demand.sla.percentile_value(catalogue.sizing_policy.default_percentile)
        self.sla_ms = demand.sla.response_time_ms
        self.paths = tenant_paths(demand.requested, catalogue)
        used = {s for p in self.paths for s in p.services}
        self.names = tuple(s for s in SERVICES if s in used)
        self.options = {
            s: options_for(s, demand.engines.get(s, "nlu"), demand.gpu_type, catalogue)
            for s in self.names
        }
        self.budget: Budget = budget(
            self.paths, self.options, self.sla_ms, self.percentile, catalogue
        )
        self.rate = {s: sum(p.rate_per_s for p in self.paths if s in p.services) for s in used}
        self.reach = {
            s: float(
                sum(demand.requested[p.definition.entry] for p in self.paths if s in p.services)
            )
            for s in used
        }
        self.longest = {
            s: max(len(p.services) for p in self.paths if s in p.services) for s in used
        }
        self._plans: dict[tuple[str, str], ServicePlan] = {}

    def service(self, option: ServiceOption) -> ServicePlan:
        key = (option.service, option.key)
        if key not in self._plans:
            name = option.service
            self._plans[key] = plan_service(
                option,
                direct=self.demand.requested.get(name, 0),
                effective_channels=self.reach[name],
                rate_per_s=self.rate[name],
                allowance_ms=self.budget.allowance_ms[name],
                tail=self.budget.tail[name],
                availability_target=self.demand.sla.availability_fraction,
                longest_path=self.longest[name],
                catalogue=self.catalogue,
                image=self.demand.images.get(name) or self.catalogue.image(name),
            )
        return self._plans[key]

    def path_feasible(self, path: TenantPath, chosen: Mapping[str, ServiceOption]) -> bool:
        room = self.sla_ms - sum(self.budget.allowance_ms[s] for s in path.services)
        options = tuple(chosen[s] for s in path.services)
        key = ("check", tuple(o.key for o in options), path.services, self.percentile)
        memo = self.catalogue.memo
        if key not in memo:
            memo[key] = idle_percentile(options, check_percentile(self.percentile), self.catalogue)
        floor: float = memo[key]
        return floor <= room + 1e-9

    def lower_bound(self, option: ServiceOption) -> float:
        """A cost no plan on `option` can undercut: the pods the utilisation cap alone needs."""
        pods = pods_under_cap(option, self.rate[option.service])
        return pods * option.hourly_price(self.catalogue) * self.catalogue.prices.hours_per_month

    def groups(self) -> list[tuple[str, ...]]:
        """Services linked by a path, as connected groups in catalogue order."""
        group_of = {s: {s} for s in self.names}
        for path in self.paths:
            merged = set().union(*(group_of[s] for s in path.services))
            for s in merged:
                group_of[s] = merged
        seen: list[tuple[str, ...]] = []
        for s in self.names:
            g = tuple(n for n in self.names if n in group_of[s])
            if g not in seen:
                seen.append(g)
        return seen

    def group_plans(self, group: tuple[str, ...], every: bool = False) -> list[tuple[float, Combo]]:
        """The group's feasible combinations of options, cheapest first: only the cheapest (and
        its ties) unless `every`; combinations whose lower bound already costs more are not
        planned."""
        paths = [p for p in self.paths if p.services[0] in group]
        bounded = []
        for index, combo in enumerate(itertools.product(*(self.options[s] for s in group))):
            chosen = dict(zip(group, combo, strict=True))
            if all(self.path_feasible(p, chosen) for p in paths):
                bounded.append((sum(self.lower_bound(o) for o in combo), index, combo))
        bounded.sort(key=lambda b: (b[0], b[1]))
        found: list[tuple[float, int, Combo]] = []
        for bound, index, combo in bounded:
            if not every and found and bound > found[0][0] + 0.01:
                break
            try:
                cost = round(sum(service_cost(self.service(o), self.catalogue) for o in combo), 2)
            except InsufficientResources:
                continue  # a run that would need more pods than any namespace holds
            found.append((cost, index, combo))
            found.sort(key=lambda f: (f[0], f[1]))
        if not found:
            raise SlaUnachievable(
                f"no combination of hardware for {', '.join(group)} meets {self.sla_ms:g}ms at "
                f"p{self.percentile:g} on every path at once",
                details={"field": "sla_target.response_time"},
            )
        return [(cost, combo) for cost, _, combo in found]  # ties: catalogue order

    def finish(self, combo: Sequence[ServiceOption]) -> tuple[ServicePlan, ...]:
        ordered = sorted(combo, key=lambda o: SERVICES.index(o.service))
        return tuple(self.service(option) for option in ordered)


def _joint(
    sizer: Sizer, lists: list[list[tuple[float, Combo]]], tier: Tier
) -> tuple[ServicePlan, ...] | None:
    """The cheapest joint plan (one combination per group) that fits `tier`."""
    cheapest = tuple(o for group in lists for o in group[0][1])
    services = tuple(sizer.service(o) for o in cheapest)
    if not misfits(totals_of(services), tier):
        return services
    lists = [sizer.group_plans(g, every=True) for g in sizer.groups()]
    best: tuple[float, tuple[ServicePlan, ...]] | None = None
    for count, pick in enumerate(itertools.product(*lists)):
        if count >= MAX_JOINT_PLANS:
            break
        cost = sum(c for c, _ in pick)
        if best is not None and cost >= best[0]:
            continue
        trial = tuple(sizer.service(o) for _, combo in pick for o in combo)
        if not misfits(totals_of(trial), tier):
            best = (cost, trial)
    return best[1] if best else None


def choose(demand: Demand, catalogue: Catalogue) -> tuple[ResourcePlan, Sizer]:
    sizer = Sizer(demand, catalogue)
    lists = [sizer.group_plans(g) for g in sizer.groups()]
    tiers = [catalogue.tiers[demand.preset]] if demand.preset else catalogue.tiers_ascending()
    envelope = tiers[-1]
    chosen = _joint(sizer, lists, envelope)
    if chosen is None:
        cheapest = tuple(sizer.service(o) for group in lists for o in group[0][1])
        raise _too_big(demand, envelope, cheapest)
    services = sizer.finish([s.option for s in chosen])
    totals = totals_of(services)
    tier = next(t for t in tiers if not misfits(totals, t))
    plan = ResourcePlan(
        services=services,
        paths=predict_paths(
            sizer.paths, {s.name: s for s in services}, sizer.sla_ms, sizer.percentile, catalogue
        ),
        totals=totals,
        tier=tier.name,
        tier_source="explicit" if demand.preset else "recommended",
        cost=plan_cost(services, catalogue),
        availability_target=demand.sla.availability_fraction,
        response_target_ms=sizer.sla_ms,
        percentile=sizer.percentile,
        warnings=tuple(_warnings(demand)),
    )
    return plan, sizer


def _too_big(
    demand: Demand, tier: Tier, services: tuple[ServicePlan, ...]
) -> InsufficientResources:
    totals = totals_of(services)
    problems = misfits(totals, tier)
    what = f"preset {tier.name}" if demand.preset else f"the largest tier ({tier.name})"
    return InsufficientResources(
        f"{what} cannot hold the plan: the cheapest that meets the SLA needs {'; '.join(problems)}",
        details={
            "preset": tier.name,
            "gpu_types": {s.name: s.gpu_type for s in services if s.gpu_type},
            "required": totals.as_resources(),
            "available": {
                "cpu": tier.cpu,
                "memory": tier.memory,
                "gpu": tier.gpu,
                "storage": tier.storage,
            },
            "exceeded": problems,
            "field": "preset" if demand.preset else "service_requirements",
        },
    )


def _warnings(demand: Demand) -> list[str]:
    users = demand.sla.concurrent_users
    facing = sum(demand.requested.get(s, 0) for s in USER_FACING)
    if users is not None and users < facing:
        return [
            f"sla_target.concurrent_users {users} is below the {facing} user-facing channels "
            f"({', '.join(USER_FACING)}): each such channel has a person in it, so the plan is "
            "sized for the channels"
        ]
    return []


def demand_of(spec: TenantSpec | CalculateRequest) -> Demand:
    return Demand(
        requested=spec.service_requirements.enabled(),
        sla=spec.sla_target,
        preset=spec.preset,
        gpu_type=spec.gpu_type,
        engines={str(k): str(v) for k, v in spec.engines.items()},
        images=getattr(spec, "images", {}),
    )

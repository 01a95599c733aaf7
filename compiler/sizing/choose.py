"""Pick the tier for a tenant, and the cheaper alternative one tier down.

plan_tenant(spec) and calculate(request) share `choose`: try each tier from the smallest (or only
the explicit preset), with the spec's GPU type or else the tier's node-pool GPU type; the first
tier whose envelope holds the plan wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from compiler.catalogue import Catalogue, Tier
from compiler.errors import InsufficientResources
from compiler.sizing.availability import at_least_k_up
from compiler.sizing.cost import monthly_cost
from compiler.sizing.models import Alternative, ResourcePlan, ServicePlan
from compiler.sizing.plan import effective_channels, misfits, plan_service, predict, totals_of
from compiler.spec.models import PRESETS, CalculateRequest, SlaTarget, TenantSpec


@dataclass(frozen=True)
class Demand:
    """What sizing needs to know, whichever shell it came from."""

    requested: Mapping[str, int]
    sla: SlaTarget
    preset: str | None
    gpu_type: str | None
    images: Mapping[str, str]


def _gpu_type_for(
    demand: Demand, tier: Tier, catalogue: Catalogue, channels: Mapping[str, float]
) -> str | None:
    """The spec's GPU type, else the tier's node pool's; None when no service uses a GPU."""
    if not any(catalogue.services[n].gpu for n, c in channels.items() if c > 0):
        return None
    return demand.gpu_type or tier.gpu_type


class _Planner:
    """Plans one demand under several GPU types, planning each service once per GPU type.

    A service's plan does not depend on the tier, and a CPU service's not on the GPU type, so
    trying every tier x GPU type costs one plan per (service, GPU type) at most.
    """

    def __init__(self, demand: Demand, catalogue: Catalogue) -> None:
        self.demand = demand
        self.catalogue = catalogue
        self.channels = effective_channels(demand.requested, catalogue)
        self._memo: dict[tuple[str, str | None], ServicePlan] = {}

    def gpu_type(self, tier: Tier) -> str | None:
        return _gpu_type_for(self.demand, tier, self.catalogue, self.channels)

    def service(self, name: str, gpu_type: str | None, explain: list[str] | None) -> ServicePlan:
        profile = self.catalogue.services[name]
        key = (name, gpu_type if profile.gpu else None)
        if explain is None and key in self._memo:
            return self._memo[key]
        d = self.demand
        plan = plan_service(
            name,
            d.requested.get(name, 0),
            self.channels[name],
            self.catalogue,
            key[1],
            d.sla.availability_fraction,
            d.sla.response_time_ms,
            explain,
            image=d.images.get(name),
        )
        self._memo[key] = plan
        return plan

    def plan(
        self, tier: Tier, source: str, gpu_type: str | None, explain: list[str] | None = None
    ) -> ResourcePlan:
        services = tuple(
            self.service(name, gpu_type, explain)
            for name, count in self.channels.items()
            if count > 0
        )
        totals = totals_of(services)
        return ResourcePlan(
            services=services,
            totals=totals,
            tier=tier.name,
            tier_source=source,
            gpu_type=gpu_type,
            cost=monthly_cost(totals, gpu_type, self.catalogue),
            availability_target=self.demand.sla.availability_fraction,
            response_target_ms=self.demand.sla.response_time_ms,
            explanation=tuple(explain or ()),
        )


def choose(demand: Demand, catalogue: Catalogue, *, explain: bool = False) -> ResourcePlan:
    planner = _Planner(demand, catalogue)
    tiers = [catalogue.tiers[demand.preset]] if demand.preset else catalogue.tiers_ascending()
    source = "explicit" if demand.preset else "recommended"
    plan: ResourcePlan | None = None
    for tier in tiers:
        plan = planner.plan(tier, source, planner.gpu_type(tier))
        if misfits(plan.totals, tier):
            continue
        if not explain:
            return plan
        lines: list[str] = []
        full = planner.plan(tier, source, plan.gpu_type, lines)
        lines.extend(_tier_lines(full, tiers))
        lines.extend(_cost_lines(full))
        return replace(full, explanation=tuple(lines))
    assert plan is not None  # at least one tier was tried
    tier = tiers[-1]
    problems = misfits(plan.totals, tier)
    what = f"preset {tier.name}" if demand.preset else f"the largest tier ({tier.name})"
    raise InsufficientResources(
        f"{what} cannot hold the plan: {'; '.join(problems)}",
        details={
            "preset": tier.name,
            "gpu_type": plan.gpu_type,
            "required": plan.totals.as_resources(),
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


def _tier_lines(plan: ResourcePlan, tiers: list[Tier]) -> list[str]:
    t = plan.totals
    lines = [
        f"totals: CPU {t.cpu_millicores}m, memory {t.memory_mib}Mi, GPU {t.gpu}"
        + (f" ({plan.gpu_type})" if plan.gpu_type else "")
        + f", storage {t.storage_gb:g}GB"
    ]
    for tier in tiers:
        problems = misfits(t, tier)
        verdict = "fits" if not problems else "does not fit: " + "; ".join(problems)
        lines.append(
            f"tier {tier.name} ({tier.cpu}, {tier.memory}, {tier.gpu} GPU, {tier.storage}): "
            f"{verdict}"
        )
        if not problems:
            break
    return lines


def _cost_lines(plan: ResourcePlan) -> list[str]:
    c = plan.cost
    return [
        f"cost: CPU ${c.cpu:,.2f} + memory ${c.memory:,.2f} + GPU ${c.gpu:,.2f} "
        f"+ storage ${c.storage:,.2f} = ${c.total:,.2f}/month"
    ]


def _weighted_response(services: list[ServicePlan] | tuple[ServicePlan, ...]) -> float:
    load = sum(s.offered_load for s in services)
    if load <= 0:
        return sum(s.predicted_response_ms for s in services) / len(services)
    return sum(s.predicted_response_ms * s.offered_load for s in services) / load


def _with_replicas(plan: ServicePlan, replicas: int, catalogue: Catalogue) -> ServicePlan | None:
    servers = replicas * plan.slots_per_replica
    if plan.offered_load >= servers:
        return None  # the queue would grow without bound
    profile = catalogue.services[plan.name]
    p_wait, response = predict(profile, plan.offered_load, servers)
    storage = plan.storage_gb - (plan.replicas - replicas) * profile.storage_gb_per_replica
    return replace(
        plan,
        replicas=replicas,
        p_wait=p_wait,
        predicted_response_ms=response,
        achieved_availability=at_least_k_up(
            min(replicas, plan.replicas_for_capacity), replicas, profile.availability
        ),
        storage_gb=round(storage, 3),
    )


def alternative(demand: Demand, plan: ResourcePlan, catalogue: Catalogue) -> Alternative | None:
    """The next smaller tier: squeeze replicas until the plan fits, and predict the slowdown."""
    index = PRESETS.index(plan.tier)
    if index == 0:
        return None
    tier = catalogue.tiers[PRESETS[index - 1]]
    planner = _Planner(demand, catalogue)
    gpu = planner.gpu_type(tier)
    services = list(planner.plan(tier, "alternative", gpu).services)
    while misfits(totals_of(services), tier):
        options = []
        for i, service in enumerate(services):
            if service.replicas > 1:
                smaller = _with_replicas(service, service.replicas - 1, catalogue)
                if smaller is not None:
                    trial = [*services[:i], smaller, *services[i + 1 :]]
                    options.append((_weighted_response(trial), i, smaller))
        if not options:
            return None  # even one replica each (or a stable queue) does not fit the tier
        _, i, smaller = min(options, key=lambda o: (o[0], o[1]))
        services[i] = smaller
    totals = totals_of(services)
    candidate = Alternative(
        tier=tier.name,
        totals=totals,
        cost=monthly_cost(totals, gpu, catalogue),
        predicted_response_ms=_weighted_response(services),
        baseline_response_ms=_weighted_response(plan.services),
        achieved_availability=min(s.achieved_availability for s in services),
    )
    # A smaller tier that costs more (a pricier GPU type carrying the load alone) is no
    # alternative to offer: it would be both slower and dearer.
    return candidate if candidate.cost.total < plan.cost.total else None


def demand_of(spec: TenantSpec | CalculateRequest) -> Demand:
    return Demand(
        requested=spec.service_requirements.enabled(),
        sla=spec.sla_target,
        preset=spec.preset,
        gpu_type=spec.gpu_type,
        images=getattr(spec, "images", {}),
    )


def plan_tenant(spec: TenantSpec, catalogue: Catalogue, *, explain: bool = False) -> ResourcePlan:
    return choose(demand_of(spec), catalogue, explain=explain)

"""Choose the hardware per service and the tier: the cheapest plan whose every path meets the SLA.

A service's pods depend only on its own option, load and budget (paths.py), so a plan's cost
is a sum over services (with the spares a session path needs beside the store, search.py) and
its feasibility a rule per path over the options of the path's stages. Services linked by paths
are searched together (search.py: every combination of their options); unlinked groups
independently. Tiers are quota envelopes: the recommended tier is the smallest that holds the
cheapest plan; an explicit preset (or the largest tier) restricts the search to plans that fit
it. Sizer (sizer.py) and Demand (demand.py) are re-exported here.
"""

from __future__ import annotations

import itertools

from compiler.catalogue import Catalogue, Tier
from compiler.errors import InsufficientResources
from compiler.sizing.cost import plan_cost
from compiler.sizing.demand import Demand, demand_of, demand_warnings
from compiler.sizing.models import ResourcePlan, ServicePlan
from compiler.sizing.plan import misfits, predict_paths, totals_of
from compiler.sizing.search import Combo, group_plans
from compiler.sizing.sizer import Sizer

__all__ = ["Demand", "Sizer", "choose", "demand_of"]

MAX_JOINT_PLANS = 20_000  # combinations tried when the cheapest plan does not fit the tier


def _joint(
    sizer: Sizer, lists: list[list[tuple[float, Combo]]], tier: Tier
) -> tuple[ServicePlan, ...] | None:
    """The cheapest joint plan (one combination per group) that fits `tier`."""
    cheapest = tuple(o for group in lists for o in group[0][1])
    services = sizer.plans_of(cheapest)
    if not misfits(totals_of(services), tier):
        return services
    lists = [group_plans(sizer, g, every=True) for g in sizer.groups()]
    best: tuple[float, tuple[ServicePlan, ...]] | None = None
    for count, pick in enumerate(itertools.product(*lists)):
        if count >= MAX_JOINT_PLANS:
            break
        cost = sum(c for c, _ in pick)
        if best is not None and cost >= best[0]:
            continue
        trial = sizer.plans_of([o for _, combo in pick for o in combo])
        if not misfits(totals_of(trial), tier):
            best = (cost, trial)
    return best[1] if best else None


def choose(demand: Demand, catalogue: Catalogue) -> tuple[ResourcePlan, Sizer]:
    sizer = Sizer(demand, catalogue)
    lists = [group_plans(sizer, g) for g in sizer.groups()]
    tiers = [catalogue.tiers[demand.preset]] if demand.preset else catalogue.tiers_ascending()
    envelope = tiers[-1]
    chosen = _joint(sizer, lists, envelope)
    if chosen is None:
        cheapest = sizer.plans_of([o for group in lists for o in group[0][1]])
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
        availability_target=sizer.availability,
        response_target_ms=sizer.sla_ms,
        percentile=sizer.percentile,
        warnings=tuple(demand_warnings(demand)),
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

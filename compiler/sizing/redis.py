"""The tenant's Redis in the plan: its tier's size from presets/redis.yaml, added to the totals
(and so to the cost and the tier's envelope) in one place. Pure: no I/O.

plan_with_redis is the one entry point: the services' plan, then Redis counted on it; a
recommended tier that the services fill so tightly that Redis no longer fits moves one tier up
(as the sizing engine would have chosen, had it counted Redis); an explicit preset is refused.
"""

from __future__ import annotations

from dataclasses import replace

from compiler.catalogue import Catalogue, RedisSize
from compiler.errors import InsufficientResources
from compiler.sizing.choose import choose, demand_of
from compiler.sizing.cost import monthly_cost
from compiler.sizing.models import ResourcePlan, Totals
from compiler.sizing.plan import misfits
from compiler.spec.models import PRESETS, TenantSpec


def plan_with_redis(
    spec: TenantSpec, catalogue: Catalogue
) -> tuple[ResourcePlan, RedisSize | None]:
    """The plan with the tenant's Redis counted, and the Redis size (None: no Redis preset)."""
    plan = choose(demand_of(spec), catalogue)
    if catalogue.redis is None:
        return plan, None
    candidates = [plan.tier]
    if plan.tier_source == "recommended":
        candidates = list(PRESETS[PRESETS.index(plan.tier) :])
    demand = demand_of(spec)
    problems: list[str] = []
    for tier in candidates:
        if tier != plan.tier:
            plan = replace(
                choose(replace(demand, preset=tier), catalogue), tier_source="recommended"
            )
        counted = add_redis(plan, catalogue.redis.sizes[tier], catalogue)
        problems = misfits(counted.totals, catalogue.tiers[tier])
        if not problems:
            return counted, catalogue.redis.sizes[tier]
    raise InsufficientResources(
        f"preset {plan.tier} cannot hold the plan with its Redis: {'; '.join(problems)}",
        details={"preset": plan.tier, "exceeded": problems, "field": "preset"},
    )


def add_redis(plan: ResourcePlan, size: RedisSize, catalogue: Catalogue) -> ResourcePlan:
    """`plan` with one Redis replica of `size` in its totals and cost."""
    t = plan.totals
    totals = Totals(
        cpu_millicores=t.cpu_millicores + size.cpu_request_m,
        memory_mib=t.memory_mib + size.memory_mib,
        gpu=t.gpu,
        storage_gb=round(t.storage_gb + size.storage_gb, 3),
    )
    return replace(plan, totals=totals, cost=monthly_cost(totals, plan.gpu_type, catalogue))

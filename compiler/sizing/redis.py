"""The tenant's Redis in the plan: its tier's size from presets/redis.yaml, added to the totals
(and so to the cost and the quota check) in one place, add_redis. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from compiler.catalogue import Catalogue, RedisSize
from compiler.errors import InsufficientResources
from compiler.sizing.cost import monthly_cost
from compiler.sizing.models import ResourcePlan, Totals
from compiler.sizing.plan import misfits


def add_redis(plan: ResourcePlan, catalogue: Catalogue) -> tuple[ResourcePlan, RedisSize | None]:
    """The plan with the tenant's Redis counted, and the Redis size (None: no Redis preset).

    The tier was chosen for the services; Redis is small beside any tier, but a plan that no
    longer fits once it is added is refused here rather than rendered past its quota."""
    if catalogue.redis is None:
        return plan, None
    size = catalogue.redis.sizes[plan.tier]
    t = plan.totals
    totals = Totals(
        cpu_millicores=t.cpu_millicores + size.cpu_request_m,
        memory_mib=t.memory_mib + size.memory_mib,
        gpu=t.gpu,
        storage_gb=round(t.storage_gb + size.storage_gb, 3),
    )
    problems = misfits(totals, catalogue.tiers[plan.tier])
    if problems:
        raise InsufficientResources(
            f"preset {plan.tier} cannot hold the plan with its Redis: {'; '.join(problems)}",
            details={"preset": plan.tier, "required": totals.as_resources(), "field": "preset"},
        )
    cost = monthly_cost(totals, plan.gpu_type, catalogue)
    return replace(plan, totals=totals, cost=cost), size

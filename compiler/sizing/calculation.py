"""calculate-resources: the recommended plan, its alternative, and the reference's answer shape.

The answer is the reference's body plus the plan behind it: `paths[]` and `services[].queue`
(I8-CONTRACT.md), enough for anyone to re-simulate the plan without reading this code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from compiler.catalogue import Catalogue
from compiler.sizing.alternative import impact_text
from compiler.sizing.choose import Sizer, choose, demand_of
from compiler.sizing.deployment_time import deployment_time
from compiler.sizing.explain import explain as explain_lines
from compiler.sizing.models import Alternative, ResourcePlan, path_json, service_json
from compiler.sizing.redis import (
    alternative_with_store,
    plan_with_store,
    planned_with_store,
    store_json,
)
from compiler.spec.models import PRESETS, CalculateRequest, TenantSpec


@dataclass(frozen=True)
class Calculation:
    plan: ResourcePlan
    alternatives: tuple[Alternative, ...]
    catalogue_tiers: dict[str, dict[str, Any]]
    alternative_note: str = ""
    session_store: dict[str, Any] | None = None  # redis.py's store_json: what paths[] multiply in
    deployment_time: str = ""  # sizing/deployment_time.py: "N-M minutes"

    @property
    def explanation(self) -> list[str]:
        lines = list(self.plan.explanation)
        if self.alternative_note:
            lines.append(self.alternative_note)
        for alt in self.alternatives:
            lines.append(
                f"alternative {alt.tier}: pods squeezed to fit (never above a utilisation cap), "
                f"{alt.cost.label()}: "
                + "; ".join(
                    f"{p.name} p{p.percentile:g} {p.predicted_ms:.1f}ms "
                    f"({'meets' if p.meets_sla else 'misses'} {p.sla_ms:g}ms), "
                    f"availability {p.availability:.6f}"
                    for p in alt.paths
                )
            )
        return lines

    def to_response(self) -> dict[str, Any]:
        """The reference's calculate-resources body, plus the plan behind it."""
        plan = self.plan
        return {
            "recommended_preset": plan.tier,
            "resources": self.catalogue_tiers[plan.tier],
            "gpu_type": plan.gpu_type,
            "estimated_cost": plan.cost.label(),
            "alternatives": [
                {
                    "preset": alt.tier,
                    "resources": {
                        k: v for k, v in self.catalogue_tiers[alt.tier].items() if k != "storage"
                    },
                    "cost": alt.cost.label(),
                    "performance_impact": impact_text(alt, plan.availability_target),
                    "monthly_cost_usd": round(alt.cost.total, 2),
                    "required_resources": alt.totals.as_resources(),
                    "paths": [path_json(p) for p in alt.paths],
                    "services": [service_json(s) for s in alt.services],
                }
                for alt in self.alternatives
            ],
            "deployment_time": self.deployment_time,
            "required_resources": plan.totals.as_resources(),
            "monthly_cost_usd": round(plan.cost.total, 2),
            "percentile": plan.percentile,
            "paths": [path_json(p) for p in plan.paths],
            "services": [service_json(s) for s in plan.services],
            "warnings": list(plan.warnings),
            "session_store": self.session_store,
        }


def plan_tenant(
    spec: TenantSpec, catalogue: Catalogue, *, explain: bool = False, own_store: bool | None = None
) -> ResourcePlan:
    """The tenant's plan; with its own session store counted (redis.py) unless the spec names
    an external Redis or `own_store` is False (the redis_url setting serves it)."""
    own = spec.redis_url is None if own_store is None else own_store
    if own and not explain:
        return planned_with_store(demand_of(spec), catalogue)[0]
    if own:
        planned = plan_with_store(demand_of(spec), catalogue)
        plan, sizer = planned.plan, planned.sizer
    else:
        plan, sizer = choose(demand_of(spec), catalogue)
    return _explained(plan, sizer, catalogue) if explain else plan


def _explained(plan: ResourcePlan, sizer: Sizer, catalogue: Catalogue) -> ResourcePlan:
    return replace(plan, explanation=tuple(explain_lines(plan, sizer, catalogue)))


def calculate(
    request: CalculateRequest, catalogue: Catalogue, *, explain: bool = False
) -> Calculation:
    # a calculation is for a tenant with its own session store (presets/redis.yaml), as by default
    planned = plan_with_store(demand_of(request), catalogue)
    plan, sizer = planned.plan, planned.sizer
    if explain:
        plan = _explained(plan, sizer, catalogue)
    alt = alternative_with_store(planned, catalogue)
    note = ""
    if alt is None:
        index = PRESETS.index(plan.tier)
        note = (
            "alternative: none, there is no smaller tier"
            if index == 0
            else f"alternative: none, no squeeze of this plan fits {PRESETS[index - 1]} "
            "for less without exceeding a utilisation cap"
        )
    tiers = {
        name: {"cpu": t.cpu, "memory": t.memory, "gpu": t.gpu, "storage": t.storage}
        for name, t in catalogue.tiers.items()
    }
    return Calculation(
        plan=plan,
        alternatives=(alt,) if alt else (),
        catalogue_tiers=tiers,
        alternative_note=note,
        session_store=store_json(planned.store, plan, catalogue) if planned.store else None,
        deployment_time=deployment_time(plan, catalogue),
    )

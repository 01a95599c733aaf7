"""calculate-resources: the recommended plan, its alternative, and the reference's answer shape.

The answer is the reference's body plus the plan behind it: `paths[]` and `services[].queue`
(I8-CONTRACT.md), enough for anyone to re-simulate the plan without reading this code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from compiler.catalogue import Catalogue
from compiler.sizing.alternative import alternative, impact_text
from compiler.sizing.choose import Sizer, choose, demand_of
from compiler.sizing.deployment_time import deployment_time
from compiler.sizing.explain import explain as explain_lines
from compiler.sizing.models import Alternative, ResourcePlan, path_json, service_json
from compiler.spec.models import PRESETS, CalculateRequest, TenantSpec


@dataclass(frozen=True)
class Calculation:
    plan: ResourcePlan
    alternatives: tuple[Alternative, ...]
    catalogue_tiers: dict[str, dict[str, Any]]
    alternative_note: str = ""
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
        }


def plan_tenant(spec: TenantSpec, catalogue: Catalogue, *, explain: bool = False) -> ResourcePlan:
    plan, sizer = choose(demand_of(spec), catalogue)
    return _explained(plan, sizer, catalogue) if explain else plan


def _explained(plan: ResourcePlan, sizer: Sizer, catalogue: Catalogue) -> ResourcePlan:
    return replace(plan, explanation=tuple(explain_lines(plan, sizer, catalogue)))


def calculate(
    request: CalculateRequest, catalogue: Catalogue, *, explain: bool = False
) -> Calculation:
    plan, sizer = choose(demand_of(request), catalogue)
    if explain:
        plan = _explained(plan, sizer, catalogue)
    alt = alternative(plan, sizer, catalogue)
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
        deployment_time=deployment_time(plan, catalogue),
    )

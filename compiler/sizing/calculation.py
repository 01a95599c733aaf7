"""calculate-resources: the recommended plan, its alternative, and the reference's answer shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.catalogue import Catalogue
from compiler.sizing.choose import alternative, choose, demand_of
from compiler.sizing.models import Alternative, ResourcePlan
from compiler.spec.models import PRESETS, CalculateRequest


@dataclass(frozen=True)
class Calculation:
    plan: ResourcePlan
    alternatives: tuple[Alternative, ...]
    catalogue_tiers: dict[str, dict[str, Any]]
    alternative_note: str = ""

    @property
    def explanation(self) -> list[str]:
        lines = list(self.plan.explanation)
        if self.alternative_note:
            lines.append(self.alternative_note)
        for alt in self.alternatives:
            lines.append(
                f"alternative {alt.tier}: replicas squeezed to fit; load-weighted response "
                f"{alt.baseline_response_ms:.1f}ms -> {alt.predicted_response_ms:.1f}ms "
                f"({alt.response_increase_pct:+.0f}%), "
                f"availability {alt.achieved_availability:.5f}, {alt.cost.label()}"
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
                }
                for alt in self.alternatives
            ],
            "required_resources": plan.totals.as_resources(),
            "monthly_cost_usd": round(plan.cost.total, 2),
            "services": [
                {
                    "service_name": s.name,
                    "channels": s.effective_channels,
                    "replicas": s.replicas,
                    "replicas_for_capacity": s.replicas_for_capacity,
                    "predicted_response_time_ms": round(s.predicted_response_ms, 1),
                    "availability": round(s.achieved_availability, 6),
                }
                for s in plan.services
            ],
        }


def impact_text(alt: Alternative, availability_target: float) -> str:
    """The reference's wording: '응답시간 20% 증가 예상' (response time expected to rise 20%),
    plus the expected availability when the squeezed plan falls short of the SLA's."""
    pct = max(0, round(alt.response_increase_pct))
    text = f"응답시간 {pct}% 증가 예상"
    if alt.achieved_availability + 1e-12 < availability_target:
        text += (
            f", 가용성 {alt.achieved_availability * 100:.2f}% 예상 "
            f"(목표 {availability_target * 100:g}%)"
        )
    return text


def calculate(
    request: CalculateRequest, catalogue: Catalogue, *, explain: bool = False
) -> Calculation:
    demand = demand_of(request)
    plan = choose(demand, catalogue, explain=explain)
    alt = alternative(demand, plan, catalogue)
    note = ""
    if alt is None:
        index = PRESETS.index(plan.tier)
        note = (
            "alternative: none, there is no smaller tier"
            if index == 0
            else f"alternative: none, no plan fits {PRESETS[index - 1]} for less"
        )
    tiers = {
        name: {"cpu": t.cpu, "memory": t.memory, "gpu": t.gpu, "storage": t.storage}
        for name, t in catalogue.tiers.items()
    }
    return Calculation(
        plan=plan, alternatives=(alt,) if alt else (), catalogue_tiers=tiers, alternative_note=note
    )

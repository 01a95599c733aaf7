"""The reference's cheaper alternative: the plan squeezed into the next smaller tier.

Same hardware, fewer pods: first the availability spares, then serving pods, never below the
utilisation cap (so no alternative is unstable). Each step takes the pod whose removal hurts
least: a spare that keeps the paths' availability highest, else a serving pod that keeps the
worst path's predicted percentile (relative to the SLA) lowest. The answer carries its own
predicted paths; the impact text names the worst one.
"""

from __future__ import annotations

from compiler.catalogue import Catalogue
from compiler.sizing.choose import Sizer
from compiler.sizing.cost import plan_cost
from compiler.sizing.models import Alternative, PathPlan, ResourcePlan, ServicePlan
from compiler.sizing.plan import (
    achieved_with,
    misfits,
    predict_paths,
    predicted_ms,
    totals_of,
    with_pods,
)
from compiler.sizing.queueing import pods_under_cap
from compiler.spec.models import PRESETS

Services = tuple[ServicePlan, ...]


def _uses(service: ServicePlan, need: set[str]) -> bool:
    """Whether removing a pod of `service` eases one of the tier's exceeded resources (`need`:
    the first word of each of misfits' phrases)."""
    return bool(
        ("CPU" in need and service.cpu_request_m)
        or ("memory" in need and service.memory_mib)
        or ("GPU" in need and service.gpu_per_replica)
        or ("storage" in need and service.option.storage_gb_per_replica)
    )


def _worst_ratio(services: Services, sizer: Sizer, catalogue: Catalogue) -> float:
    """The worst path's predicted percentile over the SLA (every path has the tenant's SLA)."""
    by_name = {s.name: s for s in services}
    predicted = predicted_ms(sizer.paths, by_name, sizer.percentile, catalogue)
    return max(p / sizer.sla_ms for p in predicted)


def _step(
    services: Services, problems: list[str], sizer: Sizer, catalogue: Catalogue
) -> Services | None:
    """`services` with one pod fewer where it hurts least; None when nothing can give."""
    spares = []
    serving = []
    need = {p.split(" ", 1)[0] for p in problems}
    for i, s in enumerate(services):
        if not _uses(s, need):
            continue
        if s.replicas > s.replicas_for_capacity:
            kept = achieved_with(s, s.replicas_for_capacity, s.replicas - 1, catalogue)
            spares.append((-kept, i))
        elif s.replicas_for_capacity > pods_under_cap(s.option, s.rate_per_s):
            serving.append(i)
    if spares:  # only the spare taken is planned; serving pods are not tried while spares exist
        _, i = min(spares)
        s = services[i]
        smaller = with_pods(s, s.replicas_for_capacity, s.replicas - 1, catalogue)
        return (*services[:i], smaller, *services[i + 1 :])
    options = []
    for i in serving:
        s = services[i]
        smaller = with_pods(s, s.replicas - 1, s.replicas - 1, catalogue)
        trial = (*services[:i], smaller, *services[i + 1 :])
        ratio = _worst_ratio(trial, sizer, catalogue)
        options.append((ratio, i, trial))
    if not options:
        return None
    return min(options, key=lambda o: (o[0], o[1]))[2]


def _paths(services: Services, sizer: Sizer, catalogue: Catalogue) -> tuple[PathPlan, ...]:
    by_name = {s.name: s for s in services}
    return predict_paths(sizer.paths, by_name, sizer.sla_ms, sizer.percentile, catalogue)


def alternative(plan: ResourcePlan, sizer: Sizer, catalogue: Catalogue) -> Alternative | None:
    index = PRESETS.index(plan.tier)
    if index == 0:
        return None
    tier = catalogue.tiers[PRESETS[index - 1]]
    services: Services | None = plan.services
    while services is not None and (problems := misfits(totals := totals_of(services), tier)):
        services = _step(services, problems, sizer, catalogue)
    if services is None:
        return None
    cost = plan_cost(services, catalogue)
    if cost.total >= plan.cost.total:
        return None
    return Alternative(
        tier=tier.name,
        services=services,
        paths=_paths(services, sizer, catalogue),
        totals=totals,
        cost=cost,
        baseline=plan.paths,
    )


def impact_text(alt: Alternative, availability_target: float) -> str:
    """'콜봇 응답 p95 20% 증가 예상 (SLA 150ms 초과)': the worst path, by how far it leaves the
    SLA when one does, else by its relative change; plus the availability when it falls short."""
    base = {p.name: p for p in alt.baseline}

    def change(p: PathPlan) -> float:
        return p.predicted_ms / base[p.name].predicted_ms - 1

    missing = [p for p in alt.paths if not p.meets_sla]
    worst = (
        max(missing, key=lambda p: (p.predicted_ms / p.sla_ms, p.name))
        if missing
        else max(alt.paths, key=lambda p: (change(p), p.name))
    )
    pct = round(change(worst) * 100)
    head = f"{worst.label} p{worst.percentile:g}"
    if pct > 0:
        text = f"{head} {pct}% 증가 예상"
    elif pct < 0:
        text = f"{head} {-pct}% 감소 예상"
    else:
        text = f"{head} 변화 없음"
    text += (
        f" (SLA {worst.sla_ms:g}ms 초과)"
        if not worst.meets_sla
        else f" ({worst.predicted_ms:.0f}ms, SLA {worst.sla_ms:g}ms 이내)"
    )
    achieved = alt.achieved_availability
    if achieved + 1e-12 < availability_target:
        text += f", 가용성 {achieved * 100:.2f}% 예상 (목표 {availability_target * 100:g}%)"
    return text

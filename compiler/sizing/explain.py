"""`ecp calc --explain`: every step of a plan, written from the plan and the search behind it.

Input: the chosen plan, its Sizer (options, budget) and the catalogue. Output: lines. It judges
each tier with the plan actually chosen (tiers never change the plan), so it cannot contradict
the recommendation. No decisions here: it only reports the ones choose.py made.
"""

from __future__ import annotations

import math

from compiler.catalogue import Catalogue
from compiler.sizing.choose import Sizer
from compiler.sizing.cost import service_cost
from compiler.sizing.models import PathPlan, ResourcePlan, ServicePlan
from compiler.sizing.paths import check_percentile, idle_percentile
from compiler.sizing.plan import misfits, service_target


def explain(plan: ResourcePlan, sizer: Sizer, catalogue: Catalogue) -> list[str]:
    p = f"p{plan.percentile:g}"
    check = check_percentile(plan.percentile)
    lines = [
        f"SLA: every path's end-to-end {p} <= {plan.response_target_ms:g}ms with the serving "
        f"pods; availability {plan.availability_target * 100:g}% per path",
        f"rule: each path's idle p{check:g} on its hardware + its stages' wait allowances "
        f"({catalogue.sizing_policy.wait_share:g} of the slack with the stage's own hardware "
        f"and the fastest elsewhere, split) <= SLA, and each stage "
        f"waits longer than its allowance with probability <= (1 - {p}) / (2 x path length): "
        f"then P(path > SLA) <= 1 - {p}",
    ]
    for path in sizer.paths:
        lines.append(
            f"path {path.name}: {' -> '.join(path.services)}, {path.rate_per_s:g} requests/s; "
            f"fastest idle p{check:g} {sizer.budget.fastest_floor_ms[path.name]:.1f}ms"
        )
    for s in plan.services:
        lines.extend(_service_lines(s, plan, sizer, catalogue))
    for planned in plan.paths:
        stages = " + ".join(f"{n}(W+R, {plan.service(n).option.key})" for n in planned.stages)
        lines.append(
            f"path {planned.name} {p}: convolution of {stages} = {planned.predicted_ms:.1f}ms "
            f"{'<=' if planned.meets_sla else '>'} {planned.sla_ms:g}ms (idle floor "
            f"{planned.idle_floor_ms:.1f}ms); availability "
            + " x ".join(f"{plan.service(n).achieved_availability:.6f}" for n in planned.stages)
            + _store_factor(plan, planned)
            + f" = {planned.availability:.6f}"
        )
    t = plan.totals
    lines.append(
        f"totals: CPU {t.cpu_millicores}m, memory {t.memory_mib}Mi, GPU {t.gpu}, "
        f"storage {t.storage_gb:g}GB"
    )
    tiers = (
        [catalogue.tiers[plan.tier]]
        if plan.tier_source == "explicit"
        else (catalogue.tiers_ascending())
    )
    for tier in tiers:
        problems = misfits(t, tier)
        verdict = "fits" if not problems else "does not fit: " + "; ".join(problems)
        lines.append(
            f"tier {tier.name} ({tier.cpu}, {tier.memory}, {tier.gpu} GPU, {tier.storage}): "
            f"{verdict}" + (f" -> {_chosen(plan)}" if tier.name == plan.tier else "")
        )
        if not problems:
            break
    c = plan.cost
    lines.append(
        f"cost: CPU ${c.cpu:,.2f} + memory ${c.memory:,.2f} + GPU ${c.gpu:,.2f} "
        f"+ storage ${c.storage:,.2f} = ${c.total:,.2f}/month"
    )
    for w in plan.warnings:
        lines.append(f"warning: {w}")
    return lines


def _chosen(plan: ResourcePlan) -> str:
    return "the spec's preset" if plan.tier_source == "explicit" else "recommended"


def _service_lines(
    s: ServicePlan, plan: ResourcePlan, sizer: Sizer, catalogue: Catalogue
) -> list[str]:
    q, o = s.queue, s.option
    name = s.name
    chosen = {c.name: c.option for c in plan.services}
    allowance = sizer.allowances(chosen)[name]
    lines = [
        f"{name}: {s.rate_per_s:g} requests/s x {o.hold_ms:g}ms hold = {q.load:.3f} Erlang; "
        f"run {o.key}: {o.slots} slots/pod, response {o.response_ms:g}ms (cv {o.response_cv:g})"
        f", {o.routing} routing; budget: wait allowance {allowance:.1f}ms"
        f" exceeded with P <= {sizer.budget.tail[name]:.5f}",
        f"  serving pods {q.pods}: utilisation {q.utilisation:.3f} (cap {o.utilisation_cap:g}), "
        f"P(wait) {q.p_wait:.6f}, E[W | wait] {q.wait_mean_ms:.1f}ms, "
        f"stage mean {s.predicted_response_ms:.1f}ms",
        f"  availability: {s.replicas} replicas, P(>= {q.pods} of {s.replicas} serving, "
        f"rollouts counted | a={o.availability:g}) = {s.achieved_availability:.6f} >= "
        f"{service_target(sizer.demand.sla.availability_fraction, sizer.longest[name]):.6f} "
        f"(the target's share along a path of {sizer.longest[name]} stage(s))",
    ]
    if len(sizer.options[name]) > 1:
        paths = [p for p in sizer.paths if name in p.services]
        for option in sizer.options[name]:
            swapped = {**chosen, name: option}  # the plan with this option instead
            # with its session paths' spares, as the search priced it (Sizer.with_spares)
            spared = sizer.with_spares(sizer.plans_of(list(swapped.values())))
            trial = next(p for p in spared if p.name == name)
            floor = idle_percentile([option], sizer.percentile, catalogue)
            ok = all(sizer.path_feasible(p, swapped) for p in paths)
            lines.append(
                f"  option {option.key}: {trial.replicas} pods, "
                f"${service_cost(trial, catalogue):,.2f}/month, idle p{sizer.percentile:g} "
                f"{floor:.1f}ms, "
                + ("meets the paths" if ok else "misses a path's SLA")
                + (" <- chosen" if option.key == o.key else "")
            )
    return lines


def _store_factor(plan: ResourcePlan, path: PathPlan) -> str:
    """The session store's factor on a path that keeps its state in it (sizing/redis.py)."""
    services = math.prod(plan.service(n).achieved_availability for n in path.stages)
    factor = path.availability / services
    return f" x {factor:.6f} (session store)" if factor < 1 - 1e-12 else ""

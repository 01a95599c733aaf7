"""Size one service on one option, and predict a plan's paths.

serving pods: the fewest under the utilisation cap whose wait tail stays inside the service's
budget (paths.py); replicas: serving pods plus spares until the service's availability, rollouts
counted, meets the tenant's target shared out along its longest path. Path predictions are the
numerical convolution of the stages' wait + response distributions with the SERVING pods.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from compiler.catalogue import Catalogue, Tier
from compiler.sizing.availability import TOLERANCE, replicas_for_target, with_rollouts
from compiler.sizing.distribution import Stage, percentile_with_waits
from compiler.sizing.memo import load_memo
from compiler.sizing.models import PathPlan, ServicePlan, Totals
from compiler.sizing.options import ServiceOption
from compiler.sizing.paths import TenantPath, idle_of
from compiler.sizing.queueing import QueueState, queue_state, serving_pods

# SRE practice (Google SRE book ch. 18, "N + 2"; k-of-n at a = 0.99 in sizing-sources.md): a
# 99.9 % target is never met by a single replica through a node drain or a rollout.
HA_THRESHOLD = 0.999
HA_MIN_REPLICAS = 2
MAX_SPARES = 24  # spare service replicas tried before a session path is declared unreachable


def stage_of(option: ServiceOption, queue: QueueState) -> Stage:
    return Stage(option.response_ms, option.response_cv, queue.p_wait, queue.wait_mean_ms)


def stage_mean(option: ServiceOption, queue: QueueState) -> float:
    """Mean time a request spends at the stage: its mean wait + mean response."""
    return option.response_ms + queue.p_wait * queue.wait_mean_ms


def service_target(availability_target: float, longest_path: int) -> float:
    """Each service's share of a path's availability: services in series multiply."""
    return float(availability_target ** (1 / max(1, longest_path)))


def replica_rule(
    availability_target: float, longest_path: int, catalogue: Catalogue
) -> tuple[float, float, int]:
    """(the service's share of the target, the rollout share of the month, the HA floor),
    memoised on the catalogue (a pure function of these and its policy)."""
    key = ("replica rule", availability_target, longest_path)
    rule: tuple[float, float, int] | None = catalogue.memo.get(key)
    if rule is None:
        floor = HA_MIN_REPLICAS if availability_target >= HA_THRESHOLD else 1
        policy = catalogue.sizing_policy
        rollout = policy.rollout_hours_per_month / catalogue.prices.hours_per_month
        rule = (service_target(availability_target, longest_path), rollout, floor)
        catalogue.memo[key] = rule
    return rule


def replicas_under(
    serving: int, pod_availability: float, rule: tuple[float, float, int], catalogue: Catalogue
) -> int:
    """Replicas for `serving` pods: the HA floor, then spares until the service's share of the
    target is met with rollouts counted (`rule`: replica_rule). Never fewer for more serving
    pods (k-of-n falls with k), so at the utilisation cap's pods it bounds every plan of an
    option from below."""
    target, rollout, floor = rule
    key = ("replicas", serving, pod_availability, target, rollout, floor)
    replicas: int | None = catalogue.memo.get(key)
    if replicas is None:  # a pure function of these: shared by every tenant
        replicas = replicas_for_target(serving, pod_availability, target, rollout, floor)
        catalogue.memo[key] = replicas
    return replicas


def plan_service(
    option: ServiceOption,
    *,
    direct: int,
    effective_channels: float,
    rate_per_s: float,
    allowance_ms: float,
    tail: float,
    availability_target: float,
    longest_path: int,
    catalogue: Catalogue,
    image: str,
) -> ServicePlan:
    memo = load_memo(catalogue)
    serving_key = ("serving", option.service, option.key, rate_per_s, allowance_ms, tail)
    queue = memo.get(serving_key)
    if queue is None:  # a pure function of the key: shared by every tenant with this load
        queue = serving_pods(option, rate_per_s, allowance_ms, tail)
        memo[serving_key] = queue
    k = queue.pods
    rollout = catalogue.sizing_policy.rollout_hours_per_month / catalogue.prices.hours_per_month
    rule = replica_rule(availability_target, longest_path, catalogue)
    replicas = replicas_under(k, option.availability, rule, catalogue)
    profile = catalogue.services[option.service]
    storage = effective_channels * profile.storage_gb_per_channel
    storage += replicas * option.storage_gb_per_replica
    return ServicePlan(
        name=option.service,
        channels=direct,
        effective_channels=effective_channels,
        option=option,
        rate_per_s=rate_per_s,
        queue=queue,
        replicas_for_capacity=k,
        replicas=replicas,
        achieved_availability=_achieved(k, replicas, option.availability, rollout, memo),
        predicted_response_ms=stage_mean(option, queue),
        storage_gb=round(storage, 3),
        image=image,
    )


def achieved_with(plan: ServicePlan, serving: int, replicas: int, catalogue: Catalogue) -> float:
    """with_pods(plan, serving, replicas).achieved_availability, without building the plan."""
    rollout = catalogue.sizing_policy.rollout_hours_per_month / catalogue.prices.hours_per_month
    return _achieved(serving, replicas, plan.option.availability, rollout, load_memo(catalogue))


def _achieved(k: int, n: int, a: float, rollout: float, memo: dict[Any, Any]) -> float:
    key = ("achieved", k, n, a, rollout)
    value: float | None = memo.get(key)
    if value is None:
        value = with_rollouts(k, n, a, rollout)
        memo[key] = value
    return value


def predict_paths(
    paths: Sequence[TenantPath],
    services: Mapping[str, ServicePlan],
    sla_ms: float,
    percentile: float,
    catalogue: Catalogue,
) -> tuple[PathPlan, ...]:
    plans = []
    memo = load_memo(catalogue)
    for path in paths:
        stages = [services[s] for s in path.services]
        predicted, idle_floor = _prediction(path, stages, percentile, catalogue, memo)
        plans.append(
            PathPlan(
                name=path.name,
                label=path.definition.label,
                stages=path.services,
                percentile=percentile,
                predicted_ms=predicted,
                sla_ms=sla_ms,
                availability=math.prod([s.achieved_availability for s in stages]),
                arrival_rate_per_s=path.rate_per_s,
                idle_floor_ms=idle_floor,
            )
        )
    return tuple(plans)


def predicted_ms(
    paths: Sequence[TenantPath],
    services: Mapping[str, ServicePlan],
    percentile: float,
    catalogue: Catalogue,
) -> list[float]:
    """predict_paths' predicted_ms alone, per path (the alternatives' squeeze compares trials
    by these, and builds the paths of the one it keeps)."""
    memo = load_memo(catalogue)
    return [
        _prediction(path, [services[s] for s in path.services], percentile, catalogue, memo)[0]
        for path in paths
    ]


def _prediction(
    path: TenantPath,
    stages: Sequence[ServicePlan],
    percentile: float,
    catalogue: Catalogue,
    memo: dict[Any, Any],
) -> tuple[float, float]:
    """_path_percentile, memoised: the stages' hardware and waits decide the percentile; their
    availability only the product (so a squeeze that drops a spare reuses the convolution)."""
    key = (
        "path percentile",
        path.services,
        percentile,
        *[(s.option.key, s.queue.p_wait, s.queue.wait_mean_ms) for s in stages],
    )
    found: tuple[float, float] | None = memo.get(key)
    if found is None:
        found = _path_percentile(stages, percentile, catalogue)
        memo[key] = found
    return found


def _path_percentile(
    stages: Sequence[ServicePlan], percentile: float, catalogue: Catalogue
) -> tuple[float, float]:
    """(the path's predicted percentile, its idle floor at that percentile)."""
    idle = idle_of([s.option for s in stages], catalogue)
    waits = [stage_of(s.option, s.queue) for s in stages]
    return percentile_with_waits(idle, waits, percentile), idle.quantile(percentile / 100)


def totals_of(services: Sequence[ServicePlan]) -> Totals:
    cpu = memory = gpu = 0
    storages = []
    for s in services:  # one pass: the alternatives' squeeze totals a plan at every step
        option, n = s.option, s.replicas
        cpu += n * option.cpu_request_m
        memory += n * option.memory_mib
        gpu += n * option.gpus_per_pod
        storages.append(s.storage_gb)
    return Totals(cpu, memory, gpu, round(sum(storages), 3))  # the same terms, in order


def with_pods(plan: ServicePlan, serving: int, replicas: int, catalogue: Catalogue) -> ServicePlan:
    """The same service on `serving` pods and `replicas` replicas (alternatives squeeze these)."""
    option = plan.option
    memo = load_memo(catalogue)
    key = ("queue", option.service, option.key, plan.rate_per_s, serving)
    queue = memo.get(key)
    if queue is None:
        queue = queue_state(option, plan.rate_per_s, serving)
        memo[key] = queue
    rollout = catalogue.sizing_policy.rollout_hours_per_month / catalogue.prices.hours_per_month
    storage = plan.storage_gb - (plan.replicas - replicas) * option.storage_gb_per_replica
    return ServicePlan(
        name=plan.name,
        channels=plan.channels,
        effective_channels=plan.effective_channels,
        option=option,
        rate_per_s=plan.rate_per_s,
        queue=queue,
        replicas_for_capacity=serving,
        replicas=replicas,
        achieved_availability=_achieved(serving, replicas, option.availability, rollout, memo),
        predicted_response_ms=stage_mean(option, queue),
        storage_gb=round(storage, 3),
        image=plan.image,
    )


def session_spares(
    services: Mapping[str, ServicePlan],
    session_paths: Sequence[tuple[str, ...]],
    store: float,
    target: float,
    catalogue: Catalogue,
) -> dict[str, ServicePlan] | None:
    """The services with spare replicas, one at a time, on the stage of the weakest session path
    (the store's availability `store` in series) whose spare raises that path the most, until
    every session path meets `target`; None when MAX_SPARES spares do not get there. The search
    costs a combination with these (search.py) and the answer adds the same (redis.py)."""
    out = dict(services)
    for _ in range(MAX_SPARES):
        worst: tuple[str, ...] | None = None
        least = math.inf
        for stages in session_paths:
            value = math.prod(out[s].achieved_availability for s in stages) * store
            if value < least:
                worst, least = stages, value
        if worst is None or least + TOLERANCE >= target:
            return out
        grown = {
            n: with_pods(out[n], out[n].replicas_for_capacity, out[n].replicas + 1, catalogue)
            for n in worst
        }
        best = max(
            worst, key=lambda n: grown[n].achieved_availability / out[n].achieved_availability
        )
        out[best] = grown[best]
    return None


def misfits(totals: Totals, tier: Tier) -> list[str]:
    """What does not fit the tier's envelope, one phrase per resource."""
    problems = []
    if totals.cpu_millicores > tier.cpu_millicores:
        problems.append(f"CPU {totals.cpu_millicores}m > {tier.cpu}")
    if totals.memory_mib > tier.memory_mib:
        problems.append(f"memory {totals.memory_mib}Mi > {tier.memory}")
    if totals.gpu > tier.gpu:
        problems.append(f"GPU {totals.gpu} > {tier.gpu}")
    if totals.storage_gb > tier.storage_gb:
        problems.append(f"storage {totals.storage_gb:g}GB > {tier.storage}")
    return problems

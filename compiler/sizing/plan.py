"""Size a tenant: channels -> offered load -> replicas (capacity, then availability) -> tier.

For each service: the smallest replica count whose Erlang C response time meets the SLA, then
extra replicas until k-of-n availability meets it. The tier is the explicit preset, or the
smallest one that holds the totals (see choose.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from compiler.catalogue import Catalogue, ServiceProfile, Tier
from compiler.errors import InsufficientResources, PresetDataInvalid, SlaUnachievable
from compiler.sizing.availability import at_least_k_up, replicas_for_availability
from compiler.sizing.erlang import ErlangBSeries, erlang_b, erlang_c_from_b, mean_wait
from compiler.sizing.models import ServicePlan, Totals
from compiler.spec.models import SERVICES

# SRE practice (Google SRE book ch. 18, "N + 2"; k-of-n at a = 0.99 in sizing-sources.md): a
# 99.9 % target is never met by a single replica through a node drain or a rollout.
HA_THRESHOLD = 0.999
HA_MIN_REPLICAS = 2
MAX_REPLICAS = 5000  # a guard against runaway searches; far above any namespace's pod budget


def effective_channels(requested: Mapping[str, int], catalogue: Catalogue) -> dict[str, float]:
    """Direct channels plus the channels services open on each other (leans_on), transitively."""
    total: dict[str, float] = {name: float(requested.get(name, 0)) for name in SERVICES}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise PresetDataInvalid(f"services lean on each other in a cycle: {' -> '.join(path)}")
        state[name] = 1
        for other in catalogue.services:
            if name in catalogue.services[other].leans_on:
                visit(other, (*path, other))
        state[name] = 2
        order.append(name)

    for name in SERVICES:
        visit(name, (name,))
    for name in order:  # every service that leans on `name` comes before it
        for target, factor in catalogue.services[name].leans_on.items():
            total[target] += total[name] * factor
    return total


def slots_for(profile: ServiceProfile, gpu_type: str | None, catalogue: Catalogue) -> int:
    if profile.gpu == 0 or gpu_type is None:
        return profile.slots
    return max(1, math.floor(profile.slots * catalogue.gpus[gpu_type].relative_throughput))


def predict(
    profile: ServiceProfile, load: float, servers: int, blocking: float | None = None
) -> tuple[float, float]:
    """P(wait) and the predicted response time in ms (idle latency + Erlang C mean wait) of
    `servers` slots offered `load` Erlangs; `blocking` is Erlang B when the caller has it."""
    b = erlang_b(servers, load) if blocking is None else blocking
    p_wait = erlang_c_from_b(servers, load, b)
    return p_wait, profile.first_response_ms + mean_wait(servers, load, profile.hold_ms, p_wait)


def _capacity(
    name: str,
    load: float,
    slots: int,
    profile: ServiceProfile,
    target_ms: float,
    explain: list[str] | None,
) -> tuple[int, float, float]:
    """Smallest replica count meeting the response target: (replicas, P(wait), response ms)."""
    if profile.first_response_ms > target_ms:
        raise SlaUnachievable(
            f"response_time {target_ms:g}ms is below {name}'s latency on an idle replica "
            f"({profile.first_response_ms:g}ms, presets/services.yaml)",
            details={"field": "sla_target.response_time", "service": name},
        )
    series = ErlangBSeries(load)
    replicas = max(1, math.floor(load / slots) + 1 if load > 0 else 1)
    while replicas <= MAX_REPLICAS:
        servers = replicas * slots
        p_wait, response = predict(profile, load, servers, series.at(servers))
        wait_ms = response - profile.first_response_ms
        ok = response <= target_ms
        if explain is not None:
            explain.append(
                f"  {replicas} replica(s): N={servers} slots, P(wait)={p_wait:.6f}, "
                f"wait={wait_ms:.1f}ms, response={response:.1f}ms "
                f"{'<=' if ok else '>'} {target_ms:g}ms"
            )
        if ok:
            return replicas, p_wait, response
        replicas += 1
    raise InsufficientResources(f"{name} needs more than {MAX_REPLICAS} replicas", details={})


def plan_service(
    name: str,
    direct: int,
    channels: float,
    catalogue: Catalogue,
    gpu_type: str | None,
    availability_target: float,
    response_target_ms: float,
    explain: list[str] | None,
    image: str | None = None,
) -> ServicePlan:
    profile = catalogue.services[name]
    slots = slots_for(profile, gpu_type, catalogue)
    load = channels * profile.requests_per_channel_per_s * profile.hold_ms / 1000
    leaned = channels - direct
    if explain is not None:
        explain.append(
            f"{name}: channels {direct} direct"
            + (f" + {leaned:g} from other services" if leaned else "")
            + f" = {channels:g}; offered load A = {channels:g} x "
            f"{profile.requests_per_channel_per_s:g}/s x {profile.hold_ms / 1000:g}s = "
            f"{load:.3f} Erlang; {slots} slots/replica"
            + (f" ({profile.slots} on A100 x {gpu_type})" if profile.gpu and gpu_type else "")
        )
    capacity, p_wait, response = _capacity(name, load, slots, profile, response_target_ms, explain)
    floor = HA_MIN_REPLICAS if availability_target >= HA_THRESHOLD else 1
    replicas = replicas_for_availability(capacity, profile.availability, availability_target, floor)
    achieved = at_least_k_up(capacity, replicas, profile.availability)
    if replicas > capacity:  # more servers only shorten the wait: recompute the prediction
        p_wait, response = predict(profile, load, replicas * slots)
    if explain is not None:
        explain.append(
            f"  availability: {replicas} replicas, P(>= {capacity} of {replicas} up | a="
            f"{profile.availability:g}) = {achieved:.6f} >= {availability_target:g}"
            + (f" (floor of {floor} for SLAs >= 99.9%)" if floor > 1 else "")
        )
    storage = channels * profile.storage_gb_per_channel + replicas * profile.storage_gb_per_replica
    return ServicePlan(
        name=name,
        channels=direct,
        effective_channels=channels,
        offered_load=load,
        slots_per_replica=slots,
        replicas_for_capacity=capacity,
        replicas=replicas,
        p_wait=p_wait,
        predicted_response_ms=response,
        achieved_availability=achieved,
        cpu_request_m=profile.cpu_request_m,
        cpu_limit_m=profile.cpu_limit_m,
        memory_mib=profile.memory_mib,
        gpu_per_replica=profile.gpu,
        storage_gb=round(storage, 3),
        image=image or catalogue.image(name),
    )


def totals_of(services: tuple[ServicePlan, ...] | list[ServicePlan]) -> Totals:
    return Totals(
        cpu_millicores=sum(s.replicas * s.cpu_request_m for s in services),
        memory_mib=sum(s.replicas * s.memory_mib for s in services),
        gpu=sum(s.replicas * s.gpu_per_replica for s in services),
        storage_gb=round(sum(s.storage_gb for s in services), 3),
    )


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

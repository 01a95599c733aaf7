"""The tenant's session store (Redis) in the plan: how many data pods, with or without Sentinel,
its availability in series on every path that keeps state in it, and its pods in the totals (and
so the cost and the tier's envelope). Input: the services' plan, the spec and the catalogue
(presets/redis.yaml, paths.yaml). Output: the plan with the store counted. Pure: no I/O.

plan_with_store is the one entry point (plan_with_redis for a spec; alternative_with_store for
the calculation's alternative). A session path short of the availability target gets spare
service replicas; a target the store itself cannot give is refused, as for services.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from compiler.catalogue import Catalogue, RedisPreset, RedisSize, Tier
from compiler.errors import InsufficientResources, SlaUnachievable
from compiler.quantity import format_cpu, format_memory
from compiler.sizing.alternative import alternative
from compiler.sizing.availability import TOLERANCE, at_least_k_up
from compiler.sizing.choose import Demand, Sizer, choose, demand_of
from compiler.sizing.cost import monthly_cost, plan_cost
from compiler.sizing.frozen import quick_init
from compiler.sizing.models import Alternative, Cost, PathPlan, ResourcePlan, ServicePlan, Totals
from compiler.sizing.paths import tenant_paths
from compiler.sizing.plan import HA_THRESHOLD, misfits, session_spares, totals_of
from compiler.spec.models import PRESETS, TenantSpec

SPARE_ROUNDS = 3  # re-choices in a tier the session paths' spares overflowed


@quick_init
@dataclass(frozen=True, slots=True)
class SessionStore:
    """The planned store: `replicas` data pods (one primary, the rest replicas) and, when
    replicated, the preset's sentinels."""

    size: RedisSize
    replicas: int
    sentinels: int
    sentinel_cpu_m: int
    sentinel_memory_mib: int
    availability: float

    @property
    def replicated(self) -> bool:
        return self.replicas > 1

    @property
    def pods(self) -> int:
        return self.replicas + self.sentinels

    @property
    def totals(self) -> Totals:
        return Totals(
            cpu_millicores=self.replicas * self.size.cpu_request_m
            + self.sentinels * self.sentinel_cpu_m,
            memory_mib=self.replicas * self.size.memory_mib
            + self.sentinels * self.sentinel_memory_mib,
            gpu=0,
            storage_gb=round(self.replicas * self.size.storage_gb, 3),
        )


def store_availability(replicas: int, preset: RedisPreset, hours_per_month: float) -> float:
    """P(the store answers): one pod's availability alone; replicated, 1 minus (union bound)
    every data pod down, the failovers' downtime, and a primary failure while fewer than a
    majority of the sentinels are up (presets/redis.yaml)."""
    a = preset.availability
    if replicas <= 1:
        return a
    sentinels = preset.sentinel.replicas
    majority = sentinels // 2 + 1
    failover_share = preset.failovers_per_month * preset.failover_seconds / (hours_per_month * 3600)
    all_down = 1 - at_least_k_up(1, replicas, a)
    no_majority = (1 - a) * (1 - at_least_k_up(majority, sentinels, a))
    return max(0.0, 1 - all_down - failover_share - no_majority)


def store_replicas(
    target: float, session_stages: int, preset: RedisPreset, hours_per_month: float
) -> int:
    """Data pods: at least 2 from HA_THRESHOLD (as services, and as the validator asks of every
    workload), then the fewest whose availability meets the store's share of the longest
    session path (target^(1/(stages + 1))); when none does, the fewest past which more pods
    gain nothing (the session paths' spares then carry the rest, or the target is refused)."""
    floor = 2 if target >= HA_THRESHOLD else 1
    # no session path: nothing the tenant is promised waits on the store, so only the floor
    share = target ** (1 / (session_stages + 1)) if session_stages else 0.0
    for n in range(floor, preset.max_replicas + 1):
        if store_availability(n, preset, hours_per_month) + TOLERANCE >= share:
            return n
    best = store_availability(preset.max_replicas, preset, hours_per_month)
    return next(
        n
        for n in range(max(floor, 2), preset.max_replicas + 1)
        if store_availability(n, preset, hours_per_month) + 1e-9 >= best
    )


def _replicas_for(catalogue: Catalogue, target: float, session_stages: int) -> int:
    """store_replicas on the catalogue's preset, memoised (a pure function of these)."""
    preset = catalogue.redis
    assert preset is not None
    key = ("store replicas", target, session_stages)
    found: int | None = catalogue.memo.get(key)
    if found is None:
        found = store_replicas(target, session_stages, preset, catalogue.prices.hours_per_month)
        catalogue.memo[key] = found
    return found


def _availability_of(catalogue: Catalogue, replicas: int) -> float:
    """store_availability on the catalogue's preset, memoised."""
    preset = catalogue.redis
    assert preset is not None
    key = ("store availability", replicas)
    found: float | None = catalogue.memo.get(key)
    if found is None:
        found = store_availability(replicas, preset, catalogue.prices.hours_per_month)
        catalogue.memo[key] = found
    return found


def plan_with_redis(
    spec: TenantSpec, catalogue: Catalogue
) -> tuple[ResourcePlan, SessionStore | None]:
    """The plan with the tenant's session store counted, and the store (None: no preset)."""
    return planned_with_store(demand_of(spec), catalogue)


# A write is sized twice in one process (the API checks the patched spec, then compiles it),
# and a sizing costs tens of milliseconds: the last few results, per demand and catalogue
# object. Plans are frozen and derive from their inputs alone, so a hit is the same answer.
_PLANNED: OrderedDict[tuple[int, str], tuple[Catalogue, ResourcePlan, SessionStore | None]]
_PLANNED = OrderedDict()
_PLANNED_SIZE = 256
_PLANNED_LOCK = threading.Lock()


def planned_with_store(
    demand: Demand, catalogue: Catalogue
) -> tuple[ResourcePlan, SessionStore | None]:
    """plan_with_store's plan and store, remembered for the last few demands."""
    key = (id(catalogue), repr(demand))
    with _PLANNED_LOCK:
        hit = _PLANNED.get(key)
        if hit is not None and hit[0] is catalogue:  # the id of a live object, not a reused one
            _PLANNED.move_to_end(key)
            return hit[1], hit[2]
    planned = plan_with_store(demand, catalogue)
    with _PLANNED_LOCK:
        _PLANNED[key] = (catalogue, planned.plan, planned.store)
        while len(_PLANNED) > _PLANNED_SIZE:
            _PLANNED.popitem(last=False)
    return planned.plan, planned.store


class StorePlan(NamedTuple):
    plan: ResourcePlan  # the store counted
    sizer: Sizer
    beside: Catalogue  # the tiers less their stores: what the services were chosen within
    store: SessionStore | None


def plan_with_store(demand: Demand, catalogue: Catalogue) -> StorePlan:
    """The services chosen inside what each tier holds beside its store (so the store never
    crowds them out of the tier the plan names), then the store counted on them."""
    preset = catalogue.redis
    if preset is None:
        plan, sizer = choose(demand, catalogue)
        return StorePlan(plan, sizer, catalogue, None)
    stages = max(
        (
            len(p.services)
            for p in tenant_paths(demand.requested, catalogue)
            if p.definition.session_state
        ),
        default=0,
    )
    replicas = _replicas_for(catalogue, demand.sla.availability_fraction, stages)
    beside = _beside_store(catalogue, replicas)
    # the services' replicas are searched with the store in series on the session paths, so a
    # plan is costed with the spares those paths need (issue 8: else a cheaper run that needs
    # no spare loses to one that looked cheaper until add_store gave it one)
    demand = replace(demand, session_availability=_availability_of(catalogue, replicas))
    try:
        plan, sizer = choose(demand, beside)
    except InsufficientResources as e:
        raise InsufficientResources(
            f"{e.message} (beside the tenant's Redis: {replicas} data pods"
            f"{f' and {preset.sentinel.replicas} sentinels' if replicas > 1 else ''})",
            details=e.details,
        ) from e
    candidates = [plan.tier]
    if plan.tier_source == "recommended":
        candidates = list(PRESETS[PRESETS.index(plan.tier) :])
    problems: list[str] = []
    source = plan.tier_source
    for tier in candidates:
        envelope = beside
        for attempt in range(SPARE_ROUNDS):
            if tier != plan.tier or attempt:
                try:
                    plan, sizer = choose(replace(demand, preset=tier), envelope)
                except InsufficientResources:
                    break
                plan = replace(plan, tier_source=source)
            store = session_store(plan, preset.sizes[tier], catalogue)
            counted = add_store(plan, store, catalogue)
            problems = misfits(counted.totals, catalogue.tiers[tier])
            if not problems:
                return StorePlan(counted, sizer, envelope, store)
            # the session paths' spares overflowed the tier: choose again in what the tier
            # holds beside the store and those spares (other hardware may need fewer)
            envelope = _shrunk(envelope, tier, _spares(counted.services, plan.services))
    raise InsufficientResources(
        f"preset {plan.tier} cannot hold the plan with its Redis: {'; '.join(problems)}",
        details={"preset": plan.tier, "exceeded": problems, "field": "preset"},
    )


def alternative_with_store(planned: StorePlan, catalogue: Catalogue) -> Alternative | None:
    """The services' alternative squeezed into what the smaller tier holds beside its store,
    with that store counted as in the plan (its paths' availability, totals and cost)."""
    plan, store = planned.plan, planned.store
    services_only = plan.with_resources(
        plan.services, plan.paths, plan.totals, plan_cost(plan.services, catalogue)
    )
    alt = alternative(services_only, planned.sizer, planned.beside)
    if alt is None or store is None or catalogue.redis is None:
        return alt
    smaller = SessionStore(
        catalogue.redis.sizes[alt.tier],
        store.replicas,
        store.sentinels,
        store.sentinel_cpu_m,
        store.sentinel_memory_mib,
        store.availability,
    )
    t, extra = alt.totals, smaller.totals
    return Alternative(
        tier=alt.tier,
        services=alt.services,
        paths=_paths_with_store(alt.paths, alt.services, smaller, catalogue),
        totals=Totals(
            t.cpu_millicores + extra.cpu_millicores,
            t.memory_mib + extra.memory_mib,
            t.gpu,
            round(t.storage_gb + extra.storage_gb, 3),
        ),
        cost=_cost_with_store(alt.cost, extra, catalogue),
        baseline=alt.baseline,
    )


def _spares(grown: tuple[ServicePlan, ...], chosen: tuple[ServicePlan, ...]) -> Totals:
    g, c = totals_of(grown), totals_of(chosen)
    return Totals(
        g.cpu_millicores - c.cpu_millicores,
        g.memory_mib - c.memory_mib,
        g.gpu - c.gpu,
        round(g.storage_gb - c.storage_gb, 3),
    )


def _shrunk(catalogue: Catalogue, name: str, by: Totals) -> Catalogue:
    """The catalogue with tier `name` smaller by `by` (the memo shared)."""
    tier = catalogue.tiers[name]
    smaller = Tier.model_validate(
        {
            **tier.model_dump(),
            "cpu": format_cpu(max(0, tier.cpu_millicores - by.cpu_millicores)),
            "memory": format_memory(max(0, tier.memory_mib - by.memory_mib)),
            "gpu": max(0, tier.gpu - by.gpu),
            "storage": f"{max(0.0, tier.storage_gb - by.storage_gb):.3f}GB",
        }
    )
    memo = catalogue.memo
    shrunk = catalogue.model_copy(update={"tiers": {**catalogue.tiers, name: smaller}})
    assert shrunk.memo is memo
    return shrunk


def _beside_store(catalogue: Catalogue, replicas: int) -> Catalogue:
    """The catalogue with every tier shrunk by its own store (`replicas` data pods, sentinels
    when replicated): what the services may fill. Shares the catalogue's memo, and is kept in
    it: a pure function of the tiers, the store preset and `replicas`, asked for by every tenant
    (tiers are in the key, as copies that share the memo may differ in them)."""
    tiers_key = tuple((n, t.cpu, t.memory, t.gpu, t.storage) for n, t in catalogue.tiers.items())
    key = ("beside store", replicas, tiers_key)
    found: Catalogue | None = catalogue.memo.get(key)
    if found is None:
        found = _shrunk_by_store(catalogue, replicas)
        catalogue.memo[key] = found
    return found


def _shrunk_by_store(catalogue: Catalogue, replicas: int) -> Catalogue:
    preset = catalogue.redis
    assert preset is not None
    sentinels = preset.sentinel.replicas if replicas > 1 else 0
    tiers = {}
    for name, tier in catalogue.tiers.items():
        size = preset.sizes[name]
        store = SessionStore(
            size,
            replicas,
            sentinels,
            preset.sentinel.cpu_request_m,
            preset.sentinel.memory_mib,
            0.0,
        ).totals
        tiers[name] = Tier.model_validate(
            {
                **tier.model_dump(),
                "cpu": format_cpu(max(0, tier.cpu_millicores - store.cpu_millicores)),
                "memory": format_memory(max(0, tier.memory_mib - store.memory_mib)),
                "storage": f"{max(0.0, tier.storage_gb - store.storage_gb):.3f}GB",
            }
        )
    memo = catalogue.memo  # computed before the copy, so the copy shares it
    beside = catalogue.model_copy(update={"tiers": tiers})
    assert beside.memo is memo
    return beside


def session_store(plan: ResourcePlan, size: RedisSize, catalogue: Catalogue) -> SessionStore:
    """The store `plan` needs: its data pods from the plan's target and session paths."""
    preset = catalogue.redis
    assert preset is not None
    stages = max((len(p.stages) for p in plan.paths if _needs_store(p, catalogue)), default=0)
    n = _replicas_for(catalogue, plan.availability_target, stages)
    sentinel = preset.sentinel
    return SessionStore(
        size=size,
        replicas=n,
        sentinels=sentinel.replicas if n > 1 else 0,
        sentinel_cpu_m=sentinel.cpu_request_m,
        sentinel_memory_mib=sentinel.memory_mib,
        availability=_availability_of(catalogue, n),
    )


def add_store(plan: ResourcePlan, store: SessionStore, catalogue: Catalogue) -> ResourcePlan:
    """`plan` with the store in series on its session paths (spare service replicas where a
    path then falls short), and the store's pods in its totals and cost."""
    services = _meet_session_paths(plan, store, catalogue)
    paths = _paths_with_store(plan.paths, services, store, catalogue)
    t, extra_t = totals_of(services), store.totals
    totals = Totals(
        cpu_millicores=t.cpu_millicores + extra_t.cpu_millicores,
        memory_mib=t.memory_mib + extra_t.memory_mib,
        gpu=t.gpu,
        storage_gb=round(t.storage_gb + extra_t.storage_gb, 3),
    )
    cost = _cost_with_store(plan_cost(services, catalogue), extra_t, catalogue)
    return plan.with_resources(services, paths, totals, cost)


def store_json(store: SessionStore, plan: ResourcePlan, catalogue: Catalogue) -> dict[str, Any]:
    """The store as the calculation answer shows it: enough to recompute paths[].availability
    (the stages' availability x this one on the listed paths)."""
    return {
        "data_pods": store.replicas,
        "sentinels": store.sentinels,
        "availability": round(store.availability, 6),
        "paths": [p.name for p in plan.paths if _needs_store(p, catalogue)],
    }


def _needs_store(path: PathPlan, catalogue: Catalogue) -> bool:
    return catalogue.paths[path.name].session_state


def _paths_with_store(
    paths: tuple[PathPlan, ...],
    services: tuple[ServicePlan, ...],
    store: SessionStore,
    catalogue: Catalogue,
) -> tuple[PathPlan, ...]:
    by_name = {s.name: s for s in services}
    return tuple(
        p.with_availability(
            math.prod([by_name[s].achieved_availability for s in p.stages])
            * (store.availability if _needs_store(p, catalogue) else 1.0)
        )
        for p in paths
    )


def _meet_session_paths(
    plan: ResourcePlan, store: SessionStore, catalogue: Catalogue
) -> tuple[ServicePlan, ...]:
    """Spare replicas until every session path meets the target (plan.session_spares; the
    search costed the plan's hardware with the same spares, so they never surprise it)."""
    target = plan.availability_target
    session = [p for p in plan.paths if _needs_store(p, catalogue)]
    if session and store.availability + TOLERANCE < target:
        raise _store_too_weak(store, target, session[0].name)
    services = {s.name: s for s in plan.services}
    stages = [p.stages for p in session]
    found = session_spares(services, stages, store.availability, target, catalogue)
    if found is None:
        raise _store_too_weak(store, target, session[0].name)
    return tuple(found.values())


def _store_too_weak(store: SessionStore, target: float, path: str) -> SlaUnachievable:
    return SlaUnachievable(
        f"path {path} keeps its session state in the tenant's Redis, whose availability "
        f"{store.availability * 100:.4f}% ({store.replicas} data pods, failovers counted; "
        f"presets/redis.yaml) cannot carry the {target * 100:g}% availability target: lower "
        "sla_target.availability, or set redis_url to an external Redis that can",
        details={
            "field": "sla_target.availability",
            "path": path,
            "session_store_availability": round(store.availability, 6),
            "target": target,
        },
    )


def _cost_with_store(base: Cost, store: Totals, catalogue: Catalogue) -> Cost:
    """The services' cost `base` (plan_cost: spares included, GPUs of each service's type) plus
    the store's pods (no GPU)."""
    extra = monthly_cost(store, None, catalogue)
    return Cost(
        cpu=round(base.cpu + extra.cpu, 2),
        memory=round(base.memory + extra.memory, 2),
        gpu=base.gpu,
        storage=round(base.storage + extra.storage, 2),
    )

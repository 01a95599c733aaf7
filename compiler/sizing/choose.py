"""Choose the hardware per service and the tier: the cheapest plan whose every path meets the SLA.

A service's pods depend only on its own option, load and budget (paths.py), so a plan's cost
is a sum over services and its feasibility a rule per path over the options of the path's
stages. Services linked by paths are searched together (every combination of their options);
unlinked groups independently. Tiers are quota envelopes: the recommended tier is the smallest
that holds the cheapest plan; an explicit preset (or the largest tier) restricts the search to
plans that fit it.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.catalogue import Catalogue, Tier
from compiler.errors import InsufficientResources, SlaUnachievable
from compiler.sizing.cost import plan_cost, service_cost
from compiler.sizing.memo import load_memo
from compiler.sizing.models import ResourcePlan, ServicePlan
from compiler.sizing.options import ServiceOption, options_for
from compiler.sizing.paths import (
    Budget,
    TenantPath,
    budget,
    check_percentile,
    idle_percentile,
    tenant_paths,
    wait_allowances,
)
from compiler.sizing.plan import (
    HA_MIN_REPLICAS,
    HA_THRESHOLD,
    misfits,
    plan_service,
    predict_paths,
    totals_of,
)
from compiler.sizing.queueing import pods_under_cap
from compiler.spec.models import SERVICES, CalculateRequest, SlaTarget, TenantSpec

MAX_JOINT_PLANS = 20_000  # combinations tried when the cheapest plan does not fit the tier
USER_FACING = ("callbot", "chatbot", "advisor")  # services whose every channel has a person


@dataclass(frozen=True)
class Demand:
    """What sizing needs to know, whichever shell it came from."""

    requested: Mapping[str, int]
    sla: SlaTarget
    preset: str | None
    gpu_type: str | None
    engines: Mapping[str, str]
    images: Mapping[str, str]


Combo = tuple[ServiceOption, ...]


class Sizer:
    """One demand against one catalogue: options, budget, and service plans per option."""

    def __init__(self, demand: Demand, catalogue: Catalogue) -> None:
        self.demand = demand
        self.catalogue = catalogue
        self.percentile = demand.sla.percentile_value(catalogue.sizing_policy.default_percentile)
        self.sla_ms = demand.sla.response_time_ms
        self.paths = tenant_paths(demand.requested, catalogue)
        used = {s for p in self.paths for s in p.services}
        self.names = tuple(s for s in SERVICES if s in used)
        self.options = {
            s: options_for(s, demand.engines.get(s, "nlu"), demand.gpu_type, catalogue)
            for s in self.names
        }
        self.budget: Budget = budget(
            self.paths, self.options, self.sla_ms, self.percentile, catalogue
        )
        self.rate = {s: sum(p.rate_per_s for p in self.paths if s in p.services) for s in used}
        self.reach = {
            s: float(
                sum(demand.requested[p.definition.entry] for p in self.paths if s in p.services)
            )
            for s in used
        }
        self.longest = {
            s: max(len(p.services) for p in self.paths if s in p.services) for s in used
        }
        self._plans: dict[tuple[str, str, float], ServicePlan] = {}
        self._allowances: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}
        self._quick: dict[tuple[str, str], float] = {}
        self.availability = demand.sla.availability_fraction
        self.replica_floor = HA_MIN_REPLICAS if self.availability >= HA_THRESHOLD else 1
        self.memo = load_memo(catalogue)

    def service(self, option: ServiceOption, allowance_ms: float) -> ServicePlan:
        """The option's plan for this tenant at a wait allowance (allowances(): per hardware)."""
        key = (option.service, option.key, allowance_ms)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plan_service(option, allowance_ms)
            self._plans[key] = plan
        return plan

    def _plan_service(self, option: ServiceOption, allowance: float) -> ServicePlan:
        name = option.service
        direct = self.demand.requested.get(name, 0)
        image = self.demand.images.get(name) or self.catalogue.image(name)
        rate, reach, longest = self.rate[name], self.reach[name], self.longest[name]
        tail = self.budget.tail[name]
        inputs = (direct, reach, rate, allowance, tail, longest, image, self.availability)
        key = ("service", name, option.key, *inputs)
        plan: ServicePlan | None = self.memo.get(key)
        if plan is None:  # a pure function of the key: tenants with the same load share it
            plan = plan_service(
                option,
                direct=direct,
                effective_channels=reach,
                rate_per_s=rate,
                allowance_ms=allowance,
                tail=tail,
                availability_target=self.availability,
                longest_path=longest,
                catalogue=self.catalogue,
                image=image,
            )
            self.memo[key] = plan
        return plan

    def check_floor(self, path: TenantPath, chosen: Mapping[str, ServiceOption]) -> float:
        """The path's idle percentile at the check level on the chosen hardware (memoised)."""
        options = tuple(chosen[s] for s in path.services)
        key = ("check", tuple((o.response_ms, o.response_cv) for o in options), self.percentile)
        memo = self.catalogue.memo
        if key not in memo:
            memo[key] = idle_percentile(options, check_percentile(self.percentile), self.catalogue)
        floor: float = memo[key]
        return floor

    def path_feasible(self, path: TenantPath, chosen: Mapping[str, ServiceOption]) -> bool:
        """Whether the path's floor on the chosen hardware fits the SLA: its stages' allowances
        (a share of the rest) then fit beside it too (paths.allowances)."""
        return self.check_floor(path, chosen) <= self.sla_ms + 1e-9

    def allowances(self, chosen: Mapping[str, ServiceOption]) -> dict[str, float]:
        """Wait allowance per service for one choice of hardware for every service of its paths."""
        key = tuple(sorted((s, o.key) for s, o in chosen.items()))
        found = self._allowances.get(key)
        if found is None:
            paths = [p for p in self.paths if all(s in chosen for s in p.services)]
            floors = {p.name: self.check_floor(p, chosen) for p in paths}
            share = self.catalogue.sizing_policy.wait_share
            found = wait_allowances(floors, paths, self.sla_ms, share)
            self._allowances[key] = found
        return found

    def plans_of(self, combo: Sequence[ServiceOption]) -> tuple[ServicePlan, ...]:
        """The combination's service plans (one option per service of whole groups), in order."""
        chosen = {o.service: o for o in combo}
        allowance = self.allowances(chosen)
        return tuple(self.service(o, allowance[o.service]) for o in combo)

    def quick_bound(self, option: ServiceOption) -> float:
        """A cost no plan on `option` can undercut, cheap to compute (service_cost of the fewest
        replicas any plan has): serving pods are at least the utilisation cap's, replicas at
        least those and the HA floor; storage grows with replicas (less half a rounding step)."""
        key = (option.service, option.key)
        bound = self._quick.get(key)
        if bound is None:
            name = option.service
            pods = max(pods_under_cap(option, self.rate[name]), self.replica_floor)
            prices = self.catalogue.prices
            storage = self.reach[name] * self.catalogue.services[name].storage_gb_per_channel
            storage += pods * option.storage_gb_per_replica
            bound = (
                pods * option.hourly_price(self.catalogue) * prices.hours_per_month
                + max(0.0, storage - 0.0005) * prices.storage_gb_month
            )
            self._quick[key] = bound
        return bound

    def groups(self) -> list[tuple[str, ...]]:
        """Services linked by a path, as connected groups in catalogue order."""
        group_of = {s: {s} for s in self.names}
        for path in self.paths:
            merged = set().union(*(group_of[s] for s in path.services))
            for s in merged:
                group_of[s] = merged
        seen: list[tuple[str, ...]] = []
        for s in self.names:
            g = tuple(n for n in self.names if n in group_of[s])
            if g not in seen:
                seen.append(g)
        return seen

    def group_plans(self, group: tuple[str, ...], every: bool = False) -> list[tuple[float, Combo]]:
        """The group's feasible combinations of options, cheapest first: only the cheapest (and
        its ties) unless `every`; combinations whose lower bound already costs more are not
        planned. Memoised on everything the search reads (`_group_key`), so tenants whose
        group has the same load, budget and targets share it."""
        key = self._group_key(group, every)
        found: list[tuple[float, Combo]] | None = self.memo.get(key)
        if found is None:
            found = self._group_plans(group, every)
            self.memo[key] = found
        return found

    def _group_key(self, group: tuple[str, ...], every: bool) -> tuple[Any, ...]:
        """Every input of _group_plans: the paths through the group with their rates, and per
        service its options and the inputs of its plan (see _plan_service) but the allowance,
        which the options and the SLA decide."""
        services = tuple(
            (
                s,
                tuple(o.key for o in self.options[s]),
                self.demand.requested.get(s, 0),
                self.reach[s],
                self.rate[s],
                self.budget.tail[s],
                self.longest[s],
                self.demand.images.get(s) or self.catalogue.image(s),
            )
            for s in group
        )
        paths = tuple((p.name, p.rate_per_s) for p in self.paths if p.services[0] in group)
        return ("group", every, self.sla_ms, self.percentile, self.availability, services, paths)

    def _group_plans(self, group: tuple[str, ...], every: bool) -> list[tuple[float, Combo]]:
        lists = [self.options[s] for s in group]
        allowed, checks = self._path_checks(group, lists)
        bounds = [[self.quick_bound(o) for o in options] for options in lists]
        strides = [math.prod(len(options) for options in lists[k + 1 :]) for k in range(len(lists))]
        bounded: list[tuple[float, int, tuple[int, ...]]] = []
        picks = [(operator.itemgetter(*at), ok) for at, ok in checks]  # at: 2 stages or more
        for choice in itertools.product(*allowed):  # in the order of the full product
            for pick, ok in picks:
                if not ok[pick(choice)]:
                    break
            else:
                index, bound = 0, 0.0
                for k, j in enumerate(choice):
                    index += j * strides[k]
                    bound += bounds[k][j]
                bounded.append((bound, index, choice))
        bounded.sort(key=lambda b: (b[0], b[1]))
        found: list[tuple[float, int, Combo]] = []
        for bound, index, choice in bounded:
            limit = found[0][0] + 0.01 if found and not every else math.inf
            if bound > limit:
                break  # every later combination costs at least its bound: more than found[0]
            combo = tuple(lists[k][j] for k, j in enumerate(choice))
            try:
                cost = self._cost_within(combo, limit)
            except InsufficientResources:
                continue  # a run that would need more pods than any namespace holds
            if cost is not None:
                found.append((cost, index, combo))
                found.sort(key=lambda f: (f[0], f[1]))
        if not found:
            raise SlaUnachievable(
                f"no combination of hardware for {', '.join(group)} meets {self.sla_ms:g}ms at "
                f"p{self.percentile:g} on every path at once",
                details={"field": "sla_target.response_time"},
            )
        return [(cost, combo) for cost, _, combo in found]  # ties: catalogue order

    def _cost_within(self, combo: Combo, limit: float) -> float | None:
        """The combination's monthly cost (rounded to cents), or None as soon as the services
        planned so far plus the others' lower bounds cost more than `limit`."""
        allowance = self.allowances({o.service: o for o in combo})
        rest = sum(self.quick_bound(o) for o in combo)
        total = 0.0
        for option in combo:
            rest -= self.quick_bound(option)
            total += service_cost(self.service(option, allowance[option.service]), self.catalogue)
            if total + rest > limit:
                return None
        return round(total, 2)

    def _path_checks(
        self, group: tuple[str, ...], lists: list[tuple[ServiceOption, ...]]
    ) -> tuple[list[list[int]], list[tuple[tuple[int, ...], dict[tuple[int, ...], bool]]]]:
        """Per service of the group, the indices of its options that the paths of it alone allow;
        per longer path, the positions of its stages in the group and whether each combination of
        its stages' options (by index) is feasible."""
        allowed = [list(range(len(options))) for options in lists]
        checks = []
        for path in self.paths:
            if path.services[0] not in group:
                continue
            at = tuple(group.index(s) for s in path.services)
            hardware = tuple(tuple(o.key for o in lists[i]) for i in at)
            key = ("checks", path.services, self.sla_ms, self.percentile, hardware)
            ok: dict[tuple[int, ...], bool] | None = self.memo.get(key)
            if ok is None:  # the path's hardware, the SLA and the percentile decide it
                ok = {}
                for sub in itertools.product(*(range(len(lists[i])) for i in at)):
                    chosen = {group[i]: lists[i][j] for i, j in zip(at, sub, strict=True)}
                    ok[sub] = self.path_feasible(path, chosen)
                self.memo[key] = ok
            if len(at) == 1:
                allowed[at[0]] = [j for j in allowed[at[0]] if ok[(j,)]]
            else:
                checks.append((at, ok))
        return allowed, checks

    def finish(self, combo: Sequence[ServiceOption]) -> tuple[ServicePlan, ...]:
        return self.plans_of(sorted(combo, key=lambda o: SERVICES.index(o.service)))


def _joint(
    sizer: Sizer, lists: list[list[tuple[float, Combo]]], tier: Tier
) -> tuple[ServicePlan, ...] | None:
    """The cheapest joint plan (one combination per group) that fits `tier`."""
    cheapest = tuple(o for group in lists for o in group[0][1])
    services = sizer.plans_of(cheapest)
    if not misfits(totals_of(services), tier):
        return services
    lists = [sizer.group_plans(g, every=True) for g in sizer.groups()]
    best: tuple[float, tuple[ServicePlan, ...]] | None = None
    for count, pick in enumerate(itertools.product(*lists)):
        if count >= MAX_JOINT_PLANS:
            break
        cost = sum(c for c, _ in pick)
        if best is not None and cost >= best[0]:
            continue
        trial = sizer.plans_of([o for _, combo in pick for o in combo])
        if not misfits(totals_of(trial), tier):
            best = (cost, trial)
    return best[1] if best else None


def choose(demand: Demand, catalogue: Catalogue) -> tuple[ResourcePlan, Sizer]:
    sizer = Sizer(demand, catalogue)
    lists = [sizer.group_plans(g) for g in sizer.groups()]
    tiers = [catalogue.tiers[demand.preset]] if demand.preset else catalogue.tiers_ascending()
    envelope = tiers[-1]
    chosen = _joint(sizer, lists, envelope)
    if chosen is None:
        cheapest = sizer.plans_of([o for group in lists for o in group[0][1]])
        raise _too_big(demand, envelope, cheapest)
    services = sizer.finish([s.option for s in chosen])
    totals = totals_of(services)
    tier = next(t for t in tiers if not misfits(totals, t))
    plan = ResourcePlan(
        services=services,
        paths=predict_paths(
            sizer.paths, {s.name: s for s in services}, sizer.sla_ms, sizer.percentile, catalogue
        ),
        totals=totals,
        tier=tier.name,
        tier_source="explicit" if demand.preset else "recommended",
        cost=plan_cost(services, catalogue),
        availability_target=demand.sla.availability_fraction,
        response_target_ms=sizer.sla_ms,
        percentile=sizer.percentile,
        warnings=tuple(_warnings(demand)),
    )
    return plan, sizer


def _too_big(
    demand: Demand, tier: Tier, services: tuple[ServicePlan, ...]
) -> InsufficientResources:
    totals = totals_of(services)
    problems = misfits(totals, tier)
    what = f"preset {tier.name}" if demand.preset else f"the largest tier ({tier.name})"
    return InsufficientResources(
        f"{what} cannot hold the plan: the cheapest that meets the SLA needs {'; '.join(problems)}",
        details={
            "preset": tier.name,
            "gpu_types": {s.name: s.gpu_type for s in services if s.gpu_type},
            "required": totals.as_resources(),
            "available": {
                "cpu": tier.cpu,
                "memory": tier.memory,
                "gpu": tier.gpu,
                "storage": tier.storage,
            },
            "exceeded": problems,
            "field": "preset" if demand.preset else "service_requirements",
        },
    )


def _warnings(demand: Demand) -> list[str]:
    users = demand.sla.concurrent_users
    facing = sum(demand.requested.get(s, 0) for s in USER_FACING)
    if users is not None and users < facing:
        return [
            f"sla_target.concurrent_users {users} is below the {facing} user-facing channels "
            f"({', '.join(USER_FACING)}): each such channel has a person in it, so the plan is "
            "sized for the channels"
        ]
    return []


def demand_of(spec: TenantSpec | CalculateRequest) -> Demand:
    return Demand(
        requested=spec.service_requirements.enabled(),
        sla=spec.sla_target,
        preset=spec.preset,
        gpu_type=spec.gpu_type,
        engines={str(k): str(v) for k, v in spec.engines.items()},
        images=getattr(spec, "images", {}),
    )

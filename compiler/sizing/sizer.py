"""One demand against one catalogue: the options per service, the budget, and service plans.

Input: a Demand and the catalogue. Output, on request: a service's plan on an option at a wait
allowance, the allowances a choice of hardware gives, path floors and cost lower bounds; all
memoised (per tenant here, across tenants in the catalogue's memo, keyed by every input). It
decides nothing: search.py and choose.py pick among what it computes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from compiler.catalogue import Catalogue
from compiler.sizing.availability import TOLERANCE
from compiler.sizing.demand import Demand
from compiler.sizing.memo import load_memo
from compiler.sizing.models import ServicePlan
from compiler.sizing.options import ServiceOption, options_for
from compiler.sizing.paths import (
    Budget,
    TenantPath,
    budget,
    check_floor,
    path_fits,
    stage_shares,
    tenant_paths,
    wait_allowances,
)
from compiler.sizing.plan import plan_service, replica_rule, replicas_under, session_spares
from compiler.sizing.queueing import pods_under_cap
from compiler.spec.models import SERVICES

# per service: its arrival rate (all paths summed), the channels whose paths reach it, and the
# stages of the longest path through it (shared by the tenants with the same channels: read only)
_PathSums = tuple[Mapping[str, float], Mapping[str, float], Mapping[str, int]]


def _path_sums(paths: Sequence[TenantPath], requested: Mapping[str, int]) -> _PathSums:
    rates: dict[str, list[float]] = {}
    reach: dict[str, int] = {}
    longest: dict[str, int] = {}
    for path in paths:  # the terms of each service's sums, in the paths' order
        stages = path.definition.services
        channels = requested[path.definition.entry]
        for s in stages:
            rates.setdefault(s, []).append(path.rate_per_s)
            reach[s] = reach.get(s, 0) + channels
            longest[s] = max(longest.get(s, 0), len(stages))
    rate = {s: sum(terms) for s, terms in rates.items()}
    return rate, {s: float(n) for s, n in reach.items()}, longest


class Sizer:
    """One demand against one catalogue: options, budget, and service plans per option."""

    def __init__(self, demand: Demand, catalogue: Catalogue) -> None:
        self.demand = demand
        self.catalogue = catalogue
        self.percentile = demand.sla.percentile_value(catalogue.sizing_policy.default_percentile)
        self.sla_ms = demand.sla.response_time_ms
        self.paths = tenant_paths(demand.requested, catalogue)
        used = {s for p in self.paths for s in p.definition.services}
        self.names = tuple(s for s in SERVICES if s in used)
        runs = tuple((s, demand.engines.get(s, "nlu"), demand.gpu_type) for s in self.names)
        # (engine, GPU pin) per service: options_for's key, which names its options
        self.runs: dict[str, tuple[str, str | None]] = {s: (e, pin) for s, e, pin in runs}
        self.options = {s: options_for(s, engine, pin, catalogue) for s, engine, pin in runs}
        self.memo = load_memo(catalogue)
        # the paths, the options (named by service, engine and pin), the SLA and the
        # percentile decide the budget: tenants that share them share it
        key = ("budget", tuple(p.name for p in self.paths), runs, self.sla_ms, self.percentile)
        found: Budget | None = self.memo.get(key)
        if found is None:
            found = budget(self.paths, self.options, self.sla_ms, self.percentile, catalogue)
            self.memo[key] = found
        self.budget: Budget = found
        # the channels decide the paths and so each service's rate, reach and longest path:
        # tenants with the same channels share them (tenant_paths' key)
        sums_key = ("path sums", tuple(demand.requested.items()))
        sums: _PathSums | None = self.memo.get(sums_key)
        if sums is None:
            sums = _path_sums(self.paths, demand.requested)
            self.memo[sums_key] = sums
        self.rate, self.reach, self.longest = sums
        self.images = {s: demand.images.get(s) or catalogue.image(s) for s in self.names}
        self._plans: dict[tuple[str, str, float], ServicePlan] = {}
        self._allowances: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}
        self.availability = demand.sla.availability_fraction
        self.session_paths = [p.services for p in self.paths if p.definition.session_state]

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
        image = self.images[name]
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
        options = [chosen[s] for s in path.services]
        return check_floor(options, self.percentile, self.catalogue)

    def shares(self, path: TenantPath, chosen: Mapping[str, ServiceOption]) -> dict[str, float]:
        """Per stage of `path` in `chosen`, its allowance on it with its chosen option
        (paths.stage_share: its own hardware and the fastest of the tenant's options elsewhere)."""
        return stage_shares(
            path, chosen, self.options, self.runs, self.sla_ms, self.percentile, self.catalogue
        )

    def path_feasible(self, path: TenantPath, chosen: Mapping[str, ServiceOption]) -> bool:
        """Whether the path's floor on the chosen hardware plus its stages' allowances on it
        fit the SLA (paths.path_fits)."""
        return path_fits(self.check_floor(path, chosen), self.shares(path, chosen), self.sla_ms)

    def allowances(self, chosen: Mapping[str, ServiceOption]) -> dict[str, float]:
        """Wait allowance per service for one choice of hardware for every service of its paths:
        each service's depends on its own option alone (paths.stage_share)."""
        key = tuple(sorted((s, o.key) for s, o in chosen.items()))
        found = self._allowances.get(key)
        if found is None:
            paths = [p for p in self.paths if all(s in chosen for s in p.services)]
            found = wait_allowances({p.name: self.shares(p, chosen) for p in paths})
            self._allowances[key] = found
        return found

    def plans_of(self, combo: Sequence[ServiceOption]) -> tuple[ServicePlan, ...]:
        """The combination's service plans (one option per service of whole groups), in order."""
        chosen = {o.service: o for o in combo}
        allowance = self.allowances(chosen)
        return tuple(self.service(o, allowance[o.service]) for o in combo)

    def with_spares(self, plans: tuple[ServicePlan, ...]) -> tuple[ServicePlan, ...]:
        """`plans` (whole groups) with the spares their session paths need with the session
        store in series (plan.session_spares), as the answer adds them (redis.py), so the search
        costs a combination as it will be answered; unchanged without a store, or with one that
        cannot carry the target (redis.py refuses that plan by name)."""
        store, target = self.demand.session_availability, self.availability
        if store >= 1.0 or store + TOLERANCE < target:
            return plans
        by_name = {p.name: p for p in plans}
        paths = [stages for stages in self.session_paths if stages[0] in by_name]
        if not paths:
            return plans
        found = session_spares(by_name, paths, store, target, self.catalogue)
        return plans if found is None else tuple(found[p.name] for p in plans)

    def bounds(self, name: str) -> tuple[float, ...]:
        """Per option of `name`, a cost no plan on it can undercut, cheap to compute (the
        service_cost of the fewest replicas any plan has): serving pods are at least the
        utilisation cap's, replicas at least what those need for the availability
        (replicas_under: never fewer for more serving pods); storage grows with replicas (less
        half a rounding step)."""
        rate, reach, longest = self.rate[name], self.reach[name], self.longest[name]
        key = ("bounds", name, self.runs[name], rate, reach, longest, self.availability)
        found: tuple[float, ...] | None = self.memo.get(key)
        if found is None:  # a pure function of the key: tenants with the same load share it
            found = self._bounds(name, rate, reach, longest)
            self.memo[key] = found
        return found

    def _bounds(self, name: str, rate: float, reach: float, longest: int) -> tuple[float, ...]:
        catalogue = self.catalogue
        prices = catalogue.prices
        rule = replica_rule(self.availability, longest, catalogue)
        channels_gb = reach * catalogue.services[name].storage_gb_per_channel
        out = []
        for option in self.options[name]:
            pods = replicas_under(
                pods_under_cap(option, rate), option.availability, rule, catalogue
            )
            storage = channels_gb + pods * option.storage_gb_per_replica
            out.append(
                pods * option.hourly_price(catalogue) * prices.hours_per_month
                + max(0.0, storage - 0.0005) * prices.storage_gb_month
            )
        return tuple(out)

    def groups(self) -> list[tuple[str, ...]]:
        """Services linked by a path, as connected groups in catalogue order (memoised on the
        tenant's paths, which decide them)."""
        key = ("groups", tuple(p.name for p in self.paths))
        found: list[tuple[str, ...]] | None = self.catalogue.memo.get(key)
        if found is None:
            found = self._groups()
            self.catalogue.memo[key] = found
        return found

    def _groups(self) -> list[tuple[str, ...]]:
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

    def finish(self, combo: Sequence[ServiceOption]) -> tuple[ServicePlan, ...]:
        return self.plans_of(sorted(combo, key=lambda o: SERVICES.index(o.service)))

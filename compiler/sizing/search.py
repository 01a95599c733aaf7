"""The cheapest feasible combinations of hardware for one group of services linked by paths.

Input: a Sizer and a group. Output: the group's feasible combinations of options, cheapest
first. What a combination may be (every path's floor within the SLA) and the wait allowances it
gives depend on the hardware, the SLA and the percentile alone, never on load: they are worked
out once per such shape (`Shape`, in the catalogue's memo) and shared by every tenant with it.
Per tenant only the cost bounds and the plans of the few combinations tried are computed; a
combination is priced with the spares its session paths need beside the tenant's session store
(Sizer.with_spares), as the answer adds them, so a run never wins on a price it does not keep.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterable
from typing import Any

from compiler.errors import InsufficientResources, SlaUnachievable
from compiler.sizing.cost import service_cost
from compiler.sizing.options import ServiceOption
from compiler.sizing.paths import TenantPath, path_fits, stage_shares, wait_allowances
from compiler.sizing.sizer import Sizer

Combo = tuple[ServiceOption, ...]


class Shape:
    """A group's feasible combinations (by option index, in the order of the full product, with
    their flat index) and, on demand, each one's wait allowances (per group position)."""

    def __init__(self, sizer: Sizer, group: tuple[str, ...], paths: list[TenantPath]) -> None:
        self.group = group
        self.lists = [sizer.options[s] for s in group]
        self.paths = paths
        self.sla_ms = sizer.sla_ms
        self.percentile = sizer.percentile
        self.catalogue = sizer.catalogue  # the shape lives in its memo: no tenant is kept
        self.options = {s: sizer.options[s] for s in group}
        self.runs = {s: sizer.runs[s] for s in group}
        self._allowances: dict[tuple[int, ...], tuple[float, ...]] = {}
        allowed, checks = self._path_checks(sizer)
        lists = self.lists
        strides = [math.prod(len(options) for options in lists[k + 1 :]) for k in range(len(lists))]
        picks = [(operator.itemgetter(*at), ok) for at, ok in checks]  # at: 2 stages or more
        self.feasible: list[tuple[int, tuple[int, ...]]] = []
        for choice in itertools.product(*allowed):  # in the order of the full product
            for pick, ok in picks:
                if not ok[pick(choice)]:
                    break
            else:
                index = 0
                for k, j in enumerate(choice):
                    index += j * strides[k]
                self.feasible.append((index, choice))
        self.indices = [index for index, _ in self.feasible]
        self.choices = [choice for _, choice in self.feasible]
        self.columns = [[choice[k] for choice in self.choices] for k in range(len(group))]

    def _path_checks(
        self, sizer: Sizer
    ) -> tuple[list[list[int]], list[tuple[tuple[int, ...], dict[tuple[int, ...], bool]]]]:
        """Per service of the group, the indices of its options that the paths of it alone allow;
        per longer path, the positions of its stages in the group and whether each combination of
        its stages' options (by index) is feasible."""
        group, lists = self.group, self.lists
        allowed = [list(range(len(options))) for options in lists]
        checks = []
        for path in self.paths:
            at = tuple(group.index(s) for s in path.services)
            ok: dict[tuple[int, ...], bool] = {}
            # each stage's share per option, once (it depends on that option alone)
            share = [[sizer.shares(path, {group[i]: o})[group[i]] for o in lists[i]] for i in at]
            for sub in itertools.product(*(range(len(lists[i])) for i in at)):
                chosen = {group[i]: lists[i][j] for i, j in zip(at, sub, strict=True)}
                shares = {
                    group[i]: share[n][j] for n, (i, j) in enumerate(zip(at, sub, strict=True))
                }
                # Sizer.path_feasible, with the shares looked up
                ok[sub] = path_fits(sizer.check_floor(path, chosen), shares, sizer.sla_ms)
            if len(at) == 1:
                allowed[at[0]] = [j for j in allowed[at[0]] if ok[(j,)]]
            else:
                checks.append((at, ok))
        return allowed, checks

    def allowances(self, choice: tuple[int, ...]) -> tuple[float, ...]:
        """Sizer.allowances of the combination, per group position."""
        found = self._allowances.get(choice)
        if found is None:
            chosen = {
                s: options[j] for s, options, j in zip(self.group, self.lists, choice, strict=True)
            }
            by_service = wait_allowances({p.name: self._shares(p, chosen) for p in self.paths})
            found = tuple(by_service[s] for s in self.group)
            self._allowances[choice] = found
        return found

    def _shares(self, path: TenantPath, chosen: dict[str, ServiceOption]) -> dict[str, float]:
        return stage_shares(
            path, chosen, self.options, self.runs, self.sla_ms, self.percentile, self.catalogue
        )


def shape_of(sizer: Sizer, group: tuple[str, ...]) -> Shape:
    """The group's Shape, memoised on what decides it: the group's options, its paths (every
    path through a group lies inside it), the SLA and the percentile."""
    paths = [p for p in sizer.paths if p.services[0] in group]
    key = (
        "shape",
        group,
        tuple(sizer.runs[s] for s in group),  # (engine, GPU pin): they name the options
        tuple(p.name for p in paths),
        sizer.sla_ms,
        sizer.percentile,
    )
    shape: Shape | None = sizer.memo.get(key)
    if shape is None:
        shape = Shape(sizer, group, paths)
        sizer.memo[key] = shape
    return shape


def group_plans(
    sizer: Sizer, group: tuple[str, ...], every: bool = False
) -> list[tuple[float, Combo]]:
    """The group's feasible combinations of options, cheapest first: only the cheapest (and
    its ties) unless `every`; combinations whose lower bound already costs more are not
    planned. Memoised on everything the search reads (`_group_key`), so tenants whose
    group has the same load, budget and targets share it."""
    key = _group_key(sizer, group, every)
    found: list[tuple[float, Combo]] | None = sizer.memo.get(key)
    if found is None:
        found = _group_plans(sizer, group, every)
        sizer.memo[key] = found
    return found


def _group_key(sizer: Sizer, group: tuple[str, ...], every: bool) -> tuple[Any, ...]:
    """Every input of _group_plans: the paths through the group with their rates, and per
    service its options and the inputs of its plan (see Sizer._plan_service) but the allowance,
    which the options and the SLA decide."""
    services = tuple(
        (
            s,
            sizer.runs[s],  # (engine, GPU pin): options_for's key, which names the options
            sizer.demand.requested.get(s, 0),
            sizer.reach[s],
            sizer.rate[s],
            sizer.budget.tail[s],
            sizer.longest[s],
            sizer.images[s],
        )
        for s in group
    )
    through = [p for p in sizer.paths if p.services[0] in group]
    paths = tuple((p.name, p.rate_per_s) for p in through)
    # the store's availability prices a session path's spares (Sizer.with_spares); without
    # one in the group it reads nothing, so such groups stay shared across store sizes
    session = any(p.definition.session_state for p in through)
    store = sizer.demand.session_availability if session else None
    targets = (sizer.sla_ms, sizer.percentile, sizer.availability, store)
    return ("group", every, *targets, services, paths)


def _group_plans(sizer: Sizer, group: tuple[str, ...], every: bool) -> list[tuple[float, Combo]]:
    shape = shape_of(sizer, group)
    lists = shape.lists
    bounds = [sizer.bounds(s) for s in group]
    # each combination's bound: its options' bounds added in group order, column by column
    sums: Iterable[float] = map(bounds[0].__getitem__, shape.columns[0])
    for k in range(1, len(group)):
        sums = map(operator.add, sums, map(bounds[k].__getitem__, shape.columns[k]))
    bound_of = list(sums)
    indices, choices = shape.indices, shape.choices
    # by bound, then flat index (unique): the order of the full product on ties. The feasible
    # combinations are in flat-index order, so a stable sort by bound alone gives it, without
    # comparing (bound, index, choice) tuples
    found: list[tuple[float, int, Combo]] = []
    for at in sorted(range(len(bound_of)), key=bound_of.__getitem__):
        bound, index, choice = bound_of[at], indices[at], choices[at]
        limit = found[0][0] + 0.01 if found and not every else math.inf
        if bound > limit:
            break  # every later combination costs at least its bound: more than found[0]
        try:
            cost = _cost_within(sizer, shape, choice, bounds, limit)
        except InsufficientResources:
            continue  # a run that would need more pods than any namespace holds
        if cost is not None:
            found.append((cost, index, tuple(lists[k][j] for k, j in enumerate(choice))))
            found.sort(key=lambda f: (f[0], f[1]))
    if not found:
        raise SlaUnachievable(
            f"no combination of hardware for {', '.join(group)} meets {sizer.sla_ms:g}ms at "
            f"p{sizer.percentile:g} on every path at once",
            details={"field": "sla_target.response_time"},
        )
    return [(cost, combo) for cost, _, combo in found]  # ties: catalogue order


def _cost_within(
    sizer: Sizer,
    shape: Shape,
    choice: tuple[int, ...],
    bounds: list[tuple[float, ...]],
    limit: float,
) -> float | None:
    """The combination's monthly cost (rounded to cents) with the spares its session paths
    need (Sizer.with_spares: they are in the answer, so they are in the price), or None as soon
    as the services planned so far plus the others' lower bounds cost more than `limit`."""
    allowance = shape.allowances(choice)
    lists = shape.lists
    rest = sum(bounds[k][j] for k, j in enumerate(choice))
    total = 0.0
    plans = []
    for k, j in enumerate(choice):
        rest -= bounds[k][j]
        plan = sizer.service(lists[k][j], allowance[k])
        plans.append(plan)
        total += service_cost(plan, sizer.catalogue)
        if total + rest > limit:
            return None
    planned = tuple(plans)
    spared = sizer.with_spares(planned)
    if spared is not planned:  # spares only add: the bounds stay lower bounds
        total = 0.0
        for plan in spared:
            total += service_cost(plan, sizer.catalogue)
        if total > limit:
            return None
    return round(total, 2)

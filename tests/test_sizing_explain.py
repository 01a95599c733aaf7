"""`ecp calc --explain` (sizing/explain.py) read back against the plan it explains: each line is
parsed and its numbers compared with the plan's own fields or computed again by hand (loads,
availability products, per-option costs, tier envelopes, cost sums), so the account can neither
drop a step nor say something the recommendation does not."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest
from sizing_support import request, shipped

from compiler.catalogue import Catalogue, Tier
from compiler.sizing.choose import Sizer, choose, demand_of
from compiler.sizing.explain import explain
from compiler.sizing.models import ResourcePlan, Totals
from compiler.sizing.redis import plan_with_store
from compiler.spec.models import CalculateRequest

NUM = r"[\d.,]+"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return shipped()


def _planned(
    body: CalculateRequest, catalogue: Catalogue, *, store: bool
) -> tuple[ResourcePlan, Sizer, list[str]]:
    if store:
        planned = plan_with_store(demand_of(body), catalogue)
        plan, sizer = planned.plan, planned.sizer
    else:
        plan, sizer = choose(demand_of(body), catalogue)
    return plan, sizer, explain(plan, sizer, catalogue)


@pytest.fixture(scope="module")
def callbot_plan(catalogue: Catalogue) -> tuple[ResourcePlan, Sizer]:
    """A three-stage voice path and a chat path, each with its session in the store."""
    planned = plan_with_store(demand_of(request({"callbot": 20, "chatbot": 100})), catalogue)
    return planned.plan, planned.sizer


@pytest.fixture
def callbot(
    callbot_plan: tuple[ResourcePlan, Sizer], catalogue: Catalogue
) -> tuple[ResourcePlan, Sizer, list[str]]:
    # explained inside each test (not once per module), so that mutmut, which runs only the
    # tests it saw call a function, runs every one of these against explain's mutants
    plan, sizer = callbot_plan
    return plan, sizer, explain(plan, sizer, catalogue)


def _match(pattern: str, line: str) -> re.Match[str]:
    m = re.fullmatch(pattern, line)
    assert m, f"{line!r} does not read as {pattern!r}"
    return m


def _f(text: str) -> float:
    return float(text.replace(",", ""))


def _lines(lines: list[str], prefix: str) -> list[str]:
    return [line for line in lines if line.startswith(prefix)]


def test_the_first_lines_state_the_sla_and_the_rule_at_the_plans_own_percentile(
    catalogue: Catalogue,
) -> None:
    body = request({"chatbot": 30}, availability="99.5%", response_time="1s", percentile="p99")
    plan, _, lines = _planned(body, catalogue, store=False)
    sla = _match(
        rf"SLA: every path's end-to-end p({NUM}) <= ({NUM})ms with the serving pods; "
        rf"availability ({NUM})% per path",
        lines[0],
    )
    assert (_f(sla[1]), _f(sla[2]), _f(sla[3])) == (99, 1000, 99.5)
    rule = _match(
        rf"rule: each path's idle p({NUM}) on its hardware \+ its stages' wait allowances "
        rf"\(({NUM}) of the slack with the stage's own hardware and the fastest elsewhere, "
        rf"split\) <= SLA, and each stage waits longer than its allowance with probability "
        rf"<= \(1 - p({NUM})\) / \(2 x path length\): then P\(path > SLA\) <= 1 - p({NUM})",
        lines[1],
    )
    # half of the 1 % tail goes to the idle check: p99.5
    assert _f(rule[1]) == 99.5
    assert _f(rule[2]) == catalogue.sizing_policy.wait_share
    assert _f(rule[3]) == _f(rule[4]) == plan.percentile == 99


def test_each_tenant_path_is_listed_with_its_stages_rate_and_a_floor_below_the_chosen_hardware(
    callbot: tuple[ResourcePlan, Sizer, list[str]],
) -> None:
    plan, sizer, lines = callbot
    chosen = {s.name: s.option for s in plan.services}
    heads = [line for line in lines if re.match(r"path \S+: ", line)]
    assert len(heads) == len(sizer.paths) == 2
    for path, line in zip(sizer.paths, heads, strict=True):
        m = _match(rf"path (\S+): (.+), ({NUM}) requests/s; fastest idle p({NUM}) ({NUM})ms", line)
        assert m[1] == path.name
        assert m[2].split(" -> ") == list(path.services)
        assert _f(m[3]) == pytest.approx(path.rate_per_s, abs=1e-9)
        assert _f(m[4]) == (100 + plan.percentile) / 2
        # the fastest hardware's floor can be no slower than the hardware the plan chose
        assert 0 < _f(m[5]) <= sizer.check_floor(path, chosen) + 0.05
    assert [h.split(":")[0] for h in heads] == ["path callbot-turn", "path chat-message"]


def _service_block(lines: list[str], name: str) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}: "))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line)
    return block


def test_each_service_shows_its_load_queue_and_availability_from_its_own_plan(
    callbot: tuple[ResourcePlan, Sizer, list[str]],
) -> None:
    plan, sizer, lines = callbot
    target = plan.availability_target
    for s in plan.services:
        o, q = s.option, s.queue
        first, serving, avail = _service_block(lines, s.name)[:3]
        m = _match(
            rf"{s.name}: ({NUM}) requests/s x ({NUM})ms hold = ({NUM}) Erlang; run (.+): "
            rf"(\d+) slots/pod, response ({NUM})ms \(cv ({NUM})\), (\w+) routing; budget: wait "
            rf"allowance ({NUM})ms exceeded with P <= ({NUM})",
            first,
        )
        rate, hold = _f(m[1]), _f(m[2])
        assert rate == pytest.approx(s.rate_per_s, rel=1e-6)
        assert hold == pytest.approx(o.hold_ms, rel=1e-3)
        # Erlang load = rate x hold, worked out again here
        assert _f(m[3]) == pytest.approx(s.rate_per_s * o.hold_ms / 1000, abs=6e-4)
        assert (m[4], int(m[5]), m[8]) == (o.key, o.slots, o.routing)
        assert _f(m[6]) == pytest.approx(o.response_ms, rel=1e-3)
        assert _f(m[7]) == pytest.approx(o.response_cv, rel=1e-3)
        allowance = sizer.allowances({c.name: c.option for c in plan.services})[s.name]
        assert _f(m[9]) == pytest.approx(allowance, abs=0.051)
        # each stage's share of the tail: (1 - p) / (2 x its longest path), at most
        longest = max(len(p.services) for p in sizer.paths if s.name in p.services)
        tail = _f(m[10])
        assert 0 < tail <= (1 - plan.percentile / 100) / (2 * longest) + 5e-6
        m = _match(
            rf"  serving pods (\d+): utilisation ({NUM}) \(cap ({NUM})\), P\(wait\) ({NUM}), "
            rf"E\[W \| wait\] ({NUM})ms, stage mean ({NUM})ms",
            serving,
        )
        assert int(m[1]) == q.pods == s.replicas_for_capacity
        assert _f(m[2]) == pytest.approx(q.utilisation, abs=6e-4)
        assert _f(m[2]) <= _f(m[3]) == o.utilisation_cap
        assert _f(m[4]) == pytest.approx(q.p_wait, abs=6e-7)
        assert _f(m[5]) == pytest.approx(q.wait_mean_ms, abs=0.051)
        assert _f(m[6]) == pytest.approx(s.predicted_response_ms, abs=0.051)
        m = _match(
            rf"  availability: (\d+) replicas, P\(>= (\d+) of (\d+) serving, rollouts counted "
            rf"\| a=({NUM})\) = ({NUM}) >= ({NUM}) \(the target's share along a path of (\d+) "
            rf"stage\(s\)\)",
            avail,
        )
        assert int(m[1]) == int(m[3]) == s.replicas >= int(m[2]) == q.pods
        assert _f(m[4]) == o.availability
        assert _f(m[5]) == pytest.approx(s.achieved_availability, abs=6e-7)
        # the share is the path target's root over the longest path through this service
        assert int(m[7]) == longest
        assert _f(m[6]) == pytest.approx(target ** (1 / longest), abs=6e-7)
        assert _f(m[5]) >= _f(m[6])


def test_every_option_of_a_service_is_priced_and_judged_and_the_chosen_one_is_the_plans(
    callbot: tuple[ResourcePlan, Sizer, list[str]], catalogue: Catalogue
) -> None:
    plan, sizer, lines = callbot
    chosen = {c.name: c.option for c in plan.services}
    hours = catalogue.prices.hours_per_month
    with_options = [s for s in plan.services if len(sizer.options[s.name]) > 1]
    assert {s.name for s in with_options} == {"stt", "tts"}
    for s in plan.services:
        block = _service_block(lines, s.name)[3:]
        options = sizer.options[s.name]
        if len(options) == 1:
            assert block == []  # one way to run it: nothing to compare
            continue
        assert len(block) == len(options)
        marked = []
        for option, line in zip(options, block, strict=True):
            m = _match(
                rf"  option (.+): (\d+) pods, \$({NUM})/month, idle p({NUM}) ({NUM})ms, "
                r"(meets the paths|misses a path's SLA)( <- chosen)?",
                line,
            )
            assert m[1] == option.key
            pods = int(m[2])
            # the per-type price: pods x that GPU type's pod price x hours, plus the storage
            by_hand = pods * option.hourly_price(catalogue) * hours
            storage = s.storage_gb + (pods - s.replicas) * option.storage_gb_per_replica
            storage -= s.replicas * (
                s.option.storage_gb_per_replica - option.storage_gb_per_replica
            )
            by_hand += round(storage, 3) * catalogue.prices.storage_gb_month
            assert _f(m[3]) == pytest.approx(by_hand, abs=0.006)
            assert _f(m[4]) == plan.percentile
            swapped = {**chosen, s.name: option}
            feasible = all(sizer.path_feasible(p, swapped) for p in sizer.paths)
            assert (m[6] == "meets the paths") == feasible
            if m[7]:
                marked.append((option.key, pods, m[6]))
        # exactly one option is the plan's, with the plan's pods, and it meets every path
        assert marked == [(s.option.key, s.replicas, "meets the paths")]
    stt = _service_block(lines, "stt")[3:]
    assert any("misses a path's SLA" in line for line in stt)  # h100 balanced is too slow
    gpu_types = {o.gpu_type for o in sizer.options["stt"]}
    assert len(gpu_types) >= 3  # the GPU type itself is a choice, priced per type


def test_the_chosen_option_is_the_cheapest_that_meets_the_paths_in_this_plan(
    callbot: tuple[ResourcePlan, Sizer, list[str]],
) -> None:
    plan, _, lines = callbot
    for name in ("stt", "tts"):
        priced = {
            m[1]: _f(m[2])
            for line in _service_block(lines, name)[3:]
            if (m := re.match(rf"  option (.+): \d+ pods, \$({NUM})/month.*meets the paths", line))
        }
        assert min(priced, key=lambda k: priced[k]) == plan.service(name).option.key


def _path_lines(lines: list[str], plan: ResourcePlan) -> list[re.Match[str]]:
    found = _lines(lines, "path ")
    found = [line for line in found if re.match(rf"path \S+ p{plan.percentile:g}: ", line)]
    assert len(found) == len(plan.paths)
    return [
        _match(
            rf"path (\S+) p({NUM}): convolution of (.+) = ({NUM})ms (<=|>) ({NUM})ms \(idle floor "
            rf"({NUM})ms\); availability ([\d. x]+?)( x ({NUM}) \(session store\))? = ({NUM})",
            line,
        )
        for line in found
    ]


def test_each_path_shows_its_stages_percentile_and_an_availability_that_multiplies_out(
    callbot: tuple[ResourcePlan, Sizer, list[str]],
) -> None:
    plan, _, lines = callbot
    for path, m in zip(plan.paths, _path_lines(lines, plan), strict=True):
        assert m[1] == path.name and _f(m[2]) == plan.percentile
        stages = re.findall(r"(\w+)\(W\+R, ([^)]+)\)", m[3])
        assert stages == [(n, plan.service(n).option.key) for n in path.stages]
        assert m[3] == " + ".join(f"{n}(W+R, {k})" for n, k in stages)
        assert _f(m[4]) == pytest.approx(path.predicted_ms, abs=0.051)
        assert (m[5] == "<=") == (path.predicted_ms <= path.sla_ms) and m[5] == "<="
        assert _f(m[6]) == path.sla_ms == plan.response_target_ms
        assert _f(m[7]) == pytest.approx(path.idle_floor_ms, abs=0.051)
        assert _f(m[7]) <= _f(m[4]) + 0.05  # waits only add to the idle floor
        factors = [_f(x) for x in m[8].split(" x ")]
        assert factors == [
            pytest.approx(plan.service(n).achieved_availability, abs=6e-7) for n in path.stages
        ]
        # both paths keep their session in the store: its factor is below one and shown
        assert m[9] is not None and 0.99 < _f(m[10]) < 1
        assert math.prod(factors) * _f(m[10]) == pytest.approx(_f(m[11]), abs=3e-6)
        assert _f(m[11]) == pytest.approx(path.availability, abs=6e-7)


def test_a_path_without_a_session_store_shows_no_store_factor(catalogue: Catalogue) -> None:
    plan, _, lines = _planned(request({"callbot": 20}), catalogue, store=False)
    for path, m in zip(plan.paths, _path_lines(lines, plan), strict=True):
        assert m[9] is None
        factors = [_f(x) for x in m[8].split(" x ")]
        assert len(factors) == len(path.stages) == 3
        assert math.prod(factors) == pytest.approx(_f(m[11]), abs=3e-6)


def _fits_by_hand(t: Totals, tier: Tier) -> bool:
    return (
        t.cpu_millicores <= tier.cpu_millicores
        and t.memory_mib <= tier.memory_mib
        and t.gpu <= tier.gpu
        and t.storage_gb <= tier.storage_gb
    )


def _tier_lines(lines: list[str]) -> list[re.Match[str]]:
    return [
        _match(
            r"tier (\w+) \((\S+), (\S+), (\d+) GPU, (\S+)\): (fits|does not fit: .+?)"
            r"( -> recommended| -> the spec's preset)?",
            line,
        )
        for line in _lines(lines, "tier ")
    ]


def test_tiers_are_judged_smallest_first_with_the_recommended_plan_up_to_the_first_that_fits(
    callbot: tuple[ResourcePlan, Sizer, list[str]], catalogue: Catalogue
) -> None:
    plan, _, lines = callbot
    ascending = catalogue.tiers_ascending()
    first_fit = next(i for i, t in enumerate(ascending) if _fits_by_hand(plan.totals, t))
    assert first_fit >= 2  # micro and small are both too small: two refusals to read
    tiers = _tier_lines(lines)
    assert [m[1] for m in tiers] == [t.name for t in ascending[: first_fit + 1]]
    for m, tier in zip(tiers, ascending, strict=False):
        assert (m[2], m[3], int(m[4]), m[5]) == (tier.cpu, tier.memory, tier.gpu, tier.storage)
    for m in tiers[:-1]:
        assert m[6].startswith("does not fit: ") and m[7] is None
    t = plan.totals
    for m, tier in zip(tiers[:-1], ascending, strict=False):
        over = [
            name
            for name, need, room in (
                ("CPU", t.cpu_millicores, tier.cpu_millicores),
                ("memory", t.memory_mib, tier.memory_mib),
                ("GPU", t.gpu, tier.gpu),
                ("storage", t.storage_gb, tier.storage_gb),
            )
            if need > room
        ]
        # every resource that does not fit, each named once
        said = m[6].removeprefix("does not fit: ").split("; ")
        assert [phrase.split(" ")[0] for phrase in said] == over
        shown = {"CPU": tier.cpu, "memory": tier.memory, "GPU": str(tier.gpu)}
        shown["storage"] = tier.storage
        for phrase in said:  # "<resource> <need><unit> > <the tier's room, as it is written>"
            need = _match(r"(CPU|memory|GPU|storage) [\d.]+(m|Mi|GB)? > (\S+)", phrase)
            assert need[3] == shown[need[1]]
    assert (tiers[-1][1], tiers[-1][6], tiers[-1][7]) == (plan.tier, "fits", " -> recommended")
    m = _match(
        r"totals: CPU (\d+)m, memory (\d+)Mi, GPU (\d+), storage ([\d.]+)GB",
        lines[lines.index(next(line for line in lines if line.startswith("totals: ")))],
    )
    assert (int(m[1]), int(m[2]), int(m[3])) == (t.cpu_millicores, t.memory_mib, t.gpu)
    assert _f(m[4]) == pytest.approx(t.storage_gb, abs=6e-4)
    # the services' requests and, beside them, the session store's
    assert t.cpu_millicores > sum(s.replicas * s.option.cpu_request_m for s in plan.services)


def test_a_preset_in_the_spec_is_the_only_tier_judged(catalogue: Catalogue) -> None:
    plan, _, lines = _planned(request({"chatbot": 10}, preset="large"), catalogue, store=True)
    (m,) = _tier_lines(lines)
    tier = catalogue.tiers["large"]
    assert _fits_by_hand(plan.totals, catalogue.tiers_ascending()[0])  # micro would hold it
    assert (m[1], m[6], m[7]) == ("large", "fits", " -> the spec's preset")
    assert (m[2], m[3], int(m[4]), m[5]) == (tier.cpu, tier.memory, tier.gpu, tier.storage)


def test_the_cost_line_adds_up_to_the_total_and_to_the_services_costs(
    callbot: tuple[ResourcePlan, Sizer, list[str]], catalogue: Catalogue
) -> None:
    plan, _, lines = callbot
    (line,) = _lines(lines, "cost: ")
    m = _match(
        rf"cost: CPU \$({NUM}) \+ memory \$({NUM}) \+ GPU \$({NUM}) \+ storage \$({NUM}) "
        rf"= \$({NUM})/month",
        line,
    )
    parts = [_f(m[i]) for i in range(1, 5)]
    c = plan.cost
    assert parts == [c.cpu, c.memory, c.gpu, c.storage]
    assert sum(parts) == pytest.approx(_f(m[5]), abs=0.011)
    assert _f(m[5]) > 1000  # "1,383.02": the thousands separator is parsed, not dropped
    assert "," in m[5]
    hours = catalogue.prices.hours_per_month
    gpu = sum(
        s.replicas * s.option.gpus_per_pod * catalogue.gpu_price(s.option.gpu_type) * hours
        for s in plan.services
        if s.option.gpu_type
    )
    assert parts[2] == pytest.approx(gpu, abs=0.01)
    assert lines[-1] == line  # no warnings for this tenant: the cost closes the account


def test_each_warning_of_the_plan_closes_the_account(catalogue: Catalogue) -> None:
    body = request({"chatbot": 50, "callbot": 10}, concurrent_users=5)
    plan, _, lines = _planned(body, catalogue, store=False)
    assert len(plan.warnings) == 1
    assert lines[-1] == f"warning: {plan.warnings[0]}"
    assert lines[-2].startswith("cost: ")


def test_a_pinned_gpu_type_leaves_its_two_runs_and_both_are_compared(
    catalogue: Catalogue,
) -> None:
    plan, sizer, lines = _planned(request({"callbot": 20}, gpu_type="l4"), catalogue, store=False)
    assert [o.key for o in sizer.options["stt"]] == ["l4 low-latency", "l4 balanced"]
    runs = _service_block(lines, "stt")[3:]
    assert [line.split(":")[0] for line in runs] == [
        "  option l4 low-latency",
        "  option l4 balanced",
    ]
    assert sum(line.endswith(" <- chosen") for line in runs) == 1
    assert plan.service("stt").option.gpu_type == "l4"


def test_a_path_over_its_sla_is_written_as_over_it(catalogue: Catalogue) -> None:
    plan, sizer = choose(demand_of(request({"chatbot": 30})), catalogue)
    (path,) = plan.paths
    # the account reports the plan it is given: one whose path is past a tighter SLA
    tight = replace(path, sla_ms=math.floor(path.predicted_ms) - 1)
    assert not tight.meets_sla
    over = plan.with_resources(plan.services, (tight,), plan.totals, plan.cost)
    (m,) = _path_lines(explain(over, sizer, catalogue), over)
    assert (m[5], _f(m[6])) == (">", tight.sla_ms)

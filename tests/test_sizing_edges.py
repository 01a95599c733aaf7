"""Edges of the sizing model's pure functions, with expectations worked by hand (issue 15: the
behaviours that mutation testing found unpinned)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import sizing_by_hand as by_hand
from sizing_support import request, shipped

from compiler.catalogue import Catalogue
from compiler.errors import InsufficientResources, ValidationFailed
from compiler.sizing import calculate
from compiler.sizing.availability import (
    at_least_k_up,
    replicas_for_availability,
    replicas_for_target,
    with_rollouts,
)
from compiler.sizing.cost import monthly_cost
from compiler.sizing.erlang import ErlangBSeries, erlang_b, erlang_c, mean_wait, service_level
from compiler.sizing.models import Totals
from compiler.sizing.options import ServiceOption, options_for, scaled_slots
from compiler.sizing.paths import check_percentile, tenant_paths, wait_allowances
from compiler.sizing.plan import misfits, service_target, with_pods
from compiler.sizing.queueing import pods_under_cap, queue_state, serving_pods


def test_without_a_floor_one_replica_is_enough_when_it_meets_the_target() -> None:
    # the default floor is 1: a = 0.9999 >= 0.5 with one replica
    assert replicas_for_availability(1, 0.9999, 0.5) == 1
    assert replicas_for_target(1, 0.9999, 0.5, 0.0) == 1


def test_a_target_within_the_tolerance_of_the_achieved_value_is_met() -> None:
    # 0.99 + 1e-12: one pod at 0.99 is within the 1e-12 tolerance of it
    assert replicas_for_availability(1, 0.99, 0.99 + 1e-12) == 1
    assert replicas_for_target(1, 0.99, 0.99 + 1e-12, 0.0) == 1
    # 1e-11 above is not: a second pod (1 - 0.01^2 = 0.9999)
    assert replicas_for_availability(1, 0.99, 0.99 + 1e-11) == 2


def test_k_of_n_at_its_edges() -> None:
    assert at_least_k_up(0, 3, 0.5) == 1.0  # nothing needs to be up
    assert at_least_k_up(4, 3, 0.99) == 0.0  # more needed than exist
    assert at_least_k_up(3, 3, 0.9) == pytest.approx(0.729, rel=1e-12)  # 0.9^3
    assert at_least_k_up(1, 3, 0.9) == pytest.approx(0.999, rel=1e-12)  # 1 - 0.1^3
    # 2 of 3 at 0.8: 0.8^3 + 3 x 0.8^2 x 0.2 = 0.512 + 0.384
    assert at_least_k_up(2, 3, 0.8) == pytest.approx(0.896, rel=1e-12)
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            at_least_k_up(1, 2, bad)


def test_rollouts_take_a_spare_down_for_their_share_of_the_month() -> None:
    r = 2 / 730
    # 1 of 2 at 0.995: (1 - r)(1 - 0.005^2) + r x 0.995
    assert with_rollouts(1, 2, 0.995, r) == pytest.approx((1 - r) * 0.999975 + r * 0.995, rel=1e-12)
    # 2 of 4 at 0.99: the rollout leaves 2 of 3
    steady = 1 - 0.01**4 - 4 * 0.99 * 0.01**3
    rolling = 0.99**3 + 3 * 0.99**2 * 0.01
    assert with_rollouts(2, 4, 0.99, r) == pytest.approx((1 - r) * steady + r * rolling, rel=1e-12)
    # no spares: the rollout surges first and takes nothing down
    assert with_rollouts(3, 3, 0.99, 0.5) == pytest.approx(0.99**3, rel=1e-12)
    assert with_rollouts(1, 2, 0.995, 0.0) == pytest.approx(0.999975, rel=1e-12)


def test_replicas_for_a_target_count_the_rollouts() -> None:
    r = 2 / 730
    # 1 serving pod at 0.995 for 0.9999: 2 give (1 - r) 0.999975 + r 0.995 = 0.9999614 < 0.9999?
    # no: 0.9999614 >= 0.9999, so 2; for 0.99997 they fall short and 3 are needed
    assert replicas_for_target(1, 0.995, 0.9999, r) == 2
    two = (1 - r) * 0.999975 + r * 0.995
    assert two < 0.99997
    assert replicas_for_target(1, 0.995, 0.99997, r) == 3
    assert replicas_for_target(2, 0.995, 0.5, r, floor=3) == 3
    assert math.isclose(with_rollouts(1, 2, 0.995, r), two, rel_tol=1e-12)


# --- per-pod queues (queueing.py) against sizing_by_hand's closed forms -----------------------


def _option(service: str, key: str, catalogue: Catalogue | None = None) -> ServiceOption:
    catalogue = catalogue or shipped()
    return next(o for o in options_for(service, "nlu", None, catalogue) if o.key == key)


@pytest.mark.parametrize(
    "service,key,rate,pods",
    [
        ("tts", "cpu", 5.0, 2),  # 1.25 E on 2 x 4 slots: waits rare (C < 0.3)
        ("tts", "cpu", 12.0, 1),  # 3 E on 4 slots: heavy traffic (C > 0.3)
        ("stt", "l4 balanced", 32.0, 2),  # 80 E on 2 x 57 streams
        ("callbot", "cpu", 10.0, 1),  # the hold is the response
    ],
)
def test_a_pods_wait_is_erlang_c_with_the_blended_variability_factor(
    service: str, key: str, rate: float, pods: int
) -> None:
    option = _option(service, key)
    run = next(r for r in by_hand.runs(service) if r["key"] == key)
    load = rate * run["hold_ms"] / 1000
    a = load / pods
    c = by_hand.erlang_c(run["slots"], a)
    state = queue_state(option, rate, pods)
    assert state.pods == pods
    assert state.load == pytest.approx(load, rel=1e-12)
    assert state.utilisation == pytest.approx(load / (pods * run["slots"]), rel=1e-12)
    assert state.p_wait == pytest.approx(c, rel=1e-9)
    theta = by_hand.wait_mean(run["slots"], a, run["hold_ms"], run["hold_cv"], c)
    assert state.wait_mean_ms == pytest.approx(theta, rel=1e-9)
    assert state.p_wait_longer(7.0) == pytest.approx(c * math.exp(-7.0 / theta), rel=1e-9)


def test_the_variability_factor_reaches_allen_cunneen_at_thirty_percent_waiting() -> None:
    # tts cv 0.5: Allen-Cunneen (1 + 0.25) / 2 = 0.625 in heavy traffic, (1 + 0.625) / 2 = 0.8125
    # as waits vanish; at C = 0.15 halfway between: 0.71875
    option = _option("tts", "cpu")
    heavy = queue_state(option, 12.0, 1)  # C(4, 3) = 0.509 > 0.3
    assert heavy.p_wait > 0.3
    assert heavy.wait_mean_ms == pytest.approx(250 / (4 - 3) * 0.625, rel=1e-9)
    light = queue_state(option, 1.0, 1)  # C(4, 0.25) ~ 1e-4
    c = light.p_wait
    factor = (c / 0.3) * 0.625 + (1 - c / 0.3) * 0.8125
    assert light.wait_mean_ms == pytest.approx(250 / (4 - 0.25) * factor, rel=1e-9)


def test_a_shared_queue_pools_every_pods_slots() -> None:
    option = replace(_option("tts", "cpu"), routing="shared")
    state = queue_state(option, 12.0, 2)  # 3 E in front of 8 slots
    c = by_hand.erlang_c(8, 3.0)
    assert state.p_wait == pytest.approx(c, rel=1e-9)
    assert state.wait_mean_ms == pytest.approx(by_hand.wait_mean(8, 3.0, 250, 0.5, c), rel=1e-9)
    random = queue_state(_option("tts", "cpu"), 12.0, 2)  # two queues of 1.5 E on 4 slots
    assert random.p_wait == pytest.approx(by_hand.erlang_c(4, 1.5), rel=1e-9)
    assert random.p_wait > state.p_wait


def test_an_idle_or_overloaded_pod() -> None:
    option = _option("tts", "cpu")
    idle = queue_state(option, 0.0, 1)
    assert (idle.load, idle.utilisation, idle.p_wait, idle.wait_mean_ms) == (0.0, 0.0, 0.0, 0.0)
    assert idle.p_wait_longer(0.0) == 0.0
    over = queue_state(option, 16.0, 1)  # 4 E on 4 slots
    assert (over.p_wait, over.wait_mean_ms) == (1.0, math.inf)
    assert over.p_wait_longer(1e9) == 1.0
    assert over.utilisation == pytest.approx(1.0)


def test_the_utilisation_cap_sets_the_fewest_pods() -> None:
    option = _option("tts", "cpu")  # 4 slots, cap 0.85: 3.4 E per pod
    assert pods_under_cap(option, 0.0) == 1
    assert pods_under_cap(option, 3.4 / 0.25) == 1  # exactly at the cap: 13.6/s x 0.25 s
    assert pods_under_cap(option, 3.41 / 0.25) == 2
    assert pods_under_cap(option, 2 * 3.4 / 0.25) == 2


@pytest.mark.parametrize(
    "service,key,rate,allowance,tail",
    [
        ("tts", "cpu", 16.0, 20.0, 0.05 / 6),
        ("tts", "cpu", 160.0, 5.0, 0.0005),
        ("stt", "l4 balanced", 200.0, 40.0, 0.05 / 6),
        ("stt", "l4 low-latency", 400.0, 1.0, 0.001),
        ("callbot", "cpu", 300.0, 3.0, 0.0025),
        ("qa", "cpu", 40.0, 30.0, 0.0125),
    ],
)
def test_serving_pods_are_the_fewest_whose_wait_tail_fits(
    service: str, key: str, rate: float, allowance: float, tail: float
) -> None:
    run = next(r for r in by_hand.runs(service) if r["key"] == key)
    load = rate * run["hold_ms"] / 1000
    cap = by_hand.service(service)["utilisation_cap"]
    expected = by_hand.serving_pods(
        run["slots"], load, run["hold_ms"], run["hold_cv"], cap, allowance, tail
    )
    assert serving_pods(_option(service, key), rate, allowance, tail).pods == expected


def test_a_search_past_the_pod_guard_is_refused() -> None:
    option = _option("tts", "cpu")
    with pytest.raises(InsufficientResources):
        serving_pods(option, 200.0, 0.0, 1e-300)


# --- options, cost, paths --------------------------------------------------------------------


def test_a_scaled_run_keeps_at_least_one_stream() -> None:
    assert scaled_slots(4, 1.0, 0.25) == 1  # 1.0
    assert scaled_slots(1, 1.0, 0.25) == 1  # 0.25 rounds down to 0: one stream still
    assert scaled_slots(6, 1.0, 0.25) == 1  # 1.5
    assert scaled_slots(128, 1.0, 0.55) == 70  # 70.4
    assert scaled_slots(64, 2.0, 1.0) == 32  # scaled from a faster type


def test_llm_runs_hold_a_sequence_for_ttft_plus_the_answers_tokens() -> None:
    """Llama 3.1 8B (presets/llm.yaml): KV cache (1024 + 64 tokens) x 0.125 MiB = 136 MiB a
    sequence; H100 80 GB x 0.9 - 16.1 - 2 = 53.9 GB -> 405 sequences, A100 40 x 0.9 - 18.1 =
    17.9 GB -> 134: every run's concurrency fits. Hold = TTFT + 64 x ITL: H100 x50 67 + 64 x 6.24
    = 466.36 ms; A100 x8 60 + 64 x 16.2 = 1096.8 ms. Availability 0.99 (a GPU pod)."""
    options = {o.key: o for o in options_for("callbot", "llm", None, shipped())}
    assert set(options) == {
        "llm h100 x1",
        "llm h100 x50",
        "llm h100 x100",
        "llm a100 x1",
        "llm a100 x8",
    }
    h = options["llm h100 x50"]
    assert (h.slots, h.gpu_type, h.gpus_per_pod, h.engine) == (50, "h100", 1, "llm")
    assert h.hold_ms == pytest.approx(67 + 64 * 6.24)
    assert (h.response_ms, h.response_cv, h.hold_cv) == (67, 0.3, 0.5)
    assert (h.cpu_request_m, h.memory_mib, h.storage_gb_per_replica) == (4000, 12 * 1024, 20)
    assert (h.availability, h.response_is_hold) == (0.99, False)
    a = options["llm a100 x8"]
    assert a.slots == 8
    assert a.hold_ms == pytest.approx(60 + 64 * 16.2)
    assert a.utilisation_cap == 0.85 and a.routing == "random"


def test_a_pin_keeps_the_cpu_run_beside_the_pinned_type_and_refuses_a_type_that_cannot() -> None:
    catalogue = shipped()
    tts = [o.key for o in options_for("tts", "nlu", "l4", catalogue)]
    assert tts == ["cpu", "l4 4-streams", "l4 6-streams"]
    stt = [o.key for o in options_for("stt", "nlu", "a10", catalogue)]
    assert stt == ["a10 low-latency", "a10 balanced"]
    assert [o.key for o in options_for("chatbot", "nlu", "a10", catalogue)] == ["cpu"]
    with pytest.raises(ValidationFailed) as refused:
        options_for("stt", "nlu", "t4", catalogue)
    assert refused.value.details["field"] == "gpu_type"
    assert "t4" in refused.value.message and "7.5" in refused.value.message
    with pytest.raises(ValidationFailed) as no_llm:
        options_for("stt", "llm", None, catalogue)
    assert no_llm.value.details["field"] == "engines.stt"


def test_a_pod_costs_its_requests_at_the_hourly_prices() -> None:
    catalogue = shipped()
    stt = _option("stt", "l4 balanced", catalogue)
    # 2 vCPU x 0.031611 + 4 GiB x 0.004237 + 1 L4 x 0.6105
    assert stt.hourly_price(catalogue) == pytest.approx(2 * 0.031611 + 4 * 0.004237 + 0.6105)
    tts = _option("tts", "cpu", catalogue)
    assert tts.hourly_price(catalogue) == pytest.approx(4 * 0.031611 + 2 * 0.004237)
    cost = monthly_cost(Totals(1000, 1024, 1, 10.0), "l4", catalogue)
    assert (cost.cpu, cost.memory, cost.gpu, cost.storage) == (
        round(0.031611 * 730, 2),
        round(0.004237 * 730, 2),
        round(0.6105 * 730, 2),
        0.4,
    )
    unknown = monthly_cost(Totals(0, 0, 2, 0.0), None, catalogue)
    assert unknown.gpu == round(2 * 0.95 * 730, 2)  # OpenCost's default GPU price
    assert unknown.total == unknown.gpu


def test_wait_allowances_are_the_least_stage_share_over_the_paths_through_a_service() -> None:
    catalogue = shipped()
    paths = tenant_paths({"callbot": 10, "advisor": 5, "stt": 0}, catalogue)
    assert [p.name for p in paths] == ["callbot-turn", "advisor-suggestion"]
    assert [p.rate_per_s for p in paths] == pytest.approx([10 * 0.2, 5 * 0.4])
    # Per path, per stage shares (0.25 x slack / stages, worked by hand): stt sits on both
    # paths and gets the smaller of its two shares; the others keep their only one.
    shares = {
        "callbot-turn": {"stt": 5.0, "callbot": 5.0, "tts": 5.0},
        "advisor-suggestion": {"stt": 12.5, "advisor": 12.5},
    }
    assert wait_allowances(shares) == {"stt": 5.0, "callbot": 5.0, "tts": 5.0, "advisor": 12.5}
    reversed_order = {k: shares[k] for k in reversed(list(shares))}
    assert wait_allowances(reversed_order)["stt"] == 5.0
    assert check_percentile(95) == 97.5 and check_percentile(99.9) == pytest.approx(99.95)


# --- plan.py and alternative.py ---------------------------------------------------------------


def test_each_service_gets_its_share_of_the_target_along_its_longest_path() -> None:
    assert service_target(0.999, 3) == pytest.approx(0.999 ** (1 / 3), rel=1e-15)
    assert service_target(0.999, 1) == 0.999
    assert service_target(0.999, 0) == 0.999  # a path has at least one stage


def test_a_services_mean_response_and_its_paths_idle_floor() -> None:
    """tts 20 at 99 %, 300 ms: one CPU pod of 4 slots at 20 x 0.2 = 4/s x 250 ms = 1 E:
    C(4, 1) = 0.0204 (closed form), theta = 250 / 3 x f; mean response 55.4 + C x theta. The
    path's idle floor is the Gamma(55.4, 0.25) p95 (79.97 ms by convolution)."""
    plan = calculate(
        request({"tts": 20}, availability="99%", response_time="300ms"), shipped()
    ).plan
    tts = plan.service("tts")
    assert (tts.option.key, tts.replicas_for_capacity, tts.replicas) == ("cpu", 1, 1)
    c = by_hand.erlang_c(4, 1.0)
    assert c == pytest.approx(0.0204082, rel=1e-5)
    theta = by_hand.wait_mean(4, 1.0, 250, 0.5, c)
    assert tts.predicted_response_ms == pytest.approx(55.4 + c * theta, rel=1e-9)
    floor = by_hand.idle_quantile([(55.4, 0.25)], 0.95)
    path = plan.path("tts-direct")
    assert floor - 0.05 <= path.idle_floor_ms <= floor + 0.4
    assert path.availability == pytest.approx(0.995, rel=1e-12)
    assert path.arrival_rate_per_s == pytest.approx(4.0)
    assert tts.storage_gb == pytest.approx(5.0)  # one replica x 5 GB of voices


def test_a_tier_holds_exactly_its_envelope() -> None:
    tier = shipped().tiers["small"]
    exact = Totals(tier.cpu_millicores, tier.memory_mib, tier.gpu, tier.storage_gb)
    assert misfits(exact, tier) == []
    over = Totals(
        tier.cpu_millicores + 1, tier.memory_mib + 1, tier.gpu + 1, tier.storage_gb + 0.001
    )
    assert [m.split(" ", 1)[0] for m in misfits(over, tier)] == ["CPU", "memory", "GPU", "storage"]
    assert misfits(over, tier)[0] == f"CPU {tier.cpu_millicores + 1}m > {tier.cpu}"


def test_fewer_pods_keep_the_services_load_and_shed_their_volumes() -> None:
    catalogue = shipped()
    plan = calculate(
        request({"stt": 100}, availability="99.9%", response_time="300ms"), catalogue
    ).plan
    stt = plan.service("stt")
    assert stt.replicas > stt.replicas_for_capacity
    fewer = with_pods(stt, stt.replicas_for_capacity, stt.replicas - 1, catalogue)
    assert fewer.rate_per_s == stt.rate_per_s and fewer.option == stt.option
    assert fewer.storage_gb == pytest.approx(stt.storage_gb - 20)  # 20 GB model cache a pod
    a = by_hand.service("stt")["availability"]
    assert fewer.achieved_availability == pytest.approx(
        by_hand.with_rollouts(
            stt.replicas_for_capacity, stt.replicas - 1, a, by_hand.rollout_share()
        ),
        rel=1e-12,
    )
    run = next(r for r in by_hand.runs("stt") if r["key"] == stt.option.key)
    pods = fewer.replicas_for_capacity
    assert fewer.queue.p_wait == pytest.approx(
        by_hand.erlang_c(run["slots"], stt.rate_per_s * 2.5 / pods), rel=1e-9
    )


def test_the_smallest_tier_has_no_alternative_and_a_squeeze_needs_something_to_give() -> None:
    catalogue = shipped()
    micro = calculate(
        request({"chatbot": 100}, availability="99.5%", response_time="300ms"), catalogue
    )
    assert micro.plan.tier == "micro" and micro.alternatives == ()
    assert "no smaller tier" in micro.alternative_note
    # one STT pod on small: micro holds no GPU and the pod is at its cap's minimum already
    small = calculate(request({"stt": 10}, availability="99%", response_time="300ms"), catalogue)
    assert small.plan.tier == "small" and small.alternatives == ()
    assert "micro" in small.alternative_note


def test_an_alternative_is_cheaper_and_fits_the_next_tier_down() -> None:
    """my-ai-service's plan is large; its alternative must fit medium (24 CPUs, 32Gi, 3 GPUs,
    1 TB) beside medium's store, cost less, and keep every pod at or under its cap."""
    catalogue = shipped()
    body = request(
        {"callbot": 50, "chatbot": 100, "advisor": 25, "stt": 30, "tts": 30},
        availability="99.9%",
        response_time="300ms",
    )
    result = calculate(body, catalogue)
    (alt,) = result.alternatives
    assert (result.plan.tier, alt.tier) == ("large", "medium")
    medium = catalogue.tiers["medium"]
    assert misfits(alt.totals, medium) == []
    assert alt.cost.total < result.plan.cost.total
    for s in alt.services:
        run = next(r for r in by_hand.runs(s.name) if r["key"] == s.option.key)
        load = s.rate_per_s * run["hold_ms"] / 1000
        cap = by_hand.service(s.name)["utilisation_cap"]
        assert load <= s.replicas_for_capacity * run["slots"] * cap + 1e-9, s.name
        assert s.replicas >= s.replicas_for_capacity
    answer = result.to_response()["alternatives"][0]
    assert answer["preset"] == "medium"
    assert answer["monthly_cost_usd"] == pytest.approx(alt.cost.total, abs=0.01)


# --- Erlang B/C at the edges (erlang.py) -------------------------------------------------------


def test_erlang_b_without_servers_blocks_everything_and_without_load_nothing() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(3, 0.0) == 0.0
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    for servers, load in ((-1, 1.0), (1, -0.5)):
        with pytest.raises(ValueError, match="non-negative"):
            erlang_b(servers, load)


def test_a_known_probability_of_waiting_is_used_as_given() -> None:
    # C = 0.5 given: mean wait 0.5 x 180 / (14 - 10) = 22.5
    assert mean_wait(14, 10.0, 180.0, p_wait=0.5) == pytest.approx(22.5)
    assert mean_wait(14, 10.0, 180.0) == pytest.approx(erlang_c(14, 10.0) * 180 / 4)
    # C(2, 1) = 1/3 by the closed form: answered within t = 1 - C e^{-(2 - 1) t / hold}
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert service_level(2, 1.0, 1.0, 0.5) == pytest.approx(1 - math.exp(-0.5) / 3)


def test_the_growing_series_from_its_first_server() -> None:
    series = ErlangBSeries(2.0)
    assert series.at(0) == 1.0
    assert series.at(1) == pytest.approx(2 / 3)  # A / (1 + A)
    assert series.at(2) == pytest.approx(0.4)  # (2 x 2/3) / (2 + 2 x 2/3)
    assert series.at(2) == pytest.approx(0.4)  # asked again: the same
    assert series.at(1) == pytest.approx(2 / 3)  # back down: computed afresh
    assert ErlangBSeries(0.0).at(3) == 0.0
    assert ErlangBSeries(3.0).load == 3.0
    with pytest.raises(ValueError, match="non-negative"):
        ErlangBSeries(-1.0)

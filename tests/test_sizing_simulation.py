"""The simulator against queueing closed forms written out here (not imported from the model).

Tolerances come from the run itself: a mean's standard error by batch means (consecutive requests
share queue states, so the plain sigma / sqrt(n) would be too small), four of them either side.
Single-stage paths with a zero response make the path time the wait W itself, so the path samples
are the waiting-time distribution the formulas describe.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from typing import Any

import pytest
from sim_plans import corpus, random_plan

from compiler.errors import ValidationFailed
from compiler.sizing import simulation
from compiler.sizing.simulation import compare, engine, interpolated_percentile, simulate

BATCHES = 20


# ---- closed forms, written out independently of compiler.sizing.erlang --------------------------


def erlang_c(servers: int, offered: float) -> float:
    """P(W > 0) in M/M/c: Erlang B by its recursion, then C = B / (1 - rho (1 - B))."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    rho = offered / servers
    return b / (1.0 - rho * (1.0 - b))


def mmc_mean_wait_ms(servers: int, rate_per_s: float, hold_ms: float) -> float:
    offered = rate_per_s * hold_ms / 1000.0
    return erlang_c(servers, offered) * hold_ms / (servers - offered)


def mmc_wait_tail(servers: int, rate_per_s: float, hold_ms: float, t_ms: float) -> float:
    """P(W > t) = C exp(-(c mu - lambda) t)."""
    offered = rate_per_s * hold_ms / 1000.0
    decay_per_ms = servers / hold_ms - rate_per_s / 1000.0
    return erlang_c(servers, offered) * math.exp(-decay_per_ms * t_ms)


def mg1_mean_wait_ms(rate_per_s: float, hold_ms: float, cv: float) -> float:
    """Pollaczek-Khinchine: Wq = rho S (1 + cv^2) / (2 (1 - rho))."""
    rho = rate_per_s * hold_ms / 1000.0
    return rho * hold_ms * (1.0 + cv * cv) / (2.0 * (1.0 - rho))


# ---- helpers ------------------------------------------------------------------------------------


def queue(
    *,
    pods: int = 1,
    slots: int = 1,
    rate: float,
    hold_ms: float,
    hold_cv: float = 1.0,
    response_ms: float = 0.0,
    response_cv: float = 0.0,
    is_hold: bool = False,
    routing: str = "random",
) -> dict[str, Any]:
    return {
        "pods": pods,
        "slots_per_pod": slots,
        "arrival_rate_per_s": rate,
        "hold_ms": hold_ms,
        "hold_cv": hold_cv,
        "response_ms": response_ms,
        "response_cv": response_cv,
        "response_is_hold": is_hold,
        "routing": routing,
    }


def one_stage(**kwargs: Any) -> dict[str, Any]:
    return {
        "paths": [{"name": "p", "stages": ["s"], "arrival_rate_per_s": kwargs["rate"]}],
        "services": [{"service_name": "s", "queue": queue(**kwargs)}],
    }


def batch_se(values: list[float] | tuple[float, ...]) -> float:
    """Standard error of the mean of correlated `values` by batch means."""
    size = len(values) // BATCHES
    means = [statistics.fmean(values[b * size : (b + 1) * size]) for b in range(BATCHES)]
    return statistics.stdev(means) / math.sqrt(BATCHES)


def assert_mean(values: list[float] | tuple[float, ...], expected: float) -> None:
    tolerance = 4 * batch_se(values) + 1e-9
    assert abs(statistics.fmean(values) - expected) <= tolerance, (
        f"mean {statistics.fmean(values):.4f} vs {expected:.4f} +- {tolerance:.4f}"
    )


def waits(plan: dict[str, Any], requests: int = 60_000, seed: int = 1) -> tuple[float, ...]:
    return simulate(plan, requests_per_path=requests, seed=seed).paths["p"].samples


# ---- single queues against closed forms ---------------------------------------------------------


@pytest.mark.parametrize(
    ("slots", "rate", "hold_ms"),
    [(1, 70.0, 10.0), (4, 150.0, 20.0), (16, 600.0, 25.0)],
    ids=["M/M/1 at 0.7", "M/M/4 at 0.75", "M/M/16 at 0.94"],
)
def test_mmc_mean_wait_and_probability_of_waiting_are_erlang_c(
    slots: int, rate: float, hold_ms: float
) -> None:
    plan = one_stage(slots=slots, rate=rate, hold_ms=hold_ms)
    result = simulate(plan, requests_per_path=60_000, seed=2)
    w = result.paths["p"].samples
    assert_mean(w, mmc_mean_wait_ms(slots, rate, hold_ms))
    assert_mean([1.0 if x > 0 else 0.0 for x in w], erlang_c(slots, rate * hold_ms / 1000.0))
    service = result.services["s"]
    assert service.mean_wait_ms == pytest.approx(statistics.fmean(w), rel=0.05)
    assert service.p_wait == pytest.approx(sum(x > 0 for x in w) / len(w), rel=0.05)


@pytest.mark.parametrize("t_ms", [2.0, 10.0, 30.0, 60.0], ids=lambda t: f"t={t:g}ms")
def test_mmc_waiting_time_tail_is_c_times_exponential(t_ms: float) -> None:
    # FIFO matters here: LIFO has the same mean wait but a much longer tail.
    w = waits(one_stage(slots=4, rate=160.0, hold_ms=20.0), seed=3)
    assert_mean([1.0 if x > t_ms else 0.0 for x in w], mmc_wait_tail(4, 160.0, 20.0, t_ms))


@pytest.mark.parametrize("cv", [0.0, 0.5, 1.0], ids=["M/D/1", "M/G/1 cv 0.5", "M/M/1"])
def test_single_slot_mean_wait_is_pollaczek_khinchine(cv: float) -> None:
    w = waits(one_stage(rate=60.0, hold_ms=10.0, hold_cv=cv), seed=4)
    assert_mean(w, mg1_mean_wait_ms(60.0, 10.0, cv))


def test_response_cv_shapes_an_independent_response() -> None:
    # Plenty of slots: no waits, so the path time is the response alone, Gamma(mean 40, cv 0.5).
    plan = one_stage(slots=200, rate=20.0, hold_ms=10.0, response_ms=40.0, response_cv=0.5)
    t = simulate(plan, requests_per_path=40_000, seed=5).paths["p"].samples
    assert statistics.fmean(t) == pytest.approx(40.0, rel=0.02)
    assert statistics.stdev(t) == pytest.approx(20.0, rel=0.03)


# ---- routing ------------------------------------------------------------------------------------


def three_pods(routing: str) -> dict[str, Any]:
    # 3 pods x 1 slot at rho 0.8, exponential holds of 10 ms.
    return one_stage(pods=3, slots=1, rate=240.0, hold_ms=10.0, routing=routing)


def test_random_routing_is_independent_queues_per_pod() -> None:
    # Poisson splitting: each pod is an M/M/1 with lambda / 3 (Wq 40 ms), not an M/M/3 (10.8 ms).
    w = waits(three_pods("random"), seed=6)
    assert_mean(w, mmc_mean_wait_ms(1, 80.0, 10.0))


def test_a_shared_queue_is_one_mmc_over_every_slot() -> None:
    w = waits(three_pods("shared"), seed=7)
    assert_mean(w, mmc_mean_wait_ms(3, 240.0, 10.0))


def test_least_request_lies_between_a_shared_queue_and_random_pods() -> None:
    # 8 pods x 1 slot at rho 0.7: least-request waits only when every pod is busy, as a shared
    # queue does, but then a request is stuck at its pod while another may free first.
    plan = one_stage(pods=8, slots=1, rate=560.0, hold_ms=10.0, routing="least-request")
    w = waits(plan, seed=8)
    margin = 4 * batch_se(w)
    assert mmc_mean_wait_ms(8, 560.0, 10.0) + margin < statistics.fmean(w)
    assert statistics.fmean(w) + margin < mmc_mean_wait_ms(1, 70.0, 10.0) / 4


def test_least_request_prefers_the_emptiest_pod_and_the_lowest_index_on_ties() -> None:
    # 0.4 Erlang on 8 slots hardly ever waits, so the number in system is Poisson(0.4). An arrival
    # finding it empty is a four-way tie: pod 0 takes it, so pod 0's share is at least P(N = 0).
    # Pod 3 is chosen only when pods 0-2 each hold one more than it: at most P(N >= 3).
    plan = one_stage(pods=4, slots=2, rate=40.0, hold_ms=10.0, routing="least-request")
    service = simulate(plan, requests_per_path=20_000, seed=14).services["s"]
    shares = service.pod_shares
    p_empty = math.exp(-0.4)
    p_three_or_more = 1 - p_empty * (1 + 0.4 + 0.4**2 / 2)
    tolerance = 4 * math.sqrt(0.25 / service.arrivals)
    assert shares[0] >= p_empty - tolerance
    assert list(shares) == sorted(shares, reverse=True)
    assert shares[3] <= p_three_or_more + tolerance
    random_plan_ = one_stage(pods=4, slots=2, rate=40.0, hold_ms=10.0, routing="random")
    service = simulate(random_plan_, requests_per_path=20_000, seed=14).services["s"]
    spread = 4 * math.sqrt(0.25 * 0.75 / service.arrivals)
    assert all(abs(share - 0.25) <= spread for share in service.pod_shares)


# ---- response, utilisation, paths ---------------------------------------------------------------


def test_response_is_hold_counts_the_hold_and_an_independent_response_does_not() -> None:
    # Holds of 10 ms fill the slot either way (the wait is M/M/1's); the path counts W + S when
    # the response is the hold, W + 2 ms when it is an independent constant 2 ms.
    base = {"rate": 50.0, "hold_ms": 10.0, "response_ms": 2.0, "response_cv": 0.0}
    held = waits(one_stage(**base, is_hold=True), seed=10)
    apart = waits(one_stage(**base), seed=10)
    wq = mmc_mean_wait_ms(1, 50.0, 10.0)
    assert_mean(held, wq + 10.0)
    assert_mean(apart, wq + 2.0)
    # M/M/1 FIFO sojourn time W + S is exponential with rate mu - lambda: its p95 by hand.
    p95 = math.log(20.0) / (1 / 10.0 - 50.0 / 1000.0)
    assert interpolated_percentile(sorted(held), 95.0) == pytest.approx(p95, rel=0.05)


def test_utilisation_is_offered_load_over_slots_for_shared_services_and_background() -> None:
    plan = {
        "paths": [
            {"name": "a", "stages": ["x", "y"], "arrival_rate_per_s": 30.0},
            {"name": "b", "stages": ["y"], "arrival_rate_per_s": 20.0},
        ],
        "services": [
            # x: 30/s from path a plus 15/s from outside the paths, x 100 ms over 2 x 4 slots.
            {"service_name": "x", "queue": queue(
                pods=2, slots=4, rate=45.0, hold_ms=100.0, hold_cv=0.5)},
            {"service_name": "y", "queue": queue(
                pods=3, slots=1, rate=50.0, hold_ms=40.0, hold_cv=0.0, routing="least-request")},
        ],
    }  # fmt: skip
    result = simulate(plan, requests_per_path=30_000, seed=11)
    for name, rate, hold, slots, cv in (("x", 45.0, 100.0, 8, 0.5), ("y", 50.0, 40.0, 3, 0.0)):
        service = result.services[name]
        expected = rate * hold / 1000.0 / slots
        # Busy time is the sum of the window's holds: relative error sqrt((1 + cv^2) / arrivals).
        tolerance = 4 * math.sqrt((1 + cv * cv) / service.arrivals) + 0.005
        assert service.utilisation == pytest.approx(expected, rel=tolerance)
        assert service.arrival_rate_per_s == pytest.approx(rate, rel=tolerance)


def hypoexponential_tail(t: float, m1: float, m2: float) -> float:
    """P(X1 + X2 > t) for independent exponentials with means m1 != m2."""
    return (m1 * math.exp(-t / m1) - m2 * math.exp(-t / m2)) / (m1 - m2)


def test_a_three_stage_path_is_the_convolution_of_its_stages() -> None:
    # No waits (slots far above the load): T = 20 (constant) + Exp(30) + Exp(50), stages in order.
    plan = {
        "paths": [{"name": "p", "stages": ["d", "e1", "e2"], "arrival_rate_per_s": 10.0}],
        "services": [
            {"service_name": "d", "queue": queue(
                slots=100, rate=10.0, hold_ms=20.0, hold_cv=0.0, is_hold=True)},
            {"service_name": "e1", "queue": queue(
                slots=100, rate=10.0, hold_ms=500.0, response_ms=30.0, response_cv=1.0)},
            {"service_name": "e2", "queue": queue(
                slots=100, rate=10.0, hold_ms=50.0, is_hold=True)},
        ],
    }  # fmt: skip
    path = simulate(plan, requests_per_path=40_000, seed=12).paths["p"]
    n = path.count
    for p in (50.0, 95.0, 99.0):
        # Solve 20 + t: P(X1 + X2 > t) = 1 - p by bisection.
        lo, hi = 0.0, 2000.0
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if hypoexponential_tail(mid, 30.0, 50.0) > 1 - p / 100 else (lo, mid)
        exact = 20.0 + lo
        # Order statistic of n independent samples: sd sqrt(p (1-p) / n) / f(x_p).
        density = (math.exp(-lo / 50.0) - math.exp(-lo / 30.0)) / (50.0 - 30.0)
        q = p / 100
        tolerance = 4 * math.sqrt(q * (1 - q) / n) / density
        assert path.percentile_ms(p) == pytest.approx(exact, abs=tolerance)
    assert min(path.samples) >= 20.0


def test_the_confidence_interval_covers_the_exact_percentile_and_narrows_with_more_requests() -> (
    None
):
    plan = one_stage(rate=50.0, hold_ms=10.0, is_hold=True)
    exact = math.log(20.0) / (1 / 10.0 - 50.0 / 1000.0)
    short = simulate(plan, requests_per_path=10_000, seed=13).paths["p"].percentile_ci_ms(95.0)
    long = simulate(plan, requests_per_path=80_000, seed=13).paths["p"].percentile_ci_ms(95.0)
    assert long[0] <= exact <= long[1]
    assert (long[1] - long[0]) < (short[1] - short[0]) * 0.6


def test_the_confidence_interval_is_as_wide_as_the_spread_between_independent_runs() -> None:
    # Ten seeds give ten independent p95 estimates; a 95 % interval's half-width should be about
    # 1.96 of their standard deviation (within the factor 2 that ten runs can pin down).
    plan = one_stage(slots=2, rate=150.0, hold_ms=10.0, is_hold=True)
    runs = [simulate(plan, requests_per_path=8_000, seed=s).paths["p"] for s in range(40, 50)]
    spread = 1.96 * statistics.stdev(r.percentile_ms(95.0) for r in runs)
    halves = [(r.percentile_ci_ms(95.0)[1] - r.percentile_ci_ms(95.0)[0]) / 2 for r in runs]
    assert spread / 2 < statistics.fmean(halves) < spread * 2


# ---- runs: seeds, warm-up, the estimator --------------------------------------------------------


def test_a_seed_gives_the_same_samples_and_another_seed_different_ones() -> None:
    plan = random_plan(random.Random(5))
    one = simulate(plan, requests_per_path=3_000, seed=21)
    again = simulate(plan, requests_per_path=3_000, seed=21)
    other = simulate(plan, requests_per_path=3_000, seed=22)
    assert one == again
    assert one.paths != other.paths


def test_warm_up_requests_are_simulated_but_not_measured() -> None:
    plan = one_stage(rate=85.0, hold_ms=10.0)
    cold = simulate(plan, requests_per_path=5_000, seed=23, warmup_fraction=0.0)
    warm = simulate(plan, requests_per_path=5_000, seed=23, warmup_fraction=0.2)
    assert cold.paths["p"].count == 5_000
    assert warm.paths["p"].samples == cold.paths["p"].samples[1_000:]


def test_the_percentile_interpolates_between_order_statistics() -> None:
    ordered = [1.0, 2.0, 3.0, 4.0]
    assert interpolated_percentile(ordered, 0) == 1.0
    assert interpolated_percentile(ordered, 50) == 2.5
    assert interpolated_percentile(ordered, 95) == pytest.approx(3.85)
    assert interpolated_percentile(ordered, 100) == 4.0
    assert interpolated_percentile([7.0], 99.9) == 7.0


def test_a_plan_whose_paths_differ_hugely_in_rate_is_cut_to_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "MAX_GENERATED", 20_000)
    plan = {
        "paths": [
            {"name": "fast", "stages": ["s"], "arrival_rate_per_s": 1000.0},
            {"name": "slow", "stages": ["s"], "arrival_rate_per_s": 5.0},
        ],
        "services": [{"service_name": "s", "queue": queue(slots=10, rate=1005.0, hold_ms=1.0)}],
    }
    started = time.perf_counter()
    result = simulate(plan, requests_per_path=20_000, seed=24, warmup_fraction=0.0)
    assert time.perf_counter() - started < 30  # a bound on a hang, not a speed test
    assert result.paths["fast"].count == 19_900
    assert result.paths["slow"].count == 99
    monkeypatch.setattr(engine, "MAX_GENERATED", 1_000)
    with pytest.raises(ValidationFailed, match="slow is too slow"):
        simulate(plan, requests_per_path=20_000, seed=24)


def test_every_generated_plan_simulates_at_its_stated_utilisation() -> None:
    for plan in corpus(12, seed=31):
        assert 1 <= len(plan["paths"]) <= 3
        assert all(1 <= len(p["stages"]) <= 4 for p in plan["paths"])
        result = simulate(plan, requests_per_path=4_000, seed=1)
        for service in plan["services"]:
            stated = service["queue"]["utilisation"]
            assert 0.1 <= stated <= 0.85
            measured = result.services[service["service_name"]]
            cv = service["queue"]["hold_cv"]
            tolerance = 5 * math.sqrt((1 + cv * cv) / measured.arrivals)
            assert measured.utilisation == pytest.approx(stated, rel=tolerance)


def test_compare_puts_the_model_beside_the_simulation_and_judges_the_band() -> None:
    # M/M/1 sojourn at rho 0.5: exponential with mean 20 ms, p95 = 20 ln 20 = 59.9 ms.
    plan = one_stage(rate=50.0, hold_ms=10.0, is_hold=True)
    exact = 20.0 * math.log(20.0)
    result = simulate(plan, requests_per_path=40_000, seed=15)
    honest, optimistic = (
        {**plan, "paths": [{**plan["paths"][0], "percentile": 95, "predicted_ms": ms}]}
        for ms in (exact, 0.8 * exact)
    )
    (good,) = compare(honest, result)
    (bad,) = compare(optimistic, result)
    assert good.within() and good.simulated_ci_ms is not None
    assert good.simulated_ms == result.paths["p"].percentile_ms(95.0)
    assert not bad.within()
    assert bad.relative_error == pytest.approx(0.8 * exact / good.simulated_ms - 1)
    with pytest.raises(ValidationFailed) as caught:
        compare({**plan, "paths": [{**plan["paths"][0], "percentile": 100}]}, result)
    assert caught.value.details["field"] == "paths[0].percentile"


# ---- bad input ----------------------------------------------------------------------------------


def good() -> dict[str, Any]:
    return one_stage(pods=2, slots=2, rate=10.0, hold_ms=50.0)


def broken(change: str) -> dict[str, Any]:
    plan = good()
    q = plan["services"][0]["queue"]
    if change == "no paths":
        del plan["paths"]
    elif change == "pods 0":
        q["pods"] = 0
    elif change == "pods 1.5":
        q["pods"] = 1.5
    elif change == "no hold":
        del q["hold_ms"]
    elif change == "no response_cv":
        del q["response_cv"]
    elif change == "negative cv":
        q["hold_cv"] = -0.1
    elif change == "nan rate":
        plan["paths"][0]["arrival_rate_per_s"] = float("nan")
    elif change == "bool slots":
        q["slots_per_pod"] = True
    elif change == "routing":
        q["routing"] = "round-robin"
    elif change == "unknown stage":
        plan["paths"][0]["stages"] = ["s", "nope"]
    elif change == "duplicate service":
        plan["services"].append(plan["services"][0])
    elif change == "paths exceed total":
        q["arrival_rate_per_s"] = 5.0
    return plan


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("no paths", "plan.paths"),
        ("pods 0", "services[0].queue.pods"),
        ("pods 1.5", "services[0].queue.pods"),
        ("no hold", "services[0].queue.hold_ms"),
        ("no response_cv", "services[0].queue.response_cv"),
        ("negative cv", "services[0].queue.hold_cv"),
        ("nan rate", "paths[0].arrival_rate_per_s"),
        ("bool slots", "services[0].queue.slots_per_pod"),
        ("routing", "services[0].queue.routing"),
        ("unknown stage", "paths[0].stages[1]"),
        ("duplicate service", "services[1].service_name"),
        ("paths exceed total", "services[0].queue.arrival_rate_per_s"),
    ],
    ids=lambda v: str(v),
)
def test_bad_plans_are_refused_naming_the_field(change: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        simulate(broken(change))
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.details["field"] == field


def test_an_unstable_queue_is_refused_instead_of_simulated() -> None:
    # 2 pods x 2 slots x (1 / 0.1 s) = 40/s of capacity against 40/s offered.
    plan = one_stage(pods=2, slots=2, rate=40.0, hold_ms=100.0)
    with pytest.raises(ValidationFailed, match="unstable") as caught:
        simulate(plan)
    assert caught.value.details["utilisation"] == pytest.approx(1.0)
    assert caught.value.details["service"] == "s"


@pytest.mark.parametrize(
    "kwargs",
    [{"requests_per_path": 5}, {"seed": "x"}, {"warmup_fraction": 1.0}],
    ids=["too few requests", "seed not an int", "warm-up everything"],
)
def test_bad_run_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        simulate(good(), **kwargs)


def test_the_package_opens_with_its_charter() -> None:
    assert simulation.__doc__ is not None
    assert "must not read the catalogue" in simulation.__doc__

"""Per-pod queues: the wait a request sees for a pod count, and the fewest pods that meet a tail.

Erlang C is computed here from its textbook definition (not the compiler's erlang module), and
the wait scale from the model the README states: theta = hold / (c - A) x f, with f Allen-Cunneen's
(1 + cv^2) / 2 once 30 % of arrivals wait and halfway to M/M/c where waits are rare.
"""

from __future__ import annotations

import math

import pytest

from compiler.errors import InsufficientResources
from compiler.sizing.options import ServiceOption
from compiler.sizing.queueing import (
    MAX_PODS,
    QueueState,
    pods_under_cap,
    queue_state,
    serving_pods,
)


def option(
    *,
    slots: int = 4,
    hold_ms: float = 500.0,
    hold_cv: float = 1.0,
    routing: str = "random",
    cap: float = 0.8,
) -> ServiceOption:
    return ServiceOption(
        service="tts",
        key="cpu",
        engine="cpu",
        gpu_type=None,
        gpus_per_pod=0,
        slots=slots,
        hold_ms=hold_ms,
        hold_cv=hold_cv,
        response_ms=hold_ms,
        response_cv=hold_cv,
        response_is_hold=True,
        cpu_request_m=1000,
        cpu_limit_m=2000,
        memory_mib=1024,
        storage_gb_per_replica=0.0,
        availability=0.999,
        utilisation_cap=cap,
        routing=routing,
    )


def erlang_c(c: int, a: float) -> float:
    """P(wait > 0) in M/M/c with c servers and a Erlangs, by its definition."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_the_load_is_rate_times_hold_and_the_utilisation_is_per_slot() -> None:
    state = queue_state(option(slots=4, hold_ms=500), rate_per_s=10, pods=2)
    assert state.pods == 2
    assert state.load == pytest.approx(5.0)
    assert state.utilisation == pytest.approx(5 / 8)


def test_no_traffic_never_waits() -> None:
    state = queue_state(option(), rate_per_s=0, pods=3)
    assert state == QueueState(3, 0.0, 0.0, 0.0, 0.0)
    assert state.p_wait_longer(0.0) == 0.0


@pytest.mark.parametrize(
    ("routing", "servers", "offered"),
    [("random", 4, 2.5), ("shared", 8, 5.0), ("least-request", 8, 5.0)],
    ids=["random-routing-is-one-queue-per-pod", "shared-is-one-pooled-queue", "jsq-as-pooled"],
)
def test_the_chance_to_wait_is_erlang_c_of_the_queue_routing_makes(
    routing: str, servers: int, offered: float
) -> None:
    state = queue_state(option(slots=4, hold_ms=500, routing=routing), rate_per_s=10, pods=2)
    assert state.p_wait == pytest.approx(erlang_c(servers, offered), rel=1e-9)


def test_in_heavy_traffic_the_wait_scale_is_allen_cunneen() -> None:
    cv = 0.5
    state = queue_state(option(slots=4, hold_ms=400, hold_cv=cv), rate_per_s=9, pods=1)
    c, a = 4, 9 * 0.4
    assert erlang_c(c, a) > 0.3
    assert state.wait_mean_ms == pytest.approx(400 / (c - a) * (1 + cv**2) / 2)


def test_where_waits_are_rare_the_wait_scale_moves_halfway_to_m_m_c() -> None:
    cv = 0.5
    state = queue_state(option(slots=4, hold_ms=400, hold_cv=cv), rate_per_s=2.5, pods=1)
    c, a = 4, 1.0
    p = erlang_c(c, a)
    assert p < 0.3
    ac = (1 + cv**2) / 2
    heavy = p / 0.3
    f = heavy * ac + (1 - heavy) * (1 + ac) / 2
    assert state.wait_mean_ms == pytest.approx(400 / (c - a) * f)
    assert state.wait_mean_ms > 400 / (c - a) * ac  # rare waits: a longer tail than AC's


def test_the_chance_to_wait_longer_falls_exponentially_with_the_wait_scale() -> None:
    state = queue_state(option(slots=4, hold_ms=400), rate_per_s=8, pods=1)
    assert 0 < state.p_wait < 1
    assert state.p_wait_longer(0.0) == pytest.approx(state.p_wait)
    assert state.p_wait_longer(state.wait_mean_ms) == pytest.approx(state.p_wait / math.e)
    assert state.p_wait_longer(3 * state.wait_mean_ms) == pytest.approx(state.p_wait / math.e**3)


@pytest.mark.parametrize("rate", [20.0, 25.0], ids=["at-capacity", "past-capacity"])
def test_a_saturated_queue_always_waits(rate: float) -> None:
    state = queue_state(option(slots=4, hold_ms=200), rate_per_s=rate, pods=1)
    assert state.p_wait == 1.0 and state.wait_mean_ms == math.inf
    assert state.pods == 1 and state.load == pytest.approx(rate * 0.2)
    assert state.p_wait_longer(10_000.0) == 1.0
    assert state.utilisation == pytest.approx(rate * 0.2 / 4)


@pytest.mark.parametrize(
    ("rate", "pods"),
    [(10.0, 2), (10.01, 3), (0.001, 1), (0.0, 1)],
    ids=["exactly-at-the-cap", "just-above-the-cap", "a-trickle-still-needs-a-pod", "none"],
)
def test_pods_under_cap_is_the_fewest_that_keep_each_pod_at_its_cap(rate: float, pods: int) -> None:
    # 10 req/s x 0.5 s = 5 Erlangs on 4-slot pods capped at 62.5 %: 2.5 Erlangs a pod.
    assert pods_under_cap(option(slots=4, hold_ms=500, cap=0.625), rate) == pods


@pytest.mark.parametrize("rate", [1.0, 7.0, 23.0, 61.0, 150.0])
@pytest.mark.parametrize("routing", ["random", "shared"])
def test_serving_pods_is_the_fewest_pods_whose_tail_is_met(rate: float, routing: str) -> None:
    served = option(slots=4, hold_ms=300, routing=routing, cap=0.95)
    allowance, tail = 50.0, 0.001
    state = serving_pods(served, rate, allowance, tail)
    assert state == queue_state(served, rate, state.pods)
    assert state.p_wait_longer(allowance) <= tail
    floor = pods_under_cap(served, rate)
    assert state.pods >= floor
    if state.pods > floor:
        assert queue_state(served, rate, state.pods - 1).p_wait_longer(allowance) > tail


def test_when_the_cap_binds_serving_pods_is_the_cap_s_count() -> None:
    served = option(slots=4, hold_ms=300, cap=0.5)
    state = serving_pods(served, 20.0, allowance_ms=10_000.0, tail=0.5)
    assert state.pods == pods_under_cap(served, 20.0) == 3


def test_a_tail_no_pod_count_can_meet_is_refused_past_the_guard() -> None:
    served = option(slots=1, hold_ms=1000, cap=1.0)
    with pytest.raises(InsufficientResources) as refused:
        serving_pods(served, 1000.0, allowance_ms=0.0, tail=0.0)
    assert refused.value.message == f"tts needs more than {MAX_PODS} pods"


def test_a_zero_tail_is_met_by_a_queue_that_never_waits() -> None:
    state = serving_pods(option(), 0.0, allowance_ms=0.0, tail=0.0)
    assert state.pods == 1 and state.p_wait == 0.0


def test_a_need_just_under_the_guard_is_still_met() -> None:
    """625 one-slot pods at the cap, allowance 0: P(W > 0) = 625 / pods on each M/M/1 pod, so a
    tail of 0.2 needs 3125 pods; the search reaches 5000 (= MAX_PODS) on its way and must try it."""
    served = option(slots=1, hold_ms=1000, cap=1.0)
    assert pods_under_cap(served, 625.0) == 625 and MAX_PODS == 5000
    state = serving_pods(served, 625.0, allowance_ms=0.0, tail=0.2)
    assert state.pods == 3125

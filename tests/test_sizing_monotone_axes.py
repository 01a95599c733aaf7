"""Monotone answers one axis at a time (issues 8 and 15): more channels of one service, a stricter
response time, a stricter percentile or a higher availability, each alone, never give a cheaper
plan, fewer replicas of a service whose run did not change, fewer GPUs of a type whose services
kept it, fewer session-store data pods, or (when no service changed its run) fewer replicas in
total. tests/test_sizing_monotone.py moves every axis at once; here a failure names the axis."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sizing_support import shipped

from compiler.errors import OrchestratorError
from compiler.sizing import Calculation, calculate
from compiler.spec.models import SERVICES, CalculateRequest

CATALOGUE = shipped()
AVAILABILITY = ["99%", "99.5%", "99.86%", "99.9%", "99.95%", "99.99%"]
RESPONSE_MS = [250, 300, 400, 600, 1000]
PERCENTILES = ["p50", "p90", "p95", "p99", "p99.9"]

base = st.fixed_dictionaries(
    {
        "services": st.dictionaries(
            st.sampled_from(SERVICES), st.integers(1, 300), min_size=1, max_size=3
        ),
        "availability": st.integers(0, len(AVAILABILITY) - 1),
        "response": st.integers(0, len(RESPONSE_MS) - 1),
        "percentile": st.integers(0, len(PERCENTILES) - 1),
    }
)


def _calc(r: dict[str, Any]) -> Calculation | None:
    body = {
        "service_requirements": r["services"],
        "sla_target": {
            "availability": AVAILABILITY[r["availability"]],
            "response_time": f"{RESPONSE_MS[r['response']]}ms",
            "percentile": PERCENTILES[r["percentile"]],
        },
    }
    try:
        return calculate(CalculateRequest.model_validate(body), CATALOGUE)
    except OrchestratorError:
        return None


def _check(easy_r: dict[str, Any], hard_r: dict[str, Any]) -> None:
    easy, hard = _calc(easy_r), _calc(hard_r)
    if hard is None:
        return  # refusing the harder request is never "cheaper"
    assert easy is not None, "the easier request was refused but the harder one was planned"
    e, h = easy.plan, hard.plan
    assert h.cost.total >= e.cost.total - 0.01, (e.cost.total, h.cost.total)
    same_run = True
    for s in e.services:
        t = h.service(s.name)
        if t.option.key == s.option.key:
            assert t.replicas >= s.replicas, (s.name, s.replicas, t.replicas)
        else:
            same_run = False
    if same_run:
        assert h.pods >= e.pods
    for gpu in {s.gpu_type for s in e.services if s.gpu_type}:
        names = [s.name for s in e.services if s.gpu_type == gpu]
        if all(h.service(n).gpu_type == gpu for n in names):
            before = sum(e.service(n).replicas * e.service(n).gpu_per_replica for n in names)
            after = sum(h.service(n).replicas * h.service(n).gpu_per_replica for n in names)
            assert after >= before, gpu
    if easy.session_store and hard.session_store:
        assert hard.session_store["data_pods"] >= easy.session_store["data_pods"]


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(base, st.sampled_from(SERVICES), st.integers(1, 400))
def test_more_channels_of_one_service_never_give_a_cheaper_or_smaller_plan(
    r: dict[str, Any], name: str, extra: int
) -> None:
    more = {**r, "services": {**r["services"], name: r["services"].get(name, 0) + extra}}
    _check(r, more)


@SETTINGS
@given(base, st.integers(1, len(RESPONSE_MS) - 1))
def test_a_stricter_response_time_alone_never_gives_a_cheaper_or_smaller_plan(
    r: dict[str, Any], by: int
) -> None:
    _check(r, {**r, "response": max(0, r["response"] - by)})


@SETTINGS
@given(base, st.integers(1, len(PERCENTILES) - 1))
def test_a_stricter_percentile_alone_never_gives_a_cheaper_or_smaller_plan(
    r: dict[str, Any], by: int
) -> None:
    _check(r, {**r, "percentile": min(len(PERCENTILES) - 1, r["percentile"] + by)})


@SETTINGS
@given(base, st.integers(1, len(AVAILABILITY) - 1))
def test_a_higher_availability_alone_never_gives_a_cheaper_or_smaller_plan(
    r: dict[str, Any], by: int
) -> None:
    _check(r, {**r, "availability": min(len(AVAILABILITY) - 1, r["availability"] + by)})

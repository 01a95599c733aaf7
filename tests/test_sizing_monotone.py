"""Monotone answers: asking for more never gets a cheaper plan, fewer GPUs of the same type, or
fewer replicas of a service whose hardware did not change (issue 8), across tier boundaries."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sizing_support import shipped

from compiler.errors import OrchestratorError
from compiler.sizing import calculate
from compiler.sizing.models import ResourcePlan
from compiler.spec.models import SERVICES, CalculateRequest

CATALOGUE = shipped()
AVAILABILITY = ["99%", "99.5%", "99.86%", "99.9%", "99.95%", "99.99%"]
RESPONSE_MS = [250, 300, 350, 400, 600, 1000, 3000]
PERCENTILES = ["p50", "p90", "p95", "p99", "p99.9"]

channels = st.integers(min_value=0, max_value=200)
requests = st.fixed_dictionaries(
    {
        "services": st.dictionaries(
            st.sampled_from(SERVICES), st.integers(1, 200), min_size=1, max_size=4
        ),
        "availability": st.integers(0, len(AVAILABILITY) - 1),
        "response": st.integers(0, len(RESPONSE_MS) - 1),
        "percentile": st.integers(0, len(PERCENTILES) - 1),
        "llm": st.booleans(),
    }
)
harder = st.fixed_dictionaries(
    {
        "more": st.dictionaries(st.sampled_from(SERVICES), channels, max_size=3),
        "availability": st.integers(0, 2),
        "response": st.integers(0, 2),
        "percentile": st.integers(0, 2),
    }
)


def body(r: dict[str, Any]) -> dict[str, Any]:
    services = {k: v for k, v in r["services"].items() if v > 0}
    answer: dict[str, Any] = {
        "service_requirements": services,
        "sla_target": {
            "availability": AVAILABILITY[r["availability"]],
            "response_time": f"{RESPONSE_MS[r['response']]}ms",
            "percentile": PERCENTILES[r["percentile"]],
        },
    }
    if r["llm"]:
        answer["engines"] = {"callbot": "llm", "chatbot": "llm"}
    return answer


def stricter(r: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    services = dict(r["services"])
    for name, extra in h["more"].items():
        services[name] = min(100_000, services.get(name, 0) + extra)
    return {
        "services": services,
        "availability": min(len(AVAILABILITY) - 1, r["availability"] + h["availability"]),
        "response": max(0, r["response"] - h["response"]),
        "percentile": min(len(PERCENTILES) - 1, r["percentile"] + h["percentile"]),
        "llm": r["llm"],
    }


def plan_of(r: dict[str, Any]) -> ResourcePlan | None:
    try:
        return calculate(CalculateRequest.model_validate(body(r)), CATALOGUE).plan
    except OrchestratorError:
        return None


# Open defect (issue 8), found by this property on 2026-12-02 (seed 2419000647): a chatbot
# tenant of 17 channels at 250 ms p99.9 costs $7,620 at 99 % and $4,265 at 99.5 %: a higher
# availability picks a cheaper GPU plan. Until the model is fixed the property stays in the run,
# visible as XFAIL when it finds such a case (non-strict: most seeds do not).
@pytest.mark.xfail(strict=False, reason="issue 8: 99% -> 99.5% can pick a cheaper plan")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests, harder)
@example(  # an LLM run of one sequence per GPU needs > 5,000 pods: it is skipped, not fatal
    {
        "services": {"chatbot": 52, "callbot": 1},
        "availability": 2,
        "response": 1,
        "percentile": 4,
        "llm": True,
    },
    {"more": {}, "availability": 1, "response": 0, "percentile": 0},
)
@example(  # stt's GPU type changes (h100 high-throughput -> a100 balanced): tts's CPU pods held
    {
        "services": {"stt": 396, "callbot": 40},
        "availability": 4,
        "response": 5,
        "percentile": 2,
        "llm": False,
    },
    {"more": {}, "availability": 1, "response": 0, "percentile": 0},
)
@example(  # a stricter percentile moves stt to h100 balanced: the advisor's pods held (11)
    {
        "services": {"advisor": 729, "chatbot": 1822, "qa": 5},
        "availability": 1,
        "response": 5,
        "percentile": 3,
        "llm": False,
    },
    {"more": {}, "availability": 0, "response": 1, "percentile": 1},
)
def test_a_harder_request_never_gets_a_cheaper_or_smaller_plan(
    r: dict[str, Any], h: dict[str, Any]
) -> None:
    easy, hard = plan_of(r), plan_of(stricter(r, h))
    if hard is None:
        return  # refusing the harder request is never "cheaper"
    assert easy is not None, "the easier request was refused but the harder one was planned"
    assert hard.cost.total >= easy.cost.total - 0.01
    for s in easy.services:
        if s.name not in {x.name for x in hard.services}:
            continue
        t = hard.service(s.name)
        if t.option == s.option:
            assert t.replicas >= s.replicas, s.name
            # and the split: a stage's wait allowance depends on its own hardware alone
            # (paths.stage_share), so another stage's switch of GPU type cannot lend it slack
            assert t.replicas_for_capacity >= s.replicas_for_capacity, s.name
            assert t.replicas - t.replicas_for_capacity >= s.replicas - s.replicas_for_capacity, (
                s.name
            )
    for gpu in {s.gpu_type for s in easy.services if s.gpu_type}:
        same = [s.name for s in easy.services if s.gpu_type == gpu]
        if all(
            hard.service(n).gpu_type == gpu for n in same if n in {x.name for x in hard.services}
        ):
            easy_gpus = sum(s.replicas * s.gpu_per_replica for s in easy.services if s.name in same)
            hard_gpus = sum(s.replicas * s.gpu_per_replica for s in hard.services if s.name in same)
            assert hard_gpus >= easy_gpus, gpu

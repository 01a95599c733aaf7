"""The cheaper alternative one tier down: squeezed where it hurts least, never over a cap, and an
impact text that names the worst path; --explain agrees with the recommendation."""

from __future__ import annotations

import pytest
from sizing_support import request, shipped

from compiler.catalogue import Catalogue
from compiler.sizing import calculate
from compiler.sizing.alternative import _paths, _step, impact_text
from compiler.sizing.choose import choose, demand_of
from compiler.sizing.plan import with_pods
from compiler.sizing.queueing import pods_under_cap
from compiler.spec.models import PRESETS


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return shipped()


def test_a_squeeze_takes_the_serving_pod_whose_loss_hurts_the_worst_path_least(
    catalogue: Catalogue,
) -> None:
    body = request({"tts": 60, "qa": 100}, availability="99%", response_time="1s")
    plan, sizer = choose(demand_of(body), catalogue)
    # no spares left: every step must take a serving pod of tts or of qa
    services = tuple(
        with_pods(s, s.replicas_for_capacity, s.replicas_for_capacity, catalogue)
        for s in plan.services
    )
    reducible = [
        s.name for s in services if s.replicas_for_capacity > pods_under_cap(s.option, s.rate_per_s)
    ]
    assert reducible == ["tts", "qa"]
    by_hand = {}
    for i, s in enumerate(services):
        if s.name in reducible:
            trial = (
                *services[:i],
                with_pods(s, s.replicas - 1, s.replicas - 1, catalogue),
                *services[i + 1 :],
            )
            by_hand[s.name] = max(
                p.predicted_ms / p.sla_ms for p in _paths(trial, sizer, catalogue)
            )
    assert by_hand["tts"] != by_hand["qa"]
    least = min(by_hand, key=lambda n: by_hand[n])
    after = _step(services, ["CPU 1m > 0m"], sizer, catalogue)
    assert after is not None
    changed = [a.name for a, b in zip(after, services, strict=True) if a.replicas != b.replicas]
    assert changed == [least]


def test_a_squeeze_removes_spares_before_serving_pods(catalogue: Catalogue) -> None:
    body = request({"callbot": 20, "chatbot": 100})
    result = calculate(body, catalogue)
    (alt,) = result.alternatives
    assert PRESETS.index(alt.tier) == PRESETS.index(result.plan.tier) - 1
    for s in alt.services:
        assert s.replicas_for_capacity == result.plan.service(s.name).replicas_for_capacity
    assert alt.cost.total < result.plan.cost.total


def test_an_alternative_states_each_paths_percentile_and_whether_it_meets_the_sla(
    catalogue: Catalogue,
) -> None:
    # medium -> small (micro's 4 cores hold no 4-core tts pod beside the tenant's Redis)
    answer = calculate(request({"tts": 64}, availability="99%"), catalogue).to_response()
    (alt,) = answer["alternatives"]
    (path,) = alt["paths"]
    assert path["name"] == "tts-direct" and path["percentile"] == 95
    assert path["predicted_ms"] > answer["paths"][0]["predicted_ms"]
    assert path["meets_sla"] == (path["predicted_ms"] <= path["sla_ms"])
    assert all(s["queue"]["utilisation"] <= 0.85 for s in alt["services"])


def test_the_impact_names_the_worst_path_and_its_rise(catalogue: Catalogue) -> None:
    result = calculate(request({"tts": 64}, availability="99%"), catalogue)
    (alt,) = result.alternatives
    rise = round((alt.paths[0].predicted_ms / result.plan.paths[0].predicted_ms - 1) * 100)
    text = impact_text(alt, result.plan.availability_target)
    assert text.startswith(f"음성합성 p95 {rise}% 증가 예상 (")
    assert rise > 0


def test_an_impact_over_the_sla_says_so(catalogue: Catalogue) -> None:
    result = calculate(request({"tts": 72}, availability="99%", response_time="130ms"), catalogue)
    (alt,) = result.alternatives
    text = impact_text(alt, result.plan.availability_target)
    assert alt.paths[0].meets_sla is False and text.endswith("(SLA 130ms 초과)")


def test_an_alternative_that_only_loses_spares_is_not_called_a_zero_percent_rise(
    catalogue: Catalogue,
) -> None:
    (alt,) = calculate(request({"callbot": 20, "chatbot": 100}), catalogue).to_response()[
        "alternatives"
    ]
    assert "0% 증가" not in alt["performance_impact"]
    assert "가용성" in alt["performance_impact"] and "목표 99.9%" in alt["performance_impact"]


def test_explain_judges_every_tier_with_the_plan_it_recommends(catalogue: Catalogue) -> None:
    result = calculate(request({"callbot": 20, "chatbot": 100}), catalogue, explain=True)
    tiers = [line for line in result.explanation if line.startswith("tier ")]
    assert tiers[-1].startswith(f"tier {result.plan.tier} ") and tiers[-1].endswith(
        "fits -> recommended"
    )
    assert all(": does not fit: " in line for line in tiers[:-1])
    text = "\n".join(result.explanation)
    for needle in (
        "path callbot-turn: stt -> callbot -> tts",
        "convolution of",
        " x ",
        "cost: CPU",
    ):
        assert needle in text
    assert "option h100 low-latency:" in text and "<- chosen" in text


def test_a_squeeze_takes_first_the_spare_whose_loss_keeps_availability_highest(
    catalogue: Catalogue,
) -> None:
    plan, sizer = choose(demand_of(request({"callbot": 20, "chatbot": 100})), catalogue)
    spares = [s for s in plan.services if s.replicas > s.replicas_for_capacity]
    assert len(spares) >= 3
    after_loss = {
        s.name: with_pods(
            s, s.replicas_for_capacity, s.replicas - 1, catalogue
        ).achieved_availability
        for s in spares
    }
    assert len(set(after_loss.values())) > 1
    best = max(after_loss, key=lambda n: after_loss[n])
    after = _step(plan.services, ["CPU 1m > 0m", "GPU 1 > 0"], sizer, catalogue)
    assert after is not None
    changed = [
        a.name for a, b in zip(after, plan.services, strict=True) if a.replicas != b.replicas
    ]
    assert changed == [best]

"""Sizing a tenant: capacity, availability, leaning services, tiers, costs, alternatives."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.catalogue import Catalogue, load_catalogue
from compiler.errors import InsufficientResources, SlaUnachievable
from compiler.sizing import calculate, plan_tenant
from compiler.sizing.plan import effective_channels
from compiler.spec.loader import load_spec_file
from compiler.spec.models import CalculateRequest, TenantSpec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "presets")


def spec(**fields: object) -> TenantSpec:
    body: dict[str, object] = {"tenant_id": "t", "name": "t"}
    body.update(fields)
    return TenantSpec.model_validate(body)


def test_the_reference_medium_tenant_fits_its_explicit_medium_preset(catalogue: Catalogue) -> None:
    plan = plan_tenant(load_spec_file(ROOT / "tenants/my-ai-service.yaml"), catalogue)
    assert plan.tier == "medium" and plan.tier_source == "explicit"
    assert plan.totals.cpu_millicores <= 24000 and plan.totals.gpu <= 3


def test_the_reference_large_tenant_keeps_its_explicit_large_preset(catalogue: Catalogue) -> None:
    plan = plan_tenant(load_spec_file(ROOT / "tenants/global-call-center.yaml"), catalogue)
    assert plan.tier == "large"


def test_a_callbot_call_holds_stt_and_tts_and_an_advisor_transcribes_both_sides(
    catalogue: Catalogue,
) -> None:
    channels = effective_channels({"callbot": 10, "advisor": 4}, catalogue)
    assert channels["stt"] == pytest.approx(10 * 0.5 + 4 * 1)
    assert channels["tts"] == pytest.approx(10)


def test_every_service_gets_two_replicas_under_a_three_nines_sla(catalogue: Catalogue) -> None:
    plan = plan_tenant(
        spec(service_requirements={"chatbot": 1, "ta": 1}, sla_target={"availability": "99.9%"}),
        catalogue,
    )
    assert {s.name: s.replicas for s in plan.services} == {"chatbot": 2, "ta": 2}


def test_one_replica_is_enough_below_three_nines_when_capacity_allows(catalogue: Catalogue) -> None:
    plan = plan_tenant(
        spec(service_requirements={"chatbot": 1}, sla_target={"availability": "99%"}), catalogue
    )
    assert plan.service("chatbot").replicas == 1


def test_more_channels_never_mean_fewer_replicas(catalogue: Catalogue) -> None:
    counts = [
        plan_tenant(spec(service_requirements={"callbot": n}), catalogue)
        .service("callbot")
        .replicas
        for n in (10, 100, 200, 400)
    ]
    assert counts == sorted(counts) and counts[-1] > counts[0]


def test_every_predicted_response_time_meets_the_sla(catalogue: Catalogue) -> None:
    plan = plan_tenant(
        spec(
            service_requirements={"callbot": 300, "chatbot": 500, "advisor": 100},
            sla_target={"availability": "99.9%", "response_time": "180ms"},
            gpu_type="a100",  # 250 busy STT streams need more than large's six V100s
        ),
        catalogue,
    )
    assert all(s.predicted_response_ms <= 180 for s in plan.services)
    assert all(s.achieved_availability >= 0.999 for s in plan.services)


def test_a_preset_that_is_too_small_names_what_does_not_fit(catalogue: Catalogue) -> None:
    with pytest.raises(InsufficientResources) as caught:
        plan_tenant(spec(preset="micro", service_requirements={"stt": 10}), catalogue)
    assert caught.value.code == "INSUFFICIENT_RESOURCES"
    assert "GPU" in caught.value.message and "micro" in caught.value.message
    assert caught.value.details["field"] == "preset"


def test_demand_beyond_the_largest_tier_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(InsufficientResources) as caught:
        plan_tenant(spec(service_requirements={"chatbot": 100_000}), catalogue)
    assert "large" in caught.value.message


def test_an_sla_faster_than_an_idle_replica_is_unachievable(catalogue: Catalogue) -> None:
    with pytest.raises(SlaUnachievable) as caught:
        plan_tenant(
            spec(service_requirements={"advisor": 1}, sla_target={"response_time": "50ms"}),
            catalogue,
        )
    assert caught.value.details["field"] == "sla_target.response_time"


def test_the_recommended_preset_is_the_smallest_that_holds_the_plan(catalogue: Catalogue) -> None:
    plan = plan_tenant(
        spec(service_requirements={"chatbot": 40}, sla_target={"availability": "99.5%"}), catalogue
    )
    assert plan.tier == "micro" and plan.gpu_type is None


def test_a_gpu_type_override_is_used_for_gpu_services(catalogue: Catalogue) -> None:
    plan = plan_tenant(spec(service_requirements={"stt": 20}, gpu_type="h100"), catalogue)
    assert plan.gpu_type == "h100"
    assert plan.service("stt").slots_per_replica == 256


def test_cost_is_opencosts_formula_over_the_requests(catalogue: Catalogue) -> None:
    plan = plan_tenant(spec(service_requirements={"chatbot": 10}), catalogue)
    t = plan.totals
    expected = (t.cpu_millicores / 1000 * 0.031611 + t.memory_mib / 1024 * 0.004237) * 730
    assert plan.cost.cpu + plan.cost.memory == pytest.approx(expected, abs=0.02)
    assert plan.cost.storage == pytest.approx(t.storage_gb * 0.04, abs=0.01)


def test_calculate_answers_in_the_references_shape(catalogue: Catalogue) -> None:
    request = CalculateRequest.model_validate(
        {
            "service_requirements": {"callbot": 100, "chatbot": 200, "advisor": 50},
            "sla_target": {"availability": "99.9%", "response_time": "150ms"},
        }
    )
    response = calculate(request, catalogue).to_response()
    assert set(response) >= {
        "recommended_preset",
        "resources",
        "gpu_type",
        "estimated_cost",
        "alternatives",
    }
    assert response["resources"] == catalogue.tiers[response["recommended_preset"]].model_dump(
        include={"cpu", "memory", "gpu", "storage"}
    )
    for alt in response["alternatives"]:
        assert set(alt) == {"preset", "resources", "cost", "performance_impact"}
        assert alt["performance_impact"].startswith("응답시간 ")
        assert alt["performance_impact"].endswith("% 증가 예상")


def test_the_alternative_is_one_tier_down_and_never_faster(catalogue: Catalogue) -> None:
    request = CalculateRequest.model_validate(
        {"service_requirements": {"callbot": 20, "chatbot": 100}}
    )
    result = calculate(request, catalogue)
    (alt,) = result.alternatives
    assert alt.tier == "small" and result.plan.tier == "medium"
    assert alt.predicted_response_ms >= alt.baseline_response_ms
    assert alt.cost.total < result.plan.cost.total


def test_an_alternative_below_the_availability_target_says_so(catalogue: Catalogue) -> None:
    request = CalculateRequest.model_validate(
        {"service_requirements": {"callbot": 20, "chatbot": 100}}
    )
    (alt,) = calculate(request, catalogue).to_response()["alternatives"]
    assert "가용성" in alt["performance_impact"] and "목표 99.9%" in alt["performance_impact"]


def test_no_alternative_is_offered_when_the_smaller_tier_cannot_carry_the_load(
    catalogue: Catalogue,
) -> None:
    request = CalculateRequest.model_validate(
        {"service_requirements": {"callbot": 25, "chatbot": 85, "advisor": 32}}
    )
    result = calculate(request, catalogue, explain=True)
    assert result.alternatives == ()
    assert result.explanation[-1] == "alternative: none, no plan fits small for less"


def test_explain_lists_every_step(catalogue: Catalogue) -> None:
    request = CalculateRequest.model_validate({"service_requirements": {"callbot": 50}})
    text = "\n".join(calculate(request, catalogue, explain=True).explanation)
    for needle in ("offered load A", "P(wait)", "availability:", "tier micro", "cost: CPU", "stt:"):
        assert needle in text


def test_ten_thousand_channels_size_without_overflow(catalogue: Catalogue) -> None:
    plan = plan_tenant(
        spec(service_requirements={"chatbot": 10_000}, sla_target={"availability": "99%"}),
        catalogue,
    )
    assert plan.service("chatbot").replicas >= 1


def test_gpu_services_run_on_the_tiers_gpu_type_unless_the_spec_overrides_it(
    catalogue: Catalogue,
) -> None:
    medium = plan_tenant(spec(preset="medium", service_requirements={"stt": 20}), catalogue)
    large = plan_tenant(spec(preset="large", service_requirements={"stt": 20}), catalogue)
    assert (medium.gpu_type, large.gpu_type) == ("l4", "v100")
    assert large.service("stt").slots_per_replica == 64


def test_a_plan_beyond_the_largest_tier_names_its_gpu_type(catalogue: Catalogue) -> None:
    with pytest.raises(InsufficientResources) as caught:
        plan_tenant(spec(service_requirements={"stt": 400}), catalogue)
    assert caught.value.details["gpu_type"] == "v100"

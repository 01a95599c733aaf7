"""Sizing a tenant: traffic, per-pod queues, paths at a percentile, availability along paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sizing_support import ROOT, corpus, edited, request, shipped, spec

from compiler.catalogue import Catalogue
from compiler.errors import (
    InsufficientResources,
    PresetDataInvalid,
    SlaUnachievable,
    ValidationFailed,
)
from compiler.sizing import calculate, plan_tenant
from compiler.sizing.availability import replicas_for_target
from compiler.sizing.choose import Sizer, demand_of
from compiler.sizing.cost import service_cost
from compiler.sizing.queueing import queue_state
from compiler.spec.loader import load_spec_file


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return shipped()


@pytest.fixture(scope="module")
def plans() -> list[dict[str, Any]]:
    return corpus(60)


def test_the_corpus_is_varied_enough_to_check_the_model(plans: list[dict[str, Any]]) -> None:
    paths = {p["name"] for plan in plans for p in plan["paths"]}
    percentiles = {p["percentile"] for plan in plans for p in plan["paths"]}
    gpus = {s["gpu_type"] for plan in plans for s in plan["services"]}
    assert len(plans) >= 50 and len(paths) == 7
    assert {50.0, 95.0, 99.9} <= percentiles and {"h100", "l4"} <= gpus


def test_every_path_of_every_plan_meets_its_sla_with_the_serving_pods(
    plans: list[dict[str, Any]],
) -> None:
    for plan in plans:
        for path in plan["paths"]:
            assert path["meets_sla"] and path["predicted_ms"] <= path["sla_ms"], path
            assert path["predicted_ms"] >= path["idle_floor_ms"]


def test_a_services_arrival_rate_is_the_sum_of_its_paths(plans: list[dict[str, Any]]) -> None:
    for plan in plans:
        for s in plan["services"]:
            total = sum(
                p["arrival_rate_per_s"] for p in plan["paths"] if s["service_name"] in p["stages"]
            )
            assert s["queue"]["arrival_rate_per_s"] == pytest.approx(total, abs=1e-5)


def test_no_pod_is_planned_above_its_utilisation_cap_even_in_alternatives(
    plans: list[dict[str, Any]], catalogue: Catalogue
) -> None:
    for plan in plans:
        for s in [*plan["services"], *(x for a in plan["alternatives"] for x in a["services"])]:
            cap = catalogue.services[s["service_name"]].utilisation_cap
            assert s["queue"]["utilisation"] <= cap + 1e-4, s


def test_path_availability_is_the_product_of_its_services_and_meets_the_target(
    plans: list[dict[str, Any]],
) -> None:
    for plan in plans:
        by_name = {s["service_name"]: s["availability"] for s in plan["services"]}
        store = plan["session_store"]  # the tenant's Redis, in series on the session paths
        for path in plan["paths"]:
            product = store["availability"] if path["name"] in store["paths"] else 1.0
            for stage in path["stages"]:
                product *= by_name[stage]
            assert path["availability"] == pytest.approx(product, abs=2e-6)


def test_a_fully_busy_stt_stream_is_exactly_one_erlang(catalogue: Catalogue) -> None:
    plan = calculate(request({"stt": 10}), catalogue).plan
    assert plan.service("stt").offered_load == pytest.approx(10.0, abs=1e-12)


def test_the_bot_answers_every_caller_turn_and_stt_is_busy_half_the_call(
    catalogue: Catalogue,
) -> None:
    plan = calculate(request({"callbot": 100}), catalogue).plan
    assert plan.service("tts").rate_per_s == plan.service("callbot").rate_per_s == 20.0
    assert plan.service("stt").offered_load == pytest.approx(50.0)


def test_per_pod_queues_wait_more_than_one_shared_queue_of_the_same_slots(
    catalogue: Catalogue,
) -> None:
    option = Sizer(demand_of(request({"tts": 50})), catalogue).options["tts"][0]
    from dataclasses import replace

    random = queue_state(option, 50.0, 4)
    shared = queue_state(replace(option, routing="shared"), 50.0, 4)
    assert random.p_wait > shared.p_wait > 0


@pytest.mark.parametrize("preset", ["medium", None], ids=["its-medium", "any-tier"])
def test_the_reference_create_example_needs_gpu_tts_and_more_gpus_than_a_tier_holds(
    catalogue: Catalogue, preset: str | None
) -> None:
    """At 200 ms the callbot turn fits only with TTS on a GPU (CPU TTS's first audio leaves the
    turn's floor above 200 ms); its waits may then take ~1.5 ms a stage, which takes more GPUs
    than medium's 3 or large's 6: refused naming what it needs, never a plan that misses."""
    body = spec(
        {"callbot": 50, "chatbot": 100, "advisor": 25, "stt": 30, "tts": 30},
        **({"preset": preset} if preset else {}),
        sla_target={"availability": "99.9%", "response_time": "200ms"},
    )
    with pytest.raises(InsufficientResources) as caught:
        plan_tenant(body, catalogue)
    d = caught.value.details
    assert d["preset"] == (preset or "large") and d["gpu_types"]["tts"] is not None
    assert any(e.startswith("GPU ") for e in d["exceeded"])
    assert d["required"]["gpu"] > catalogue.tiers["large"].gpu


def test_without_gpu_tts_the_create_example_is_refused_naming_path_floor_and_target(
    tmp_path: Path,
) -> None:
    def cpu_tts(data: dict[str, Any]) -> None:
        tts = data["services"]["tts"]
        for key in ("gpu", "requires", "gpu_pod", "gpu_runs"):
            del tts[key]

    body = spec(
        {"callbot": 50, "chatbot": 100, "advisor": 25, "stt": 30, "tts": 30},
        sla_target={"availability": "99.9%", "response_time": "200ms"},
    )
    with pytest.raises(SlaUnachievable) as caught:
        plan_tenant(body, edited(tmp_path, "services.yaml", cpu_tts))
    d = caught.value.details
    assert (d["path"], d["field"], d["target_ms"]) == (
        "callbot-turn",
        "sla_target.response_time",
        200,
    )
    assert 200 < d["idle_floor_ms"] < d["nearest_feasible_ms"]
    assert "callbot-turn" in caught.value.message and f"{d['idle_floor_ms']}ms" in (
        caught.value.message
    )


def test_the_nearest_feasible_target_is_feasible(catalogue: Catalogue) -> None:
    with pytest.raises(SlaUnachievable) as caught:
        calculate(request({"callbot": 10, "advisor": 5}, response_time="150ms"), catalogue)
    nearest = caught.value.details["nearest_feasible_ms"]
    body = request({"callbot": 10, "advisor": 5}, response_time=f"{nearest}ms")
    plan = calculate(body, catalogue).plan
    assert all(p.meets_sla for p in plan.paths)


def test_the_reference_large_tenant_gets_a_plan_on_hardware_that_meets_every_path(
    catalogue: Catalogue,
) -> None:
    plan = plan_tenant(load_spec_file(ROOT / "tenants/global-call-center.yaml"), catalogue)
    assert plan.tier == "large" and plan.tier_source == "explicit"
    assert all(p.meets_sla for p in plan.paths)
    assert plan.service("stt").gpu_type in {"a10", "l4", "a100", "h100"}


def test_the_gpu_type_is_the_cheapest_that_meets_every_path(catalogue: Catalogue) -> None:
    body = request({"stt": 100}, response_time="300ms")
    sizer = Sizer(demand_of(body), catalogue)
    chosen = calculate(body, catalogue).plan.service("stt")
    cheaper = [
        o.key
        for o in sizer.options["stt"]
        if all(sizer.path_feasible(p, {"stt": o}) for p in sizer.paths)
        and service_cost(sizer.plans_of([o])[0], catalogue) < service_cost(chosen, catalogue) - 0.01
    ]
    assert cheaper == [] and chosen.option.key != "h100 low-latency"  # not simply the fastest


def test_a_pinned_gpu_type_is_used_for_every_gpu_service(catalogue: Catalogue) -> None:
    plan = calculate(request({"stt": 20}, gpu_type="a100", response_time="400ms"), catalogue).plan
    assert plan.service("stt").gpu_type == "a100"


@pytest.mark.parametrize("gpu", ["t4", "v100"])
def test_a_gpu_type_that_cannot_run_the_asr_model_is_refused_naming_the_field(
    catalogue: Catalogue, gpu: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        calculate(request({"stt": 20}, gpu_type=gpu), catalogue)
    assert caught.value.details["field"] == "gpu_type"
    assert f"gpu_type {gpu}" in caught.value.message and "stt" in caught.value.message


def test_a_gpu_run_on_a_type_below_the_models_compute_capability_is_a_presets_error(
    tmp_path: Path,
) -> None:
    def add_t4(data: dict[str, Any]) -> None:
        data["services"]["stt"]["gpu_runs"].append(
            {"gpu_type": "t4", "mode": "low-latency", "scale_from": "a100"}
        )

    with pytest.raises(PresetDataInvalid) as caught:
        edited(tmp_path, "services.yaml", add_t4)
    assert caught.value.location is not None
    assert caught.value.location.file is not None and caught.value.location.file.endswith(
        "services.yaml"
    )
    assert caught.value.location.line is not None
    assert "compute capability 7.5" in caught.value.message


def test_a_gpu_without_a_published_figure_gets_its_streams_rounded_down(
    catalogue: Catalogue,
) -> None:
    sizer = Sizer(demand_of(request({"stt": 5}, gpu_type="l4", response_time="600ms")), catalogue)
    slots = {o.key: o.slots for o in sizer.options["stt"]}
    assert slots == {"l4 low-latency": 28, "l4 balanced": 57}  # 64 x 0.45 = 28.8, 128 x 0.45


def test_the_llm_engine_runs_callbot_and_chatbot_on_gpus(catalogue: Catalogue) -> None:
    plan = plan_tenant(load_spec_file(ROOT / "tenants/ai-contact-center.yaml"), catalogue)
    for name in ("callbot", "chatbot"):
        s = plan.service(name)
        assert s.option.engine == "llm" and s.gpu_type in {"h100", "a100"}
        assert s.option.hold_ms > s.option.response_ms  # the slot stays busy after the first token
    assert all(p.meets_sla for p in plan.paths)


def test_llm_concurrency_is_bounded_by_the_kv_cache_rounded_down(tmp_path: Path) -> None:
    # 44 GB x 0.9 - 16.1 - 2 = 21.5 GB free; a sequence is 1,088 tokens x 0.125 MiB = 136 MiB:
    # 161.88 sequences fit, so concurrency 200 runs as 161 (not 162).
    def smaller_h100(data: dict[str, Any]) -> None:
        data["gpus"]["h100"]["memory_gb"] = 44

    def add_200(data: dict[str, Any]) -> None:
        data["llm_profiles"]["llama-3.1-8b-instruct"]["runs"]["h100"].append(
            {"concurrency": 200, "ttft_ms": 465, "itl_ms": 10}
        )

    edited(tmp_path, "gpus.yaml", smaller_h100)
    catalogue = edited(tmp_path, "llm.yaml", add_200)
    sizer = Sizer(
        demand_of(request({"chatbot": 10}, engines={"chatbot": "llm"}, response_time="3s")),
        catalogue,
    )
    assert max(o.slots for o in sizer.options["chatbot"]) == 161


def test_an_llm_profile_that_fits_no_gpu_is_a_presets_error_naming_file_line_and_field(
    tmp_path: Path,
) -> None:
    def huge(data: dict[str, Any]) -> None:
        data["llm_profiles"]["llama-3.1-8b-instruct"]["weights_gb"] = 140

    with pytest.raises(PresetDataInvalid) as caught:
        edited(tmp_path, "llm.yaml", huge)
    loc = caught.value.location
    assert loc is not None and loc.file is not None and loc.file.endswith("llm.yaml")
    assert loc.field == "llm_profiles.llama-3.1-8b-instruct.weights_gb" and loc.line
    assert "does not fit" in caught.value.message


def test_the_llm_engine_on_a_service_without_a_profile_names_the_field(
    catalogue: Catalogue,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        calculate(request({"advisor": 5}, engines={"advisor": "llm"}), catalogue)
    assert caught.value.details["field"] == "engines.advisor"


def test_the_cpu_nlu_stays_the_default_engine(catalogue: Catalogue) -> None:
    plan = calculate(request({"callbot": 10}), catalogue).plan
    assert (
        plan.service("callbot").option.engine == "cpu" and plan.service("callbot").gpu_type is None
    )


@pytest.mark.parametrize("value", ["p100", "95", "fast", "p49", "p99.95", "P95"])
def test_a_percentile_outside_p50_to_p999_is_refused_naming_the_field(value: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        request({"chatbot": 1}, percentile=value)
    assert caught.value.errors()[0]["loc"] == ("sla_target", "percentile")


def test_a_stricter_percentile_needs_at_least_as_much(catalogue: Catalogue) -> None:
    costs = [
        calculate(request({"callbot": 50}, percentile=p), catalogue).plan.cost.total
        for p in ("p50", "p90", "p99")
    ]
    assert costs == sorted(costs) and costs[-1] > costs[0]


def test_concurrent_users_below_the_channels_is_a_warning_not_ignored(
    catalogue: Catalogue,
) -> None:
    few = calculate(request({"chatbot": 100}, concurrent_users=40), catalogue).to_response()
    many = calculate(request({"chatbot": 100}, concurrent_users=400), catalogue).to_response()
    assert any("concurrent_users 40" in w for w in few["warnings"])
    assert many["warnings"] == []


# --- availability ---------------------------------------------------------------------------


def _sure_chatbot(tmp_path: Path) -> Catalogue:
    """A chatbot pod so reliable that one replica alone meets 99.9 %."""

    def reliable(data: dict[str, Any]) -> None:
        data["services"]["chatbot"]["availability"] = 0.99995

    return edited(tmp_path, "services.yaml", reliable)


def test_a_three_nines_sla_always_gets_exactly_two_replicas_of_a_light_service(
    tmp_path: Path,
) -> None:
    catalogue = _sure_chatbot(tmp_path)
    plan = calculate(request({"chatbot": 1}, availability="99.9%"), catalogue).plan
    assert plan.service("chatbot").replicas == 2


def test_just_below_three_nines_one_reliable_replica_is_enough(tmp_path: Path) -> None:
    catalogue = _sure_chatbot(tmp_path)
    plan = calculate(request({"chatbot": 1}, availability="99.89%"), catalogue).plan
    assert plan.service("chatbot").replicas == 1


def test_an_availability_met_exactly_is_met_despite_floating_point() -> None:
    # 1-of-4 at a = 0.9 is exactly 0.9999; summed in floating point it is 0.9998999999999997.
    assert replicas_for_target(1, 0.9, 0.9999, 0.0) == 4


def test_rollouts_count_as_planned_downtime(catalogue: Catalogue) -> None:
    assert replicas_for_target(2, 0.99, 0.99966, 0.0) == 3
    assert replicas_for_target(2, 0.99, 0.99966, 2 / 730) == 4


def test_a_compile_reports_concurrent_users_below_the_channels_as_a_warning(
    tmp_path: Path,
) -> None:
    import shutil

    from compiler.pipeline import Workspace
    from compiler.settings import Settings

    shutil.copytree(ROOT / "presets", tmp_path / "presets")
    body = spec({"chatbot": 100}, sla_target={"concurrent_users": 40})
    build = Workspace(Settings(root=tmp_path)).build(body)
    (finding,) = [f for f in build.findings if f.rule == "sizing"]
    assert finding.severity == "warning" and finding.path == "sla_target.concurrent_users"

"""TTS runs on CPU or on a GPU (Riva TTS runs in presets/services.yaml): the planner takes the
cheapest that meets the SLA, and hardware is judged by its own floor, so an option added to the
catalogue never makes a plan dearer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sizing_support import edited, request, shipped

from compiler.catalogue import Catalogue
from compiler.errors import OrchestratorError, PresetDataInvalid
from compiler.sizing import calculate
from compiler.sizing.choose import Sizer, demand_of
from compiler.spec.models import CalculateRequest


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return shipped()


def _cpu_only_tts(data: dict[str, Any]) -> None:
    for key in ("gpu", "requires", "gpu_pod", "gpu_runs"):
        del data["services"]["tts"][key]


def test_a_loose_sla_keeps_tts_on_cpu_and_a_tight_one_moves_it_to_a_gpu(
    catalogue: Catalogue,
) -> None:
    loose = calculate(request({"tts": 40}, response_time="300ms"), catalogue).plan.service("tts")
    tight = calculate(request({"tts": 40}, response_time="70ms"), catalogue).plan.service("tts")
    assert loose.option.engine == "cpu" and loose.gpu_type is None
    assert tight.option.engine == "gpu" and tight.gpu_type is not None
    assert tight.gpu_per_replica == 1


def test_a_gpu_tts_pod_has_its_own_requests_and_hold(catalogue: Catalogue) -> None:
    options = {o.key: o for o in Sizer(demand_of(request({"tts": 5})), catalogue).options["tts"]}
    cpu, gpu = options["cpu"], options["a100 4-streams"]
    assert (cpu.cpu_request_m, cpu.memory_mib, cpu.hold_ms) == (4000, 2048, 250.0)
    assert (gpu.cpu_request_m, gpu.memory_mib, gpu.hold_ms) == (2000, 8192, 71.6)
    assert gpu.storage_gb_per_replica == 10 and gpu.response_ms == 41
    assert options["h100 4-streams"].slots == 8  # 4 x 2.0, at A100's latency


def test_a_gpu_pin_leaves_the_cpu_tts_beside_the_pinned_type(catalogue: Catalogue) -> None:
    sizer = Sizer(demand_of(request({"tts": 5, "stt": 5}, gpu_type="l4")), catalogue)
    assert {o.gpu_type for o in sizer.options["tts"]} == {None, "l4"}
    assert {o.gpu_type for o in sizer.options["stt"]} == {"l4"}


def test_a_scaled_run_that_would_carry_under_one_stream_is_a_presets_error(
    tmp_path: Path,
) -> None:
    def t4_one_stream(data: dict[str, Any]) -> None:
        runs = data["services"]["tts"]["gpu_runs"]
        runs.append({"gpu_type": "t4", "mode": "1-stream", "scale_from": "a100"})

    with pytest.raises(PresetDataInvalid) as caught:
        edited(tmp_path, "services.yaml", t4_one_stream)
    assert "less than one" in caught.value.message
    assert caught.value.location is not None and caught.value.location.line


def _cost(r: CalculateRequest, catalogue: Catalogue) -> float | None:
    try:
        return calculate(r, catalogue).plan.cost.total
    except OrchestratorError:
        return None


def test_adding_gpu_tts_to_the_catalogue_never_makes_a_plan_dearer(tmp_path: Path) -> None:
    """With allowances set against the fastest hardware, GPU TTS (never chosen at 300 ms) made
    the LLM contact centre's plan $6,462 a month dearer: its faster floor left cheaper STT no
    room. Judged by its own floor, hardware keeps its plan whatever else the catalogue holds."""
    full, cpu_only = shipped(), edited(tmp_path, "services.yaml", _cpu_only_tts)
    bodies = [
        request(
            {"callbot": 20, "chatbot": 60},
            engines={"callbot": "llm", "chatbot": "llm"},
            availability="99.9%",
            response_time="300ms",
        ),
        request({"callbot": 25, "chatbot": 85, "advisor": 32}, response_time="265ms"),
        request({"callbot": 40, "tts": 10}, response_time="250ms"),
        request({"tts": 60, "stt": 160}, availability="99.95%", response_time="150ms"),
        request({"callbot": 10}, response_time="1s", percentile="p99"),
    ]
    compared = 0
    for body in bodies:
        without, with_gpu = _cost(body, cpu_only), _cost(body, full)
        if without is not None:
            assert with_gpu is not None and with_gpu <= without + 0.01, body
            compared += 1
    assert compared >= 4


def test_every_stage_allowance_fits_beside_its_paths_floor_on_the_chosen_hardware(
    catalogue: Catalogue,
) -> None:
    for body in (
        request({"callbot": 30, "advisor": 20, "tts": 10}, response_time="260ms"),
        request({"qa": 20, "ta": 10}, response_time="500ms", percentile="p99"),
    ):
        plan = calculate(body, catalogue).plan
        sizer = Sizer(demand_of(body), catalogue)
        chosen = {s.name: s.option for s in plan.services}
        allowance = sizer.allowances(chosen)
        for path in sizer.paths:
            spent = sum(allowance[s] for s in path.services)
            assert 0 < spent <= sizer.sla_ms - sizer.check_floor(path, chosen) + 1e-9

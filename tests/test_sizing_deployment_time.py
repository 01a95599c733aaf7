"""deployment_time: the slowest service's pull, weights, start and readiness, plus the sync delay.

Expected figures are worked out by hand from presets/rollout.yaml in the comments; the other
tests move one input at a time and check the answer moves the way the physics says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sizing_support import edited, request, shipped

from compiler.sizing import calculate
from compiler.sizing.deployment_time import deployment_time

VOICE = {"callbot": 20, "stt": 10, "tts": 10}
CHAT = {"chatbot": 50}


def answer(services: dict[str, int], catalogue: Any = None, **extra: Any) -> str:
    catalogue = catalogue if catalogue is not None else shipped()
    body = request(services, availability="99.5%", response_time="400ms", **extra)
    return str(calculate(body, catalogue).to_response()["deployment_time"])


def test_a_voice_tenant_waits_for_the_asr_image_after_a_full_poll() -> None:
    # cold: 180 s poll + 9.5 GB stt image at 60 MB/s (158.3 s) + 5 s start + 10 s readiness
    # = 353.3 s -> 6 minutes; cached: 0 s (webhook) + 15 s -> under a minute, shown as 1
    assert answer(VOICE) == "1-6 minutes"


def test_a_chat_tenant_pulls_only_a_small_cpu_image() -> None:
    # cold: 180 + 1.2 GB / 60 MB/s (20 s) + 15 = 215 s -> 4 minutes
    assert answer(CHAT) == "1-4 minutes"


def test_an_llm_engine_waits_for_its_weights_to_download_and_load() -> None:
    # cold: 180 + (10 GB image + 16.1 GB llama-3.1-8b weights) / 60 MB/s (435 s) + 16.1 GB at
    # 1 GB/s (16.1 s) + 15 = 646.1 s -> 11 minutes; cached: 16.1 + 15 = 31.1 s -> 1
    assert answer(CHAT, engines={"chatbot": "llm"}) == "1-11 minutes"


def test_a_faster_registry_shortens_only_the_cold_end(tmp_path: Path) -> None:
    faster = edited(tmp_path, "rollout.yaml", lambda d: d["rollout"].update(pull_mb_per_s=600))
    # 180 + 9.5 GB / 600 MB/s (15.8 s) + 15 = 210.8 s -> 4 minutes
    assert answer(VOICE, faster) == "1-4 minutes"


def test_a_bigger_image_lengthens_the_cold_end(tmp_path: Path) -> None:
    bigger = edited(tmp_path, "rollout.yaml", lambda d: d["rollout"]["image_gb"].update(stt=30))
    # 180 + 30 GB / 60 MB/s (500 s) + 15 = 695 s -> 12 minutes
    assert answer(VOICE, bigger) == "1-12 minutes"


def test_a_slow_readiness_probe_moves_both_ends(tmp_path: Path) -> None:
    slow = edited(tmp_path, "rollout.yaml", lambda d: d["rollout"].update(readiness_s=130))
    # cached: 5 + 130 = 135 s -> 2 minutes; cold: 180 + 158.3 + 135 = 473.3 s -> 8 minutes
    assert answer(VOICE, slow) == "2-8 minutes"


def test_without_a_rollout_preset_the_tier_keeps_its_nominal_figure() -> None:
    catalogue = shipped().model_copy(update={"rollout": None})
    plan = calculate(request(VOICE, availability="99.5%", response_time="400ms"), catalogue).plan
    nominal = catalogue.tiers[plan.tier].deployment_time
    assert deployment_time(plan, catalogue) == (
        f"{nominal} (nominal for the {plan.tier} tier, not derived from this plan)"
    )

"""The session store counted in the plan, worked out by hand from presets/redis.yaml, tiers.yaml
and prices.yaml: what each tier holds beside its store, the store's pods in the totals and the
cost, the spare that a session path needs pushing a plan out of its tier, and the alternative's
smaller store.

Store pods (redis.yaml): micro and small data pods 100m / 256Mi, medium 200m / 512Mi; sentinels
(3 when replicated) 50m / 64Mi; every data pod a 1Gi volume = 1.073741824 GB. Prices: a core-month
0.031611 x 730 = 23.07603, a GiB-month 0.004237 x 730 = 3.09301, a GB of storage 0.04 a month.
A(2), the store's availability with two data pods, is 0.99994037967466
(tests/test_session_store_numbers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.catalogue import Catalogue, Tier, load_catalogue
from compiler.errors import InsufficientResources
from compiler.sizing.choose import demand_of
from compiler.sizing.models import Totals
from compiler.sizing.redis import (
    StorePlan,
    _shrunk,
    _spares,
    alternative_with_store,
    plan_with_store,
)
from compiler.spec.loader import spec_from_mapping

ROOT = Path(__file__).resolve().parents[1]
A2 = 0.99994037967466


def _catalogue() -> Catalogue:
    return load_catalogue(ROOT / "presets")


def _planned(
    requirements: dict[str, int], availability: str, catalogue: Catalogue, preset: str | None = None
) -> StorePlan:
    spec: dict[str, object] = {
        "tenant_id": "store-plan",
        "name": "store plan",
        "service_requirements": requirements,
        "sla_target": {"availability": availability, "response_time": "500ms"},
    }
    if preset:
        spec["preset"] = preset
    return plan_with_store(demand_of(spec_from_mapping(spec)), catalogue)


def _envelope(catalogue: Catalogue) -> dict[str, tuple[int, int, int, float]]:
    return {
        n: (t.cpu_millicores, t.memory_mib, t.gpu, t.storage_gb) for n, t in catalogue.tiers.items()
    }


def test_the_services_are_chosen_in_each_tier_less_its_own_two_pod_store() -> None:
    """99.5 % needs 2 data pods and 3 sentinels: micro 4000m - 2 x 100m - 3 x 50m = 3650m,
    8192Mi - 2 x 256Mi - 3 x 64Mi = 7488Mi; medium 24000m - 400m - 150m = 23450m, 32768Mi -
    1024Mi - 192Mi = 31552Mi; large 45000m - 500m - 150m = 44350m, 65536 - 1216 = 64320Mi;
    storage less 2 x 1.073741824 = 2.147 GB; GPUs untouched (the store has none)."""
    planned = _planned({"chatbot": 5}, "99.5%", _catalogue())
    assert _envelope(planned.beside) == {
        "micro": (3650, 7488, 0, 97.853),
        "small": (11650, 15680, 1, 497.853),
        "medium": (23450, 31552, 3, 997.853),
        "large": (44350, 64320, 6, 1997.853),
    }


def test_one_data_pod_takes_no_sentinels_from_the_tier() -> None:
    """99 % keeps one data pod and no sentinels: micro 4000m - 100m = 3900m, 8192Mi - 256Mi =
    7936Mi, 100 GB - 1.074 GB = 98.926 GB; medium 24000m - 200m, 32768Mi - 512Mi."""
    planned = _planned({"chatbot": 5}, "99%", _catalogue())
    assert _envelope(planned.beside) == {
        "micro": (3900, 7936, 0, 98.926),
        "small": (11900, 16128, 1, 498.926),
        "medium": (23800, 32256, 3, 998.926),
        "large": (44750, 65024, 6, 1998.926),
    }


def test_a_copy_with_other_tiers_sharing_the_memo_gets_its_own_envelope() -> None:
    """A catalogue copied with micro at 2000m shares the original's memo: what micro holds
    beside a one-pod store is 2000m - 100m = 1900m there, 3900m in the original."""
    catalogue = _catalogue()
    memo = catalogue.memo  # made on first use: asked before the copy, so the copy shares it
    micro = Tier.model_validate({**catalogue.tiers["micro"].model_dump(), "cpu": "2000m"})
    copy = catalogue.model_copy(update={"tiers": {**catalogue.tiers, "micro": micro}})
    assert copy.memo is memo
    first = _planned({"chatbot": 5}, "99%", catalogue).beside.tiers["micro"].cpu_millicores
    second = _planned({"chatbot": 5}, "99%", copy).beside.tiers["micro"].cpu_millicores
    assert (first, second) == (3900, 1900)


def test_the_store_is_in_the_plans_totals_and_cost() -> None:
    """5 chatbots at 99.5 % in micro: the chatbot's one pod (500m, 1Gi, 0.5 GB) gets a spare on
    the chat path (0.995 x A(2) = 0.99494 < 99.5 %), so 2 pods = 1000m, 2048Mi, 0.5 GB; the store
    adds 2 x 100m + 3 x 50m = 350m, 2 x 256 + 3 x 64 = 704Mi, 2.147 GB: 1350m, 2752Mi,
    2.647 GB. Cost: CPU 1 x 23.07603 = 23.08 + 0.35 x 23.07603 = 8.08 -> 31.16; memory
    2 x 3.09301 = 6.19 + 0.6875 x 3.09301 = 2.13 -> 8.32; storage 0.5 x 0.04 = 0.02 +
    2.147 x 0.04 = 0.09 -> 0.11; no GPU."""
    plan = _planned({"chatbot": 5}, "99.5%", _catalogue()).plan
    assert (plan.tier, [(s.name, s.replicas) for s in plan.services]) == (
        "micro",
        [("chatbot", 2)],
    )
    assert plan.totals == Totals(cpu_millicores=1350, memory_mib=2752, gpu=0, storage_gb=2.647)
    assert (plan.cost.cpu, plan.cost.memory, plan.cost.gpu, plan.cost.storage) == (
        31.16,
        8.32,
        0.0,
        0.11,
    )


# 1 chatbot and 66 qa reviews at 99.5 %: chatbot 1 pod (500m, 1Gi, 0.1 GB), ta 2 pods and qa
# 5 pods (1000m, 2Gi each; 66 GB and 330 GB), i.e. 7500m, 15360Mi, 396.1 GB: within small less
# its store (11650m, 15680Mi, 497.853 GB). The chat path then needs the chatbot's spare (500m,
# 1Gi): 8000m, 16384Mi, plus small's store 704Mi = 17088Mi > small's 16384Mi.
SPARE_OVERFLOW = {"chatbot": 1, "qa": 66}


def test_a_spare_that_overflows_the_recommended_tier_moves_the_plan_up_and_counts_its_store() -> (
    None
):
    """small cannot hold the spare (above), nor can the services be chosen again in small less
    the spare (15680Mi - 1024Mi = 14656Mi < 15360Mi): medium, whose store is 2 x 200m + 150m =
    550m, 2 x 512 + 192 = 1216Mi. Totals 8000 + 550 = 8550m, 16384 + 1216 = 17600Mi, storage
    396.1 + 2.147 = 398.247 GB. Cost: CPU 8 x 23.07603 = 184.61 + 0.55 x 23.07603 = 12.69 ->
    197.30; memory 16 x 3.09301 = 49.49 + 1.1875 x 3.09301 = 3.67 -> 53.16; storage
    396.1 x 0.04 = 15.84 + 0.09 -> 15.93."""
    plan = _planned(SPARE_OVERFLOW, "99.5%", _catalogue()).plan
    assert (plan.tier, plan.tier_source) == ("medium", "recommended")
    assert [(s.name, s.replicas) for s in plan.services] == [("chatbot", 2), ("ta", 2), ("qa", 5)]
    assert plan.totals == Totals(cpu_millicores=8550, memory_mib=17600, gpu=0, storage_gb=398.247)
    assert (plan.cost.cpu, plan.cost.memory, plan.cost.gpu, plan.cost.storage) == (
        197.3,
        53.16,
        0.0,
        15.93,
    )


def test_a_spare_that_overflows_an_explicit_tier_is_refused_with_what_it_exceeds() -> None:
    """preset small: the spare's 17088Mi (above) exceed small's 16Gi, and no other choice fits
    small less the spare; the plan is refused on the preset field, not moved up."""
    with pytest.raises(InsufficientResources) as caught:
        _planned(SPARE_OVERFLOW, "99.5%", _catalogue(), preset="small")
    assert caught.value.message == (
        "preset small cannot hold the plan with its Redis: memory 17088Mi > 16Gi"
    )
    assert caught.value.details == {
        "preset": "small",
        "exceeded": ["memory 17088Mi > 16Gi"],
        "field": "preset",
    }


def test_an_explicit_medium_keeps_the_spare_and_says_it_was_asked_for() -> None:
    """The same tenant with preset medium: the same services and totals as the recommended
    medium above, named explicit."""
    plan = _planned(SPARE_OVERFLOW, "99.5%", _catalogue(), preset="medium").plan
    assert (plan.tier, plan.tier_source) == ("medium", "explicit")
    assert plan.totals == Totals(cpu_millicores=8550, memory_mib=17600, gpu=0, storage_gb=398.247)


def test_the_spares_are_what_the_grown_services_add() -> None:
    """The overflowing plan's chatbot has 2 pods (above), the same chatbot at 99 % one: the
    spare is one pod, 500m, 1024Mi, no GPU and no storage (the chatbot's is per channel,
    0.1 GB either way); the same services twice spare nothing."""
    grown = _planned(SPARE_OVERFLOW, "99.5%", _catalogue()).plan.services
    (one_pod,) = _planned({"chatbot": 1}, "99%", _catalogue()).plan.services
    chosen = tuple(one_pod if s.name == "chatbot" else s for s in grown)
    assert _spares(grown, chosen) == Totals(500, 1024, 0, 0.0)
    assert _spares(grown, grown) == Totals(0, 0, 0, 0.0)


def test_a_tier_shrunk_by_the_spares_is_smaller_by_them_and_never_below_zero() -> None:
    """small (12000m, 16Gi, 1 GPU, 500 GB) less 500m, 1024Mi, 1 GPU and 0.25 GB is 11500m,
    15360Mi, 0 GPUs, 499.75 GB; less more than it has, 0; the other tiers and the memo kept."""
    catalogue = _catalogue()
    shrunk = _shrunk(catalogue, "small", Totals(500, 1024, 1, 0.25))
    assert _envelope(shrunk)["small"] == (11500, 15360, 0, 499.75)
    assert {n: v for n, v in _envelope(shrunk).items() if n != "small"} == {
        n: v for n, v in _envelope(catalogue).items() if n != "small"
    }
    assert shrunk.memo is catalogue.memo
    emptied = _shrunk(catalogue, "micro", Totals(5000, 9000, 2, 200.0))
    assert _envelope(emptied)["micro"] == (0, 0, 0, 0.0)


def test_the_alternative_counts_the_smaller_tiers_store() -> None:
    """callbot 10, chatbot 20 and stt 10 at 99.9 %: the plan is medium; the alternative
    squeezes every service to one pod in small (callbot 500m/1Gi/20 GB, chatbot 500m/1Gi/2 GB,
    stt 2000m/4Gi/one L4/20 GB, tts 4000m/2Gi/5 GB: 7000m, 8192Mi, 1 GPU, 47 GB) and counts
    small's store, 2 x 100m + 3 x 50m = 350m, 704Mi, 2.147 GB (not medium's 550m, 1216Mi):
    7350m, 8896Mi, 49.147 GB. Cost: CPU 7 x 23.07603 = 161.53 + 0.35 x 23.07603 = 8.08 ->
    169.61; memory 8 x 3.09301 = 24.74 + 2.13 -> 26.87; GPU 0.6105 x 730 = 445.67; storage
    47 x 0.04 = 1.88 + 0.09 -> 1.97. Paths: callbot-turn 0.99 x 0.995 x 0.995 x A(2), chat 0.995 x
    A(2), stt-direct (no session state) 0.99."""
    catalogue = _catalogue()
    planned = _planned({"callbot": 10, "chatbot": 20, "stt": 10}, "99.9%", catalogue)
    assert planned.plan.tier == "medium"
    alt = alternative_with_store(planned, catalogue)
    assert alt is not None
    assert alt.tier == "small"
    assert [(s.name, s.replicas) for s in alt.services] == [
        ("callbot", 1),
        ("chatbot", 1),
        ("stt", 1),
        ("tts", 1),
    ]
    assert alt.totals == Totals(cpu_millicores=7350, memory_mib=8896, gpu=1, storage_gb=49.147)
    assert (alt.cost.cpu, alt.cost.memory, alt.cost.gpu, alt.cost.storage) == (
        169.61,
        26.87,
        445.67,
        1.97,
    )
    assert {p.name: p.availability for p in alt.paths} == {
        "callbot-turn": pytest.approx(0.99 * 0.995 * 0.995 * A2, abs=1e-12),
        "chat-message": pytest.approx(0.995 * A2, abs=1e-12),
        "stt-direct": pytest.approx(0.99, abs=1e-12),
    }


def test_without_a_store_preset_the_alternative_is_the_services_alone() -> None:
    """No redis preset: no store in the envelope, the plan, or the alternative (medium's
    24000m whole, the alternative's 7000m, 8192Mi, 47 GB and its cost without the store's)."""
    catalogue = _catalogue().model_copy(update={"redis": None})
    planned = _planned({"callbot": 10, "chatbot": 20, "stt": 10}, "99.9%", catalogue)
    assert planned.store is None
    assert planned.beside.tiers["medium"].cpu_millicores == 24000
    alt = alternative_with_store(planned, catalogue)
    assert alt is not None
    assert alt.totals == Totals(cpu_millicores=7000, memory_mib=8192, gpu=1, storage_gb=47.0)
    assert (alt.cost.cpu, alt.cost.memory, alt.cost.storage) == (161.53, 24.74, 1.88)


@pytest.mark.parametrize(
    ("availability", "beside", "available"),
    [
        # one data pod: micro less 100m, 256Mi, 1.074 GB
        ("99%", "1 data pods", {"cpu": "3900m", "memory": "7936Mi", "storage": "98.926GB"}),
        # two and 3 sentinels: less 350m, 704Mi, 2.147 GB
        (
            "99.5%",
            "2 data pods and 3 sentinels",
            {"cpu": "3650m", "memory": "7488Mi", "storage": "97.853GB"},
        ),
    ],
)
def test_services_that_do_not_fit_beside_the_store_are_refused_naming_the_store(
    availability: str, beside: str, available: dict[str, str]
) -> None:
    """1 chatbot and 20 qa in micro: the reviews alone keep 20 x 5 GB = 100 GB, the whole of
    micro's storage before the store's volumes; the refusal names the store the tier holds
    besides, and the envelope it offered the services."""
    with pytest.raises(InsufficientResources) as caught:
        _planned({"chatbot": 1, "qa": 20}, availability, _catalogue(), preset="micro")
    assert caught.value.message.startswith("preset micro cannot hold the plan: ")
    assert caught.value.message.endswith(f" (beside the tenant's Redis: {beside})")
    assert caught.value.details["available"] == {**available, "gpu": 0}
    assert caught.value.details["field"] == "preset"


def test_a_tenant_without_a_session_path_keeps_one_data_pod_below_the_ha_threshold() -> None:
    """stt alone at 99.5 %: no path keeps session state, so nothing asks the store for a share
    of a path (with a one-stage path it would be 0.995^(1/2) = 0.9975 > 0.995: two pods); below
    99.9 % one data pod without sentinels: medium less 200m."""
    planned = _planned({"stt": 5}, "99.5%", _catalogue())
    assert planned.store is not None
    assert (planned.store.replicas, planned.store.sentinels) == (1, 0)
    assert planned.beside.tiers["medium"].cpu_millicores == 24000 - 200


def test_a_store_larger_than_its_tier_leaves_the_services_nothing() -> None:
    """micro's data pod made 5000m, 9Gi and a 200Gi volume (more than micro's 4000m, 8Gi,
    100 GB): what micro holds beside it is 0 of each, not negative nor a token 1."""
    catalogue = _catalogue()
    redis = catalogue.redis
    assert redis is not None
    huge = redis.sizes["micro"].model_copy(
        update={"cpu_request": "5000m", "memory": "9Gi", "storage": "200Gi"}
    )
    big = catalogue.model_copy(
        update={"redis": redis.model_copy(update={"sizes": {**redis.sizes, "micro": huge}})}
    )
    planned = _planned({"chatbot": 1}, "99%", big)
    assert _envelope(planned.beside)["micro"] == (0, 0, 0, 0.0)
    assert planned.plan.tier == "small"


def test_gpu_and_storage_spares_are_the_differences_of_the_two_plans() -> None:
    """A plan of two L4 STT pods (2 GPUs) against itself spares no GPU; 5 chatbots at 99.5 %
    (2 pods, 0.5 GB) against 1 chatbot at 99 % (1 pod, 0.1 GB) spare a pod and 0.4 GB."""
    gpu = _planned({"stt": 5}, "99.5%", _catalogue()).plan.services
    assert _spares(gpu, gpu) == Totals(0, 0, 0, 0.0)
    grown = _planned({"chatbot": 5}, "99.5%", _catalogue()).plan.services
    chosen = _planned({"chatbot": 1}, "99%", _catalogue()).plan.services
    assert _spares(grown, chosen) == Totals(500, 1024, 0, 0.4)

"""choose() on its own (sizing/choose.py, before the session store is counted): the plan it
returns carries its own totals, cost and tier decision, and a plan no tier holds is refused with
a message and details that name the tier and what does not fit, checked against the totals."""

from __future__ import annotations

import pytest
from sizing_support import request, shipped, spec

from compiler.catalogue import Catalogue
from compiler.errors import InsufficientResources
from compiler.sizing.choose import choose, demand_of
from compiler.sizing.cost import service_cost


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return shipped()


def test_the_chosen_plan_carries_its_services_totals_and_cost_and_says_the_tier_is_recommended(
    catalogue: Catalogue,
) -> None:
    plan, _ = choose(demand_of(request({"callbot": 20, "chatbot": 100})), catalogue)
    t, services = plan.totals, plan.services
    assert t.cpu_millicores == sum(s.replicas * s.option.cpu_request_m for s in services)
    assert t.memory_mib == sum(s.replicas * s.option.memory_mib for s in services)
    assert t.gpu == sum(s.replicas * s.option.gpus_per_pod for s in services) > 0
    assert t.storage_gb == pytest.approx(sum(s.storage_gb for s in services), abs=1e-3)
    # the plan's cost is its services' costs, each priced on its own GPU type
    by_hand = sum(service_cost(s, catalogue) for s in services)
    assert plan.cost.total == pytest.approx(by_hand, abs=0.05)
    assert plan.tier_source == "recommended"
    ascending = [t.name for t in catalogue.tiers_ascending()]
    assert plan.tier == ascending[2]  # medium: micro and small cannot hold two GPUs
    with_preset = choose(demand_of(request({"chatbot": 10}, preset="large")), catalogue)[0]
    assert (with_preset.tier, with_preset.tier_source) == ("large", "explicit")


def _create_example(preset: str | None) -> InsufficientResources:
    body = spec(
        {"callbot": 50, "chatbot": 100, "advisor": 25, "stt": 30, "tts": 30},
        **({"preset": preset} if preset else {}),
        sla_target={"availability": "99.9%", "response_time": "200ms"},
    )
    with pytest.raises(InsufficientResources) as caught:
        choose(demand_of(body), shipped())
    return caught.value


@pytest.mark.parametrize(
    ("preset", "tier", "named", "field"),
    [
        ("medium", "medium", "preset medium", "preset"),
        (None, "large", "the largest tier (large)", "service_requirements"),
    ],
    ids=["a-preset-is-named-as-the-spec-chose-it", "without-one-the-largest-tier"],
)
def test_a_plan_no_tier_holds_is_refused_naming_the_tier_and_each_resource_over_it(
    catalogue: Catalogue, preset: str | None, tier: str, named: str, field: str
) -> None:
    error = _create_example(preset)
    d = error.details
    room = catalogue.tiers[tier]
    assert d["available"] == {
        "cpu": room.cpu,
        "memory": room.memory,
        "gpu": room.gpu,
        "storage": room.storage,
    }
    assert (d["preset"], d["field"]) == (tier, field)
    need = d["required"]
    over = []  # worked out from the required totals and the tier's envelope, by hand
    if need["gpu"] > room.gpu:
        over.append(f"GPU {need['gpu']} > {room.gpu}")
    assert over and [e for e in d["exceeded"] if e.startswith("GPU ")] == over
    assert error.message == (
        f"{named} cannot hold the plan: the cheapest that meets the SLA needs "
        + "; ".join(d["exceeded"])
    )

"""The session store's numbers worked out by hand from presets/redis.yaml (a = 0.995 per pod,
3 sentinels with a majority of 2, 6 failovers of 15 s a month, 730 hours a month) and a few
presets changed from it: the store's availability for 1 to 5 data pods, the data pods a target
and its session paths need, and the refusal of a target the store cannot carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.catalogue import RedisPreset, load_catalogue
from compiler.errors import SlaUnachievable
from compiler.pipeline import Workspace
from compiler.settings import Settings
from compiler.sizing import calculate
from compiler.sizing.choose import demand_of
from compiler.sizing.redis import planned_with_store, store_availability, store_replicas
from compiler.spec.loader import spec_from_mapping
from compiler.spec.models import CalculateRequest

ROOT = Path(__file__).resolve().parents[1]
HOURS = 730.0
FAILOVER = 6 * 15 / (730 * 3600)  # 90 s of 2,628,000 s = 3.42465753e-5


def _preset(**changes: object) -> RedisPreset:
    preset = load_catalogue(ROOT / "presets").redis
    assert preset is not None
    return preset.model_copy(update=changes)


@pytest.mark.parametrize(
    ("replicas", "expected"),
    [
        (1, 0.995),
        # 1 - 0.005^2 - 3.42465753e-5 - 0.005 x (3 x 0.995 x 0.005^2 + 0.005^3)
        # = 1 - 2.5e-5 - 3.42465753e-5 - 3.7375e-7
        (2, 0.99994037967466),
        (3, 0.99996525467466),  # 0.005^3 = 1.25e-7 instead of 2.5e-5
        (4, 0.99996537904966),  # 0.005^4 = 6.25e-10
        (5, 0.99996537967153),  # 0.005^5 = 3.125e-12
    ],
)
def test_the_stores_availability_is_one_pod_or_the_union_bound_of_its_failures(
    replicas: int, expected: float
) -> None:
    """Down while every data pod is, during failovers, and when the primary fails while fewer
    than 2 of the 3 sentinels are up: P(< 2 of 3 up) = 3 a (1-a)^2 + (1-a)^3 = 7.475e-5."""
    assert store_availability(replicas, _preset(), HOURS) == pytest.approx(expected, abs=1e-13)


def test_five_sentinels_need_three_up_to_fail_over() -> None:
    """A majority of 5 is 3: P(< 3 of 5 up) = 10 a^2 (1-a)^3 + 5 a (1-a)^4 + (1-a)^5
    = 1.2375e-6 + 3.109e-9 + 3.1e-12 = 1.24066e-6, times (1 - a) = 6.2033e-9; so 2 data pods
    give 1 - 2.5e-5 - 3.42465753e-5 - 6.2033e-9 = 0.9999407472."""
    preset = _preset()
    five = _preset(sentinel=preset.sentinel.model_copy(update={"replicas": 5}))
    assert store_availability(2, five, HOURS) == pytest.approx(0.99994074722, abs=1e-11)


def test_a_weak_pod_makes_the_store_availability_zero_at_worst() -> None:
    """a = 0.01 and 5,000 failovers of 600 s a month (3,000,000 s > 2,628,000 s a month):
    every term together exceeds 1, so the store's availability is 0, not negative."""
    weak = _preset(availability=0.01, failovers_per_month=5000, failover_seconds=600)
    assert store_availability(2, weak, HOURS) == 0.0


@pytest.mark.parametrize(
    ("target", "stages", "expected"),
    [
        (0.99, 0, 1),  # no session path: only the floor, one pod
        (0.998, 0, 1),  # no session path: the floor, though one pod (99.5 %) is below 99.8 %
        (0.9989, 0, 1),  # just below HA_THRESHOLD (99.9 %)
        (0.999, 0, 2),  # at HA_THRESHOLD: two, never more without a session path
        (0.99, 1, 1),  # share 0.99^(1/2) = 0.994987 <= 0.995: one pod
        (0.995, 1, 2),  # share 0.995^(1/2) = 0.997497 > 0.995: two (0.99994)
        (0.99999, 1, 4),  # share 0.999995 > every A(n): the fewest within 1e-9 of A(5), i.e. 4
    ],
)
def test_the_data_pods_are_the_fewest_meeting_the_stores_share_of_the_session_path(
    target: float, stages: int, expected: int
) -> None:
    """A(1..5) as above; A(5) - A(4) = 6.2e-10 < 1e-9 and A(5) - A(3) = 1.2e-8 > 1e-9."""
    assert store_replicas(target, stages, _preset(), HOURS) == expected


def test_a_weak_pod_needs_four_data_pods_for_a_share_three_cannot_give() -> None:
    """a = 0.9: P(< 2 of 3 up) = 3 x 0.9 x 0.01 + 0.001 = 0.028, x 0.1 = 0.0028; so A(n) =
    1 - 0.1^n - 3.42466e-5 - 0.0028: A(3) = 0.996166, A(4) = 0.997066, A(5) = 0.997156. The
    share of 99.4 % on a one-stage session path is 0.994^(1/2) = 0.996995: four data pods."""
    assert store_replicas(0.994, 1, _preset(availability=0.9), HOURS) == 4


def test_an_unreachable_target_takes_the_fewest_pods_past_which_more_gain_nothing() -> None:
    """a = 0.99999: (1-a)^2 = 1e-10, so A(2) is within 1e-9 of A(5); a target of 100 % (no
    count meets it: the failovers alone cost 3.4e-5) gets 2 data pods, not 3 nor 0."""
    assert store_replicas(1.0, 1, _preset(availability=0.99999), HOURS) == 2


def test_a_target_the_store_cannot_carry_names_the_path_the_store_and_the_remedy(
    bare_workspace: Path,
) -> None:
    """99.999 % on the chat path: no count of data pods gets the share, so the store has 4
    (above) with A(4) = 0.99996537904966, i.e. 99.9965 %, below the target itself."""
    spec = spec_from_mapping(
        {"tenant_id": "weak-store", "name": "weak", "service_requirements": {"chatbot": 5},
         "sla_target": {"availability": "99.999%", "response_time": "500ms"}}
    )  # fmt: skip
    with pytest.raises(SlaUnachievable) as caught:
        Workspace(Settings.load(bare_workspace)).build(spec)
    assert caught.value.message == (
        "path chat-message keeps its session state in the tenant's Redis, whose availability "
        "99.9965% (4 data pods, failovers counted; presets/redis.yaml) cannot carry the "
        "99.999% availability target: lower sla_target.availability, or set redis_url to an "
        "external Redis that can"
    )
    assert caught.value.details == {
        "field": "sla_target.availability",
        "path": "chat-message",
        "session_store_availability": 0.999965,
        "target": pytest.approx(0.99999, abs=1e-12),
    }


def test_the_calculation_answer_shows_the_store_and_the_paths_it_is_in_series_on() -> None:
    """callbot, chatbot and stt at 99.9 %: two data pods (HA_THRESHOLD) with 3 sentinels,
    A(2) = 0.99994037967 shown to 6 places as 0.99994; the bots' paths keep session state
    (presets/paths.yaml), stt-direct does not."""
    request = CalculateRequest.model_validate(
        {
            "service_requirements": {"callbot": 10, "chatbot": 20, "stt": 10},
            "sla_target": {"availability": "99.9%"},
        }
    )
    answer = calculate(request, load_catalogue(ROOT / "presets")).to_response()
    assert [p["name"] for p in answer["paths"]] == ["callbot-turn", "chat-message", "stt-direct"]
    assert answer["session_store"] == {
        "data_pods": 2,
        "sentinels": 3,
        "availability": 0.99994,
        "paths": ["callbot-turn", "chat-message"],
    }


def test_the_remembered_plans_are_per_demand() -> None:
    """Two demands on one catalogue, asked in turn through the cache: each gets its own plan
    (5 chatbots at 99 % keep one data pod, 99.5 % needs two, as worked out above)."""
    catalogue = load_catalogue(ROOT / "presets")
    low, high = (
        demand_of(
            spec_from_mapping(
                {
                    "tenant_id": "cache-test",
                    "name": "cache",
                    "service_requirements": {"chatbot": 5},
                    "sla_target": {"availability": a, "response_time": "500ms"},
                }
            )
        )
        for a in ("99%", "99.5%")
    )
    for _ in range(2):
        (_, low_store), (_, high_store) = (
            planned_with_store(low, catalogue),
            planned_with_store(high, catalogue),
        )
        assert low_store is not None and high_store is not None
        assert (low_store.replicas, high_store.replicas) == (1, 2)

"""The sizing memo (figures shared by every tenant on one catalogue) never changes an answer:
a tenant sized after others, in any order, or after the memo starts afresh, gets the answer it
gets alone."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sizing_support import shipped

import compiler.sizing.memo as memo_module
from compiler.catalogue import Catalogue, load_catalogue
from compiler.errors import OrchestratorError
from compiler.settings import Settings
from compiler.sizing import calculate
from compiler.sizing.choose import demand_of
from compiler.sizing.options import options_for
from compiler.sizing.paths import tenant_paths
from compiler.sizing.plan import plan_service, with_pods
from compiler.sizing.redis import plan_with_store, planned_with_store
from compiler.sizing.search import shape_of
from compiler.sizing.sizer import Sizer
from compiler.spec.models import CalculateRequest, TenantSpec

NAMES = ("callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa")


def _requests(count: int) -> list[CalculateRequest]:
    """Tenants that share loads and targets often (so memo hits happen) but not always."""
    rng = random.Random(11)
    out = []
    for _ in range(count):
        chosen = rng.sample(NAMES, rng.randint(1, 4))
        sla: dict[str, Any] = {
            "availability": rng.choice(["99.5%", "99.9%", "99.99%"]),
            "response_time": rng.choice(["200ms", "300ms", "1s"]),
        }
        if rng.random() < 0.3:
            sla["percentile"] = rng.choice(["p50", "p99"])
        body: dict[str, Any] = {
            "service_requirements": {s: rng.choice([2, 10, 40, 300]) for s in chosen},
            "sla_target": sla,
        }
        if rng.random() < 0.2:
            body["engines"] = {"chatbot": "llm"}
            body["service_requirements"]["chatbot"] = 30
        if rng.random() < 0.1:
            body["preset"] = "large"
        out.append(CalculateRequest.model_validate(body))
    return out


def _answer(r: CalculateRequest, catalogue: Catalogue) -> str:
    try:
        result = calculate(r, catalogue, explain=True)
    except OrchestratorError as exc:
        return f"{exc.code}: {exc.message}"
    return json.dumps([result.to_response(), result.explanation], sort_keys=True)


@pytest.fixture(scope="module")
def batch() -> list[CalculateRequest]:
    return _requests(120)


def test_a_tenant_gets_the_same_answer_alone_and_after_any_other_tenants(
    batch: list[CalculateRequest],
) -> None:
    forward_catalogue, backward_catalogue = shipped(), shipped()
    forward = [_answer(r, forward_catalogue) for r in batch]
    backward = [_answer(r, backward_catalogue) for r in reversed(batch)][::-1]
    assert sum(a.startswith("[") for a in forward) > 60  # mostly plans, some refusals
    for index, r in enumerate(batch[::10]):
        assert forward[index * 10] == _answer(r, shipped()), r  # alone: a fresh memo
    assert forward == backward


def test_answers_hold_when_the_memo_starts_afresh_past_its_bound(
    batch: list[CalculateRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = shipped()
    expected = [_answer(r, catalogue) for r in batch[:40]]
    monkeypatch.setattr(memo_module, "LOAD_ENTRIES", 50)
    small = shipped()
    assert [_answer(r, small) for r in batch[:40]] == expected
    assert len(memo_module.load_memo(small)) <= 50 + 200  # bounded (one tenant's entries over)


def _plan(catalogue: Catalogue, **change: Any) -> Any:
    option = options_for("stt", "nlu", None, catalogue)[0]
    inputs: dict[str, Any] = {
        "direct": 100,
        "effective_channels": 100.0,
        "rate_per_s": 200.0,
        "allowance_ms": 20.0,
        "tail": 0.0001,
        "availability_target": 0.999,
        "longest_path": 1,
        "image": "ecp-ai/stt:1",
    }
    inputs.update(change)
    return plan_service(option, catalogue=catalogue, **inputs)


@pytest.mark.parametrize(
    "change",
    [
        {"tail": 0.000001},
        {"allowance_ms": 0.5},
        {"rate_per_s": 90.0},
        {"availability_target": 0.9999},
        {"longest_path": 3},
        {"effective_channels": 300.0},
    ],
    ids=["tail", "allowance", "rate", "availability", "path-length", "channels"],
)
def test_a_service_plan_sized_after_another_reads_none_of_its_inputs(
    change: dict[str, Any],
) -> None:
    alone = _plan(shipped(), **change)
    assert alone != _plan(shipped())  # the input matters
    warm = shipped()
    _plan(warm)
    assert _plan(warm, **change) == alone


@pytest.mark.parametrize("serving", [3, 4, 6], ids=["3", "4", "6"])
def test_squeezed_pods_sized_after_others_match_a_fresh_squeeze(serving: int) -> None:
    cold, warm = shipped(), shipped()
    base = _plan(warm)
    for other in (3, 4, 6):
        with_pods(base, other, other + 1, warm)
    assert with_pods(base, serving, serving + 1, warm) == with_pods(
        _plan(cold), serving, serving + 1, cold
    )


def test_a_tenant_planned_twice_gets_the_remembered_plan_and_another_catalogue_plans_afresh() -> (
    None
):
    """planned_with_store (a write's check, then its compile) answers the second call from
    memory only for the same catalogue object and an equal demand."""

    presets = Settings.load(Path(__file__).resolve().parent.parent).presets_dir
    catalogue = load_catalogue(presets)
    spec = TenantSpec.model_validate(
        {"tenant_id": "memo-a", "name": "a", "service_requirements": {"chatbot": 7}}
    )
    first, store = planned_with_store(demand_of(spec), catalogue)
    again, store_again = planned_with_store(demand_of(spec), catalogue)
    assert again is first and store_again is store
    fresh = plan_with_store(demand_of(spec), catalogue)
    assert (fresh.plan, fresh.store) == (first, store)
    other = load_catalogue(presets)
    assert planned_with_store(demand_of(spec), other)[0] is not first
    more = TenantSpec.model_validate(
        {"tenant_id": "memo-a", "name": "a", "service_requirements": {"chatbot": 70}}
    )
    assert planned_with_store(demand_of(more), catalogue)[0] != first


def _sizer(catalogue: Catalogue, channels: dict[str, int], availability: str) -> Sizer:
    body = {"service_requirements": channels, "sla_target": {"availability": availability}}
    return Sizer(demand_of(CalculateRequest.model_validate(body)), catalogue)


@pytest.mark.parametrize(
    ("channels", "availability"),
    [({"callbot": 40}, "99.9%"), ({"callbot": 41}, "99.9%"), ({"callbot": 40}, "99.99%")],
    ids=["base", "more-channels", "higher-availability"],
)
def test_cost_bounds_and_paths_read_from_the_memo_are_the_ones_computed_afresh(
    channels: dict[str, int], availability: str
) -> None:
    """Sizer.bounds and tenant_paths are memoised on their inputs: after other tenants on the
    same catalogue they are what a fresh catalogue computes, and another input changes them."""
    warm = shipped()
    for other in ({"callbot": 40}, {"callbot": 41}, {"callbot": 7, "stt": 3}):
        for target in ("99.9%", "99.99%"):
            sizer = _sizer(warm, other, target)
            for name in sizer.names:
                sizer.bounds(name)
    fresh, again = _sizer(shipped(), channels, availability), _sizer(warm, channels, availability)
    assert again.paths == fresh.paths
    assert [p.rate_per_s for p in again.paths] == [p.rate_per_s for p in fresh.paths]
    for name in fresh.names:
        assert again.bounds(name) == fresh.bounds(name), name
    base = _sizer(shipped(), {"callbot": 40}, "99.9%")
    if (channels, availability) != ({"callbot": 40}, "99.9%"):  # the input matters
        assert any(fresh.bounds(n) != base.bounds(n) for n in fresh.names)


def test_a_tenant_path_carries_its_definitions_name_and_stages() -> None:
    catalogue = shipped()
    for path in tenant_paths({"callbot": 3, "qa": 2}, catalogue):
        assert path.name == path.definition.name
        assert path.services == tuple(s.service for s in path.definition.stages)


def test_a_plan_with_other_resources_keeps_every_other_field() -> None:
    plan = calculate(
        CalculateRequest.model_validate({"service_requirements": {"callbot": 12}}),
        shipped(),
        explain=True,
    ).plan
    other = calculate(
        CalculateRequest.model_validate({"service_requirements": {"chatbot": 30}}), shipped()
    ).plan
    moved = plan.with_resources(other.services, other.paths, other.totals, other.cost)
    expected = replace(
        plan, services=other.services, paths=other.paths, totals=other.totals, cost=other.cost
    )
    assert moved == expected
    assert moved.explanation == plan.explanation != ()  # compare=False: checked on its own


@pytest.mark.parametrize(
    "channels",
    [{"callbot": 30}, {"advisor": 10, "stt": 20}, {"chatbot": 5, "tts": 8}],
    ids=["callbot", "advisor-stt", "chatbot-tts"],
)
def test_a_shapes_feasible_combinations_are_in_flat_index_order(channels: dict[str, int]) -> None:
    """search._group_plans orders ties by flat index with a stable sort by bound alone: that
    holds only while a Shape lists its combinations in the full product's order."""
    sizer = _sizer(shipped(), channels, "99.9%")
    for group in sizer.groups():
        indices = shape_of(sizer, group).indices
        assert indices, group
        assert all(a < b for a, b in itertools.pairwise(indices)), group

"""Erlang B/C against a published case and at the edges."""

from __future__ import annotations

import math

import pytest

from compiler.sizing.erlang import (
    ErlangBSeries,
    erlang_b,
    erlang_c,
    mean_wait,
    service_level,
)

# 100 calls per 30 minutes, AHT 3 minutes, target answer 20 s (pyworkforce docs; R ErlangC 0.1.0).
PUBLISHED_LOAD = 100 / (30 * 60) * 180  # = 10 Erlang
AHT_S = 180.0


def agents_needed(load: float, aht: float, target: float, goal: float) -> int:
    n = math.floor(load) + 1
    while service_level(n, load, aht, target) < goal:
        n += 1
    return n


def test_the_published_case_needs_fourteen_agents() -> None:
    assert agents_needed(PUBLISHED_LOAD, AHT_S, 20, 0.80) == 14


def test_the_published_case_matches_its_probability_of_waiting() -> None:
    assert erlang_c(14, PUBLISHED_LOAD) == pytest.approx(0.1741319, abs=5e-7)


def test_the_published_case_matches_its_service_level() -> None:
    assert service_level(14, PUBLISHED_LOAD, AHT_S, 20) == pytest.approx(0.88835, abs=5e-6)


def test_the_published_case_matches_its_average_speed_of_answer() -> None:
    assert mean_wait(14, PUBLISHED_LOAD, AHT_S) == pytest.approx(7.836, abs=5e-4)


def test_erlang_b_of_one_server_is_the_classic_closed_form() -> None:
    assert erlang_b(1, 2.0) == pytest.approx(2.0 / 3.0)


@pytest.mark.parametrize(
    "servers,load", [(5, 5.0), (5, 7.5), (1, 1.0)], ids=["equal", "over", "one"]
)
def test_a_load_at_or_above_the_servers_always_waits_forever(servers: int, load: float) -> None:
    assert erlang_c(servers, load) == 1.0
    assert mean_wait(servers, load, 1.0) == math.inf
    assert service_level(servers, load, 1.0, 10.0) == 0.0


def test_zero_load_never_waits() -> None:
    assert erlang_c(3, 0.0) == 0.0
    assert mean_wait(3, 0.0, 1.0) == 0.0
    assert service_level(3, 0.0, 1.0, 0.0) == 1.0


def test_ten_thousand_channels_compute_without_overflow() -> None:
    p_wait = erlang_c(10_050, 10_000.0)
    assert 0.0 < p_wait < 1.0
    assert math.isfinite(mean_wait(10_050, 10_000.0, 3.0))


def test_the_growing_series_agrees_with_the_direct_recursion() -> None:
    series = ErlangBSeries(42.5)
    for servers in (10, 40, 43, 60, 128, 300):
        assert series.at(servers) == pytest.approx(erlang_b(servers, 42.5), rel=1e-12)
    assert series.at(20) == pytest.approx(erlang_b(20, 42.5), rel=1e-12)


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        erlang_b(-1, 1.0)
    with pytest.raises(ValueError):
        ErlangBSeries(-0.5)

"""k-of-n availability against the published figures in sizing-sources.md."""

from __future__ import annotations

import pytest

from compiler.sizing.availability import at_least_k_up, replicas_for_availability


@pytest.mark.parametrize(
    "k,n,expected",
    [(2, 3, 0.99970), (3, 4, 0.99941), (3, 5, 0.99999)],
    ids=["2-of-3", "3-of-4", "3-of-5"],
)
def test_k_of_n_matches_the_published_table_at_a_099(k: int, n: int, expected: float) -> None:
    assert at_least_k_up(k, n, 0.99) == pytest.approx(expected, abs=5e-6)


def test_n_plus_one_meets_three_nines_for_small_n() -> None:
    assert replicas_for_availability(2, 0.99, 0.999) == 3


def test_n_plus_two_meets_four_nines_for_small_n() -> None:
    assert replicas_for_availability(3, 0.99, 0.9999) == 5


def test_the_floor_applies_even_when_one_replica_would_do() -> None:
    assert replicas_for_availability(1, 0.9999, 0.5, floor=2) == 2


def test_a_target_exactly_at_the_achieved_value_is_met_despite_rounding() -> None:
    # 1 - 0.01**2 is 0.9999 in exact arithmetic; float rounding must not add a replica.
    assert replicas_for_availability(1, 0.99, 0.9999) == 2


def test_large_replica_counts_neither_overflow_nor_underflow() -> None:
    value = at_least_k_up(2000, 2100, 0.99)
    assert 0.99 < value <= 1.0


def test_more_replicas_than_needed_never_lower_availability() -> None:
    values = [at_least_k_up(3, n, 0.95) for n in range(3, 12)]
    assert values == sorted(values)

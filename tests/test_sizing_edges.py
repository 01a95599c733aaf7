"""Edges of the sizing model's pure functions, with expectations worked by hand (issue 15: the
behaviours that mutation testing found unpinned)."""

from __future__ import annotations

import math

import pytest

from compiler.sizing.availability import (
    at_least_k_up,
    replicas_for_availability,
    replicas_for_target,
    with_rollouts,
)


def test_without_a_floor_one_replica_is_enough_when_it_meets_the_target() -> None:
    # the default floor is 1: a = 0.9999 >= 0.5 with one replica
    assert replicas_for_availability(1, 0.9999, 0.5) == 1
    assert replicas_for_target(1, 0.9999, 0.5, 0.0) == 1


def test_a_target_within_the_tolerance_of_the_achieved_value_is_met() -> None:
    # 0.99 + 1e-12: one pod at 0.99 is within the 1e-12 tolerance of it
    assert replicas_for_availability(1, 0.99, 0.99 + 1e-12) == 1
    assert replicas_for_target(1, 0.99, 0.99 + 1e-12, 0.0) == 1
    # 1e-11 above is not: a second pod (1 - 0.01^2 = 0.9999)
    assert replicas_for_availability(1, 0.99, 0.99 + 1e-11) == 2


def test_k_of_n_at_its_edges() -> None:
    assert at_least_k_up(0, 3, 0.5) == 1.0  # nothing needs to be up
    assert at_least_k_up(4, 3, 0.99) == 0.0  # more needed than exist
    assert at_least_k_up(3, 3, 0.9) == pytest.approx(0.729, rel=1e-12)  # 0.9^3
    assert at_least_k_up(1, 3, 0.9) == pytest.approx(0.999, rel=1e-12)  # 1 - 0.1^3
    # 2 of 3 at 0.8: 0.8^3 + 3 x 0.8^2 x 0.2 = 0.512 + 0.384
    assert at_least_k_up(2, 3, 0.8) == pytest.approx(0.896, rel=1e-12)
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError):
            at_least_k_up(1, 2, bad)


def test_rollouts_take_a_spare_down_for_their_share_of_the_month() -> None:
    r = 2 / 730
    # 1 of 2 at 0.995: (1 - r)(1 - 0.005^2) + r x 0.995
    assert with_rollouts(1, 2, 0.995, r) == pytest.approx(
        (1 - r) * 0.999975 + r * 0.995, rel=1e-12
    )
    # 2 of 4 at 0.99: the rollout leaves 2 of 3
    steady = 1 - 0.01**4 - 4 * 0.99 * 0.01**3
    rolling = 0.99**3 + 3 * 0.99**2 * 0.01
    assert with_rollouts(2, 4, 0.99, r) == pytest.approx(
        (1 - r) * steady + r * rolling, rel=1e-12
    )
    # no spares: the rollout surges first and takes nothing down
    assert with_rollouts(3, 3, 0.99, 0.5) == pytest.approx(0.99**3, rel=1e-12)
    assert with_rollouts(1, 2, 0.995, 0.0) == pytest.approx(0.999975, rel=1e-12)


def test_replicas_for_a_target_count_the_rollouts() -> None:
    r = 2 / 730
    # 1 serving pod at 0.995 for 0.9999: 2 give (1 - r) 0.999975 + r 0.995 = 0.9999614 < 0.9999?
    # no: 0.9999614 >= 0.9999, so 2; for 0.99997 they fall short and 3 are needed
    assert replicas_for_target(1, 0.995, 0.9999, r) == 2
    two = (1 - r) * 0.999975 + r * 0.995
    assert two < 0.99997
    assert replicas_for_target(1, 0.995, 0.99997, r) == 3
    assert replicas_for_target(2, 0.995, 0.5, r, floor=3) == 3
    assert math.isclose(with_rollouts(1, 2, 0.995, r), two, rel_tol=1e-12)

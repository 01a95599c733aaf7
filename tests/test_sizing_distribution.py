"""Path percentiles by numerical convolution, checked against Monte Carlo sampling (numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.sizing.distribution import (
    Stage,
    idle_distribution,
    path_percentile,
    percentile_with_waits,
)

CASES = [
    pytest.param([Stage(32, 0.11), Stage(83, 0.25), Stage(55, 0.25)], 95, id="callbot-turn-idle"),
    pytest.param(
        [Stage(32, 0.11, 0.02, 300), Stage(83, 0.25, 0.05, 40), Stage(55, 0.25, 0.01, 20)],
        95,
        id="callbot-turn-waiting",
    ),
    pytest.param([Stage(100, 1.0)], 99.9, id="exponential-p99.9"),
    pytest.param([Stage(50, 0.5, 0.3, 200)], 99, id="heavy-wait-p99"),
    pytest.param([Stage(67, 0.3), Stage(10, 0.0)], 50, id="median-with-a-constant"),
]


def sampled(stages: list[Stage], percentile: float, n: int = 1_000_000) -> float:
    rng = np.random.default_rng(7)
    total = np.zeros(n)
    for s in stages:
        if s.response_cv > 0:
            shape = 1 / s.response_cv**2
            total += rng.gamma(shape, s.response_ms / shape, n)
        else:
            total += s.response_ms
        if s.p_wait > 0:
            total += (rng.random(n) < s.p_wait) * rng.exponential(s.wait_mean_ms, n)
    return float(np.percentile(total, percentile))


@pytest.mark.parametrize(("stages", "percentile"), CASES)
def test_the_convolution_matches_sampling_and_is_never_below_it(
    stages: list[Stage], percentile: float
) -> None:
    exact = sampled(stages, percentile)
    model = path_percentile(stages, percentile)
    assert exact * 0.995 <= model <= exact * 1.05


@pytest.mark.parametrize(("stages", "percentile"), CASES)
def test_the_shortcut_over_the_idle_distribution_is_never_below_sampling(
    stages: list[Stage], percentile: float
) -> None:
    idle = idle_distribution([(s.response_ms, s.response_cv) for s in stages])
    exact = sampled(stages, percentile)
    assert exact * 0.995 <= percentile_with_waits(idle, stages, percentile) <= exact * 1.05


def test_a_constant_stage_is_its_own_percentile() -> None:
    assert path_percentile([Stage(120, 0.0)], 95) == pytest.approx(120, rel=0.01)

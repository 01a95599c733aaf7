"""Path percentiles by numerical convolution, checked against Monte Carlo sampling (numpy)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import sizing_by_hand as by_hand

from compiler.sizing.distribution import (
    IdleDistribution,
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


# Closed forms, written here independently of the module: the Erlang CDF by its series, an
# exponential wait's survival; Erlang C for M/M/c is tests/sizing_by_hand's closed form.
# Tolerances are a few grid cells.


def erlang_cdf(k: int, scale: float, t: float) -> float:
    """P(Gamma(k, scale) <= t) for integer k: 1 - e^{-x} sum_{j<k} x^j / j!, x = t / scale."""
    if t <= 0:
        return 0.0
    x = t / scale
    return 1.0 - math.fsum(math.exp(j * math.log(x) - x - math.lgamma(j + 1)) for j in range(k))


def invert(cdf: Callable[[float], float], level: float, hi: float) -> float:
    lo = 0.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if cdf(mid) < level:
            lo = mid
        else:
            hi = mid
    return hi


@pytest.mark.parametrize(
    ("mean", "cv", "k"), [(100.0, 0.5, 4), (100.0, 1.0, 1), (100.0, 0.05, 400), (30.0, 0.25, 16)]
)
@pytest.mark.parametrize("percentile", [50, 90, 99, 99.9])
def test_one_gamma_stage_matches_the_erlang_closed_form(
    mean: float, cv: float, k: int, percentile: float
) -> None:
    exact = invert(lambda t: erlang_cdf(k, mean / k, t), percentile / 100, 100 * mean)
    model = path_percentile([Stage(mean, cv)], percentile)
    assert exact - 1e-3 * mean <= model <= exact + 6e-3 * mean * (1 + 10 * cv) / 1.5


@pytest.mark.parametrize("level", [0.01, 0.25, 0.5, 0.9, 0.99])
def test_the_idle_distribution_of_two_stages_is_the_erlang_of_their_summed_shapes(
    level: float,
) -> None:
    # Gamma(4, 10) + Gamma(1, 10) = Gamma(5, 10): means 40 and 10, cvs 1/2 and 1
    idle = idle_distribution([(40.0, 0.5), (10.0, 1.0)])
    exact = invert(lambda t: erlang_cdf(5, 10.0, t), level, 2000)
    assert exact - 0.01 <= idle.quantile(level) <= exact * 1.003 + 2 * idle.step
    assert idle.step == pytest.approx((40 * 6 + 10 * 11) / 4095, rel=1e-6)
    model = path_percentile([Stage(40, 0.5), Stage(10, 1.0)], level * 100)
    assert exact - 0.05 <= model <= exact + 2.5


def test_the_idle_cdf_is_a_distribution_with_the_right_mean() -> None:
    for responses, mean in [
        ([(40.0, 0.5), (10.0, 1.0)], 50.0),
        ([(100.0, 0.05)], 100.0),
        ([(100.0, 0.02), (7.0, 0.0)], 107.0),
        ([(80.0, 0.3), (20.0, 0.1), (5.0, 0.0)], 105.0),
    ]:
        idle = idle_distribution(responses)
        cdf = np.array(idle.cdf)
        assert len(cdf) == 4096
        assert np.all(np.diff(cdf) >= -1e-12)
        assert 1 - 1e-4 <= cdf[-1] <= 1 + 1e-9
        # E[T] = sum over cells of P(T > t_i) * step, mass at the cells' right edges
        assert (
            mean - 1e-6
            <= float(np.sum(1 - cdf[:-1])) * idle.step
            <= (mean + 1.5 * idle.step * len(responses))
        )


def test_a_constant_plus_an_exponential_wait_has_its_closed_form_quantiles() -> None:
    d, p, m = 40.0, 0.3, 200.0
    for percentile in [50, 69, 80, 95, 99, 99.9]:
        level = percentile / 100
        exact = d if level <= 1 - p else d + m * math.log(p / (1 - level))
        model = path_percentile([Stage(d, 0.0, p, m)], percentile)
        assert exact - 1e-6 <= model <= exact + 0.01 * exact + 1.0


def test_mmc_response_time_percentiles_match_erlang_c() -> None:
    # M/M/2 with service mean 100 ms and 15 arrivals/s: P(W > t) = C e^{-(c mu - lambda) t}
    mu, lam, c = 0.01, 0.015, 2
    wait_c = by_hand.erlang_c(c, lam / mu)
    theta = c * mu - lam
    assert wait_c == pytest.approx(0.6428571428571429)

    def cdf(t: float) -> float:
        # S ~ Exp(mu) plus W: 0 w.p. 1 - C, else Exp(theta); S + Exp(theta) is hypoexponential
        both = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
        return 1 - (1 - wait_c) * math.exp(-mu * t) - wait_c * both

    for percentile in [50, 90, 95, 99]:
        exact = invert(cdf, percentile / 100, 1e5)
        model = path_percentile([Stage(1 / mu, 1.0, wait_c, 1 / theta)], percentile)
        assert exact * 0.999 <= model <= exact * 1.035


def test_a_wait_needs_both_a_probability_and_a_mean() -> None:
    plain = path_percentile([Stage(50, 0.5)], 99)
    assert path_percentile([Stage(50, 0.5, 0.3, 0.0)], 99) == plain
    assert path_percentile([Stage(50, 0.5, 0.0, 200.0)], 99) == plain


def test_percentiles_beyond_the_grid_are_infinite() -> None:
    assert path_percentile([Stage(100, 1.0)], 100) == math.inf
    assert idle_distribution([(100.0, 1.0)]).quantile(1.0) == math.inf
    assert idle_distribution([(100.0, 1.0)]).quantile(0.999) < math.inf


def test_a_constant_stage_lies_on_the_grid_exactly() -> None:
    assert path_percentile([Stage(120, 0.0)], 95) == pytest.approx(120, abs=1e-6)
    assert path_percentile([Stage(120, 0.0)], 1) == pytest.approx(120, abs=1e-6)
    idle = idle_distribution([(120.0, 0.0)])
    assert idle.quantile(0.5) == pytest.approx(120, abs=1e-6)
    # a constant next to a spread stage: the median is the constant plus the spread one's
    exact = 10 + invert(lambda t: erlang_cdf(16, 67 / 16, t), 0.5, 1000)
    model = path_percentile([Stage(67, 0.25), Stage(10, 0.0)], 50)
    assert exact - 1e-3 <= model <= exact + 0.6


def test_quantile_reads_the_first_cell_reaching_the_level() -> None:
    dist = IdleDistribution(2.0, (0.0, 0.5, 1.0))
    assert dist.quantile(0.0) == 0.0
    assert dist.quantile(0.25) == 2.0
    assert dist.quantile(0.5) == 2.0
    assert dist.quantile(0.5 + 1e-13) == 2.0
    assert dist.quantile(0.75) == 4.0
    assert dist.quantile(1.0) == 4.0
    assert dist.quantile(1.0 + 1e-9) == math.inf


def linear_idle(points: int = 1001) -> IdleDistribution:
    return IdleDistribution(1.0, tuple(i / (points - 1) for i in range(points)))


def test_the_shortcut_returns_the_idle_quantile_at_the_raised_level() -> None:
    idle = linear_idle()
    stages = [Stage(10, 0.0, 0.001, 5.0), Stage(10, 0.0, 0.001, 5.0)]
    # no stage waits with probability 0.999^2; 0.95 / 0.998001 = 0.95190...
    assert percentile_with_waits(idle, stages, 95) == 952.0


def test_the_shortcut_holds_up_to_the_slack_and_no_further() -> None:
    # low = 100; high = 103 is exactly 3 % above it, high = 104 is beyond
    def idle_with_high_at(high: int) -> IdleDistribution:
        cdf = [0.0] * 100 + [0.5] * (high - 100) + [0.9] * 10 + [1.0]
        return IdleDistribution(1.0, tuple(cdf))

    stages = [Stage(40.0, 0.0, 0.1, 200.0)]  # no_wait = 0.9 > 0.5, raised level 0.5/0.9
    assert percentile_with_waits(idle_with_high_at(103), stages, 50) == 103.0
    full = path_percentile(stages, 50)
    assert full == pytest.approx(40, abs=0.1)
    assert percentile_with_waits(idle_with_high_at(104), stages, 50) == full


def test_without_room_for_the_shortcut_the_full_convolution_decides() -> None:
    idle = linear_idle()
    stages = [Stage(40.0, 0.0, 0.3, 200.0)]  # no_wait 0.7 < 0.95
    assert percentile_with_waits(idle, stages, 95) == path_percentile(stages, 95)

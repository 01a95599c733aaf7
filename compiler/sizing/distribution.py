"""Percentiles of a path's end-to-end time by numerical convolution of its stages' distributions.

Input: stages, each a service time R ~ Gamma(mean, cv) plus a queueing wait W that is 0 with
probability 1 - p_wait and exponential with mean `wait_mean_ms` otherwise. Output: the requested
percentile of sum(W + R) in ms. Every stage is discretised on one grid with its mass moved to the
right edge of its cell, so the answer is never below the exact one by more than the missing tail.
Pure functions (numpy), no state.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from compiler.sizing.frozen import quick_init

GRID_POINTS = 512
SPREAD = 10.0  # a stage's service time is taken to end within mean + SPREAD standard deviations


@quick_init
@dataclass(frozen=True, slots=True)
class Stage:
    response_ms: float
    response_cv: float
    p_wait: float = 0.0
    wait_mean_ms: float = 0.0


def _upper(stage: Stage, tail: float) -> float:
    """A time the stage exceeds with probability well below `tail` (the grid's end share)."""
    hi = stage.response_ms * (1 + SPREAD * stage.response_cv) + 1e-9
    if stage.p_wait > 0 and stage.wait_mean_ms > 0:
        hi += stage.wait_mean_ms * max(0.0, math.log(stage.p_wait / tail))
    return hi


def _gamma_mass(mean: float, cv: float, grid: np.ndarray, step: float, hi: float) -> np.ndarray:
    """Gamma(mean, cv) as masses on grid points i*step (the mass of ((i-1)*step, i*step]),
    cut at `hi` (the mass beyond counts as never arriving: the percentile can only rise)."""
    mass = np.zeros_like(grid)
    sd = mean * cv
    if cv <= 0 or sd < 2 * step:  # too narrow to resolve: a point mass, rounded up
        mass[min(len(grid) - 1, math.ceil(mean / step - 1e-9))] = 1.0
        return mass
    shape, scale = 1 / cv**2, mean * cv**2
    mid = grid[1:] - step / 2
    log_pdf = (shape - 1) * np.log(mid) - mid / scale - math.lgamma(shape) - shape * math.log(scale)
    mass[1:] = np.exp(log_pdf) * step
    mass[grid > hi] = 0.0
    total = float(mass.sum())
    if total > 1:
        mass /= total
    return mass


def _wait_mass(stage: Stage, grid: np.ndarray, hi: float) -> np.ndarray | None:
    if stage.p_wait <= 0 or stage.wait_mean_ms <= 0:
        return None
    survival = np.exp(-grid / stage.wait_mean_ms)
    mass = np.empty_like(grid)
    mass[0] = 1 - stage.p_wait
    mass[1:] = stage.p_wait * (survival[:-1] - survival[1:])
    mass[grid > hi] = 0.0
    return mass


def path_percentile(stages: Sequence[Stage], percentile: float) -> float:
    """The `percentile`-th percentile (0-100) of the sum of the stages' times, in ms."""
    tail = (1 - percentile / 100) / (100 * max(1, len(stages)))
    uppers = [_upper(s, tail) for s in stages]
    end = sum(uppers)
    size = 1 << (2 * GRID_POINTS - 1).bit_length()
    grid = np.arange(GRID_POINTS, dtype=float) * (end / (GRID_POINTS - 1))
    step = float(grid[1])
    spectrum = np.ones(size // 2 + 1, dtype=complex)
    for stage, hi in zip(stages, uppers, strict=True):
        service = _gamma_mass(stage.response_ms, stage.response_cv, grid, step, hi)
        spectrum *= np.fft.rfft(service, size)
        wait = _wait_mass(stage, grid, hi)
        if wait is not None:
            spectrum *= np.fft.rfft(wait, size)
    mass = np.fft.irfft(spectrum, size)[:GRID_POINTS]
    cdf = np.cumsum(np.clip(mass, 0, None))
    index = int(np.searchsorted(cdf, percentile / 100 - 1e-12))
    if index >= GRID_POINTS:
        return math.inf
    return index * step


@dataclass(frozen=True)
class IdleDistribution:
    """The CDF of a sum of service times (no waits) on a fine grid, for quantiles at any level."""

    step: float
    cdf: tuple[float, ...]  # non-decreasing: bisect finds what numpy's searchsorted would

    def quantile(self, level: float) -> float:
        """The `level` (0-1) quantile; inf when the level lies beyond the grid."""
        index = bisect.bisect_left(self.cdf, level - 1e-12)
        return math.inf if index >= len(self.cdf) else index * self.step


IDLE_POINTS = 4096


def idle_distribution(responses: Sequence[tuple[float, float]]) -> IdleDistribution:
    """CDF of the sum of Gamma(mean, cv) service times, its grid reaching past p99.99."""
    stages = [Stage(mean, cv) for mean, cv in responses]
    uppers = [_upper(s, 1e-6) for s in stages]
    end = sum(uppers)
    size = 1 << (2 * IDLE_POINTS - 1).bit_length()
    grid = np.arange(IDLE_POINTS, dtype=float) * (end / (IDLE_POINTS - 1))
    step = float(grid[1])
    spectrum = np.ones(size // 2 + 1, dtype=complex)
    for stage, hi in zip(stages, uppers, strict=True):
        spectrum *= np.fft.rfft(
            _gamma_mass(stage.response_ms, stage.response_cv, grid, step, hi), size
        )
    mass = np.fft.irfft(spectrum, size)[:IDLE_POINTS]
    return IdleDistribution(step, tuple(np.cumsum(np.clip(mass, 0, None)).tolist()))


# When waits are rare, the percentile is bounded above by the idle sum's at a raised level:
# P(T <= t) >= P(idle <= t) x P(no stage waits). Used when that bound is this close to the
# idle percentile itself (a lower bound), else the full convolution decides.
BOUND_SLACK = 0.03


def percentile_with_waits(
    idle: IdleDistribution, stages: Sequence[Stage], percentile: float
) -> float:
    """The percentile of idle time + the stages' waits, never below the exact one."""
    level = percentile / 100
    no_wait = math.prod(1 - s.p_wait for s in stages)
    low = idle.quantile(level)
    if no_wait > level:
        high = idle.quantile(level / no_wait)
        if high <= low * (1 + BOUND_SLACK):
            return high
    return path_percentile(stages, percentile)

"""What a simulation measured: per path the end-to-end samples, per service its queue statistics.

Input: numbers the engine collected. Output: frozen results with the estimators documented here
(the percentile is linear interpolation between order statistics, Hyndman-Fan type 7, as numpy's
default; the confidence interval is batch means). No simulation and no I/O here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from compiler.errors import Location, ValidationFailed

CI_BATCHES = 20
# Student t, 97.5 % quantile, 19 degrees of freedom: the two-sided 95 % interval over 20 batches.
T_975_19 = 2.093


def interpolated_percentile(ordered: Sequence[float], p: float) -> float:
    """The p-th percentile (0 <= p <= 100) of ascending `ordered`: Hyndman-Fan type 7.

    h = (n - 1) p / 100; the value is x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]),
    0-based. It equals numpy.percentile's default and is exact at the sample's min and max.
    """
    if not ordered:
        raise ValidationFailed("no samples to take a percentile of")
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 100:
        raise ValidationFailed(
            f"percentile must be between 0 and 100, got {p!r}",
            location=Location(field="percentile"),
        )
    h = (len(ordered) - 1) * p / 100.0
    low = math.floor(h)
    if low + 1 >= len(ordered):
        return ordered[-1]
    return ordered[low] + (h - low) * (ordered[low + 1] - ordered[low])


@dataclass(frozen=True)
class PathResult:
    """End-to-end times (ms) of one path's measured requests, in the order they arrived."""

    name: str
    samples: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.samples)

    @property
    def mean_ms(self) -> float:
        return math.fsum(self.samples) / len(self.samples)

    @cached_property
    def _ordered(self) -> tuple[float, ...]:
        return tuple(sorted(self.samples))

    def percentile_ms(self, p: float) -> float:
        """The p-th percentile of the end-to-end time, by interpolated_percentile."""
        return interpolated_percentile(self._ordered, p)

    def percentile_ci_ms(self, p: float) -> tuple[float, float]:
        """A 95 % confidence interval for percentile_ms(p), by batch means.

        Consecutive requests share queue states, so samples are correlated and order-statistic
        bounds (which assume independence) would be too narrow. The samples are cut into 20
        consecutive batches; the interval is the overall estimate +- t(0.975, 19) x the standard
        deviation of the batch estimates / sqrt(20). Batches must be long compared with the
        queue's correlation time; at the default 18,000 samples each holds 900.
        """
        size = self.count // CI_BATCHES
        if size < 2:
            raise ValidationFailed(
                f"{self.name}: {self.count} samples are too few for a {CI_BATCHES}-batch interval"
            )
        batches = [
            interpolated_percentile(sorted(self.samples[b * size : (b + 1) * size]), p)
            for b in range(CI_BATCHES)
        ]
        half = T_975_19 * statistics.stdev(batches) / math.sqrt(CI_BATCHES)
        centre = self.percentile_ms(p)
        return centre - half, centre + half


@dataclass(frozen=True)
class ServiceResult:
    """One service's queues over the measurement window (after warm-up, while all paths ran)."""

    name: str
    utilisation: float  # busy slot-time / (pods x slots x window)
    mean_wait_ms: float  # mean FIFO wait for a slot, over requests arriving in the window
    p_wait: float  # fraction of those requests that waited at all
    arrivals: int  # requests that arrived in the window
    arrival_rate_per_s: float  # arrivals / window
    pod_shares: tuple[float, ...]  # fraction of the arrivals routed to each pod; () when shared


@dataclass(frozen=True)
class SimulationResult:
    paths: Mapping[str, PathResult]
    services: Mapping[str, ServiceResult]
    seed: int
    events: int  # heap events processed (arrivals, stage hand-overs, slot releases)
    simulated_ms: float  # simulated clock when the last measured request finished

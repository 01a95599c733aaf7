"""Model against simulation, path by path: the issue's acceptance band in one place.

Input: the plan JSON (its `paths[].percentile` and `paths[].predicted_ms`) and a SimulationResult
of it. Output: one PathComparison per path, for corpus tests and `ecp calc --simulate`.
The band (issue 8): |model - sim| <= 10 % of sim, which also means never more than 10 % optimistic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compiler.errors import Location, ValidationFailed
from compiler.sizing.simulation.results import CI_BATCHES, SimulationResult

BAND = 0.10


@dataclass(frozen=True)
class PathComparison:
    name: str
    percentile: float
    predicted_ms: float
    simulated_ms: float
    simulated_ci_ms: tuple[float, float] | None  # batch-means 95 % interval; None: too few samples
    samples: int

    @property
    def relative_error(self) -> float:
        """(model - simulation) / simulation: negative is optimistic."""
        return (self.predicted_ms - self.simulated_ms) / self.simulated_ms

    def within(self, band: float = BAND) -> bool:
        return abs(self.relative_error) <= band


def _field(path: Mapping[str, Any], key: str, i: int) -> float:
    value = path.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValidationFailed(
            f"must be a positive number, got {value!r}",
            location=Location(field=f"paths[{i}].{key}"),
        )
    return float(value)


def compare(plan_json: Mapping[str, Any], result: SimulationResult) -> tuple[PathComparison, ...]:
    """Each path's predicted percentile beside the simulated one at the same percentile."""
    comparisons = []
    for i, path in enumerate(plan_json["paths"]):
        percentile = _field(path, "percentile", i)
        if percentile >= 100:
            raise ValidationFailed(
                f"must be below 100, got {percentile:g}",
                location=Location(field=f"paths[{i}].percentile"),
            )
        simulated = result.paths[path["name"]]
        comparisons.append(
            PathComparison(
                name=path["name"],
                percentile=percentile,
                predicted_ms=_field(path, "predicted_ms", i),
                simulated_ms=simulated.percentile_ms(percentile),
                simulated_ci_ms=simulated.percentile_ci_ms(percentile)
                if simulated.count >= 2 * CI_BATCHES
                else None,
                samples=simulated.count,
            )
        )
    return tuple(comparisons)

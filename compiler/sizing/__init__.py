"""Stage 2, sizing: pure functions from a spec and the catalogue to a resource plan.

Paths (presets/paths.yaml) of per-pod queues (queueing.py, on the exact Erlang C of erlang.py),
their percentiles by numerical convolution (distribution.py), hardware per service (options.py,
choose.py), k-of-n availability along paths (availability.py), tier fit and cost. No I/O, no
randomness: the same inputs give the same plan. The simulator (sizing.simulation) checks the
model in tests and `ecp calc --simulate`; nothing on the compile path imports it.
"""

from compiler.sizing.calculation import Calculation, calculate, plan_tenant
from compiler.sizing.models import (
    Alternative,
    Cost,
    PathPlan,
    ResourcePlan,
    ServicePlan,
    Totals,
    path_json,
    service_json,
)

__all__ = [
    "Alternative",
    "Calculation",
    "Cost",
    "PathPlan",
    "ResourcePlan",
    "ServicePlan",
    "Totals",
    "calculate",
    "path_json",
    "plan_tenant",
    "service_json",
]

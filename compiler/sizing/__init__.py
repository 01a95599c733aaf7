"""Stage 2, sizing: pure functions from a spec and the catalogue to a resource plan.

Erlang C for capacity, k-of-n for availability, tier fit and cost. No I/O, no randomness: the same
inputs give the same plan, with every step recorded for `ecp calc --explain`.
"""

from compiler.sizing.calculation import Calculation, calculate
from compiler.sizing.choose import plan_tenant
from compiler.sizing.models import Alternative, Cost, ResourcePlan, ServicePlan, Totals

__all__ = [
    "Alternative",
    "Calculation",
    "Cost",
    "ResourcePlan",
    "ServicePlan",
    "Totals",
    "calculate",
    "plan_tenant",
]

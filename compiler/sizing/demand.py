"""What sizing needs to know of a request, whichever shell it came from (spec or calculate body).

Input: a TenantSpec or a CalculateRequest. Output: a frozen Demand, and the warnings the
request's own figures call for. No catalogue and no sizing decisions here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from compiler.sizing.frozen import quick_init
from compiler.spec.models import CalculateRequest, SlaTarget, TenantSpec

USER_FACING = ("callbot", "chatbot", "advisor")  # services whose every channel has a person


@quick_init
@dataclass(frozen=True, slots=True)
class Demand:
    """What sizing needs to know, whichever shell it came from."""

    requested: Mapping[str, int]
    sla: SlaTarget
    preset: str | None
    gpu_type: str | None
    engines: Mapping[str, str]
    images: Mapping[str, str]
    # the tenant's session store's availability (redis.py sets it; 1: none counted): in series
    # on every session path, so the search prices each combination with the spares those
    # paths then need (Sizer.with_spares), as the answer adds them
    session_availability: float = 1.0


def demand_of(spec: TenantSpec | CalculateRequest) -> Demand:
    return Demand(
        requested=spec.service_requirements.enabled(),
        sla=spec.sla_target,
        preset=spec.preset,
        gpu_type=spec.gpu_type,
        engines={str(k): str(v) for k, v in spec.engines.items()},
        # a calculate body names no images (and a missed attribute costs pydantic a lookup)
        images={str(k): v for k, v in spec.images.items()} if isinstance(spec, TenantSpec) else {},
    )


def demand_warnings(demand: Demand) -> list[str]:
    """concurrent_users below the user-facing channels: the plan is sized for the channels."""
    users = demand.sla.concurrent_users
    facing = sum(demand.requested.get(s, 0) for s in USER_FACING)
    if users is not None and users < facing:
        return [
            f"sla_target.concurrent_users {users} is below the {facing} user-facing channels "
            f"({', '.join(USER_FACING)}): each such channel has a person in it, so the plan is "
            "sized for the channels"
        ]
    return []

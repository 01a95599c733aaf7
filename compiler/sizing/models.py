"""Typed results of the sizing stage: per-service plans, paths, totals, costs, the tier decision.

The JSON contract of issue 8 (I8-CONTRACT.md: `paths[]`, `services[].queue`) is written from
these by `path_json` and `service_json`; a simulator re-simulates a plan from that JSON alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.quantity import format_cpu, format_memory, format_storage
from compiler.sizing.frozen import quick_init
from compiler.sizing.options import ServiceOption
from compiler.sizing.queueing import QueueState


@quick_init
@dataclass(frozen=True, slots=True)
class Totals:
    cpu_millicores: int
    memory_mib: int
    gpu: int
    storage_gb: float

    def as_resources(self) -> dict[str, str | int]:
        return {
            "cpu": format_cpu(self.cpu_millicores),
            "memory": format_memory(self.memory_mib),
            "gpu": self.gpu,
            "storage": format_storage(self.storage_gb),
        }


@quick_init
@dataclass(frozen=True, slots=True)
class ServicePlan:
    name: str
    channels: int  # asked for directly in the spec
    effective_channels: float  # channels whose paths reach this service
    option: ServiceOption
    rate_per_s: float  # all paths summed
    queue: QueueState  # with the serving pods
    replicas_for_capacity: int  # serving pods: what the paths' percentiles were computed with
    replicas: int  # after availability spares
    achieved_availability: float  # this service's, rollouts counted
    predicted_response_ms: float  # this stage alone: mean wait + mean response
    storage_gb: float
    image: str

    @property
    def min_available(self) -> int:
        return self.replicas_for_capacity

    @property
    def gpu_type(self) -> str | None:
        return self.option.gpu_type

    @property
    def gpu_per_replica(self) -> int:
        return self.option.gpus_per_pod

    @property
    def slots_per_replica(self) -> int:
        return self.option.slots

    @property
    def cpu_request_m(self) -> int:
        return self.option.cpu_request_m

    @property
    def cpu_limit_m(self) -> int:
        return self.option.cpu_limit_m

    @property
    def memory_mib(self) -> int:
        return self.option.memory_mib

    @property
    def offered_load(self) -> float:
        return self.queue.load

    @property
    def p_wait(self) -> float:
        return self.queue.p_wait


@quick_init
@dataclass(frozen=True, slots=True)
class PathPlan:
    name: str
    label: str
    stages: tuple[str, ...]
    percentile: float
    predicted_ms: float
    sla_ms: float
    availability: float
    arrival_rate_per_s: float
    idle_floor_ms: float  # the percentile with no waits, on this plan's hardware

    @property
    def meets_sla(self) -> bool:
        return self.predicted_ms <= self.sla_ms

    def with_availability(self, availability: float) -> PathPlan:
        """The same prediction at another availability (dataclasses.replace, without its
        per-field introspection: the session store sets this on every path of every plan)."""
        return PathPlan(
            self.name,
            self.label,
            self.stages,
            self.percentile,
            self.predicted_ms,
            self.sla_ms,
            availability,
            self.arrival_rate_per_s,
            self.idle_floor_ms,
        )


@quick_init
@dataclass(frozen=True, slots=True)
class Cost:
    cpu: float
    memory: float
    gpu: float
    storage: float

    @property
    def total(self) -> float:
        return self.cpu + self.memory + self.gpu + self.storage

    def label(self) -> str:
        return f"${self.total:,.0f}/month"


@quick_init
@dataclass(frozen=True, slots=True)
class ResourcePlan:
    """What a tenant needs, and the tier that holds it."""

    services: tuple[ServicePlan, ...]
    paths: tuple[PathPlan, ...]
    totals: Totals
    tier: str
    tier_source: str  # "explicit" or "recommended"
    cost: Cost
    availability_target: float
    response_target_ms: float
    percentile: float
    warnings: tuple[str, ...] = ()
    explanation: tuple[str, ...] = field(default=(), compare=False)

    def service(self, name: str) -> ServicePlan:
        for plan in self.services:
            if plan.name == name:
                return plan
        raise KeyError(name)

    def path(self, name: str) -> PathPlan:
        for path in self.paths:
            if path.name == name:
                return path
        raise KeyError(name)

    @property
    def pods(self) -> int:
        return sum(s.replicas for s in self.services)

    def with_resources(
        self,
        services: tuple[ServicePlan, ...],
        paths: tuple[PathPlan, ...],
        totals: Totals,
        cost: Cost,
    ) -> ResourcePlan:
        """The same decision over other services, paths, totals and cost (dataclasses.replace
        without its per-field introspection: the session store and the alternative set these
        on every plan)."""
        return ResourcePlan(
            services,
            paths,
            totals,
            self.tier,
            self.tier_source,
            cost,
            self.availability_target,
            self.response_target_ms,
            self.percentile,
            self.warnings,
            self.explanation,
        )

    @property
    def gpu_type(self) -> str | None:
        """The GPU type carrying most of the plan's GPUs (ties: alphabetical); None without
        GPUs. Each service's own type is in `services`."""
        counts: dict[str, int] = {}
        for s in self.services:
            if s.gpu_type:
                counts[s.gpu_type] = counts.get(s.gpu_type, 0) + s.replicas * s.gpu_per_replica
        if not counts:
            return None
        return min(counts, key=lambda t: (-counts[t], t))


@quick_init
@dataclass(frozen=True, slots=True)
class Alternative:
    tier: str
    services: tuple[ServicePlan, ...]
    paths: tuple[PathPlan, ...]
    totals: Totals
    cost: Cost
    baseline: tuple[PathPlan, ...]  # the recommended plan's paths, for the impact

    @property
    def achieved_availability(self) -> float:
        return min(p.availability for p in self.paths)


def path_json(path: PathPlan) -> dict[str, Any]:
    return {
        "name": path.name,
        "stages": list(path.stages),
        "percentile": path.percentile,
        "predicted_ms": _ms(path.predicted_ms),
        "sla_ms": path.sla_ms,
        "meets_sla": path.meets_sla,
        "availability": round(path.availability, 6),
        "arrival_rate_per_s": round(path.arrival_rate_per_s, 6),
        "idle_floor_ms": _ms(path.idle_floor_ms),
    }


def _ms(value: float) -> float | None:
    return None if value == float("inf") else round(value, 1)


def service_json(s: ServicePlan) -> dict[str, Any]:
    o, q = s.option, s.queue
    return {
        "service_name": s.name,
        "channels": s.effective_channels,
        "replicas": s.replicas,
        "replicas_for_capacity": s.replicas_for_capacity,
        "gpu_type": s.gpu_type,
        "run": o.key,
        "predicted_response_time_ms": _ms(s.predicted_response_ms),
        "availability": round(s.achieved_availability, 6),
        "queue": {
            "pods": q.pods,
            "slots_per_pod": o.slots,
            "arrival_rate_per_s": round(s.rate_per_s, 6),
            "hold_ms": o.hold_ms,
            "hold_cv": o.hold_cv,
            "response_ms": o.response_ms,
            "response_cv": o.response_cv,
            "response_is_hold": o.response_is_hold,
            "routing": o.routing,
            "utilisation": round(q.utilisation, 4),
            "p_wait": round(q.p_wait, 6),
        },
    }

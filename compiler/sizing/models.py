"""Typed results of the sizing stage: per-service plans, totals, costs, the tier decision."""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.quantity import format_cpu, format_memory, format_storage


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


@dataclass(frozen=True, slots=True)
class ServicePlan:
    name: str
    channels: int  # asked for directly in the spec
    effective_channels: float  # including channels other services open on this one
    offered_load: float  # Erlangs
    slots_per_replica: int
    replicas_for_capacity: int
    replicas: int  # after availability padding
    p_wait: float
    predicted_response_ms: float
    achieved_availability: float
    cpu_request_m: int
    cpu_limit_m: int
    memory_mib: int
    gpu_per_replica: int
    storage_gb: float
    image: str

    @property
    def min_available(self) -> int:
        return self.replicas_for_capacity


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


@dataclass(frozen=True, slots=True)
class ResourcePlan:
    """What a tenant needs, and the tier that holds it."""

    services: tuple[ServicePlan, ...]
    totals: Totals
    tier: str
    tier_source: str  # "explicit" or "recommended"
    gpu_type: str | None  # None when no service uses a GPU
    cost: Cost
    availability_target: float
    response_target_ms: float
    explanation: tuple[str, ...] = field(default=(), compare=False)

    def service(self, name: str) -> ServicePlan:
        for plan in self.services:
            if plan.name == name:
                return plan
        raise KeyError(name)

    @property
    def pods(self) -> int:
        return sum(s.replicas for s in self.services)


@dataclass(frozen=True, slots=True)
class Alternative:
    tier: str
    totals: Totals
    cost: Cost
    predicted_response_ms: float
    baseline_response_ms: float
    achieved_availability: float

    @property
    def response_increase_pct(self) -> float:
        return (self.predicted_response_ms / self.baseline_response_ms - 1) * 100

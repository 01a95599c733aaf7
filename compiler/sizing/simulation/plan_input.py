"""Reads a plan JSON (the I8 contract's `paths[]` and `services[].queue`) into what the engine runs.

Input: a mapping as `ecp calc --format json` prints it. Output: a frozen SimPlan in milliseconds.
Every bad field is a ValidationFailed naming its JSON path; a queue that cannot keep up with its
arrivals is refused here, before any event runs. Reads nothing but the mapping it is given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.errors import Location, ValidationFailed

ROUTINGS = ("random", "least-request", "shared")
# The contract says path rates sum to a service's total "within rounding"; 1 % covers rates
# printed to three significant figures. A larger excess on the service is load from outside the
# listed paths and is simulated as a background stream; a larger shortfall is an inconsistent plan.
RATE_TOLERANCE = 0.01
MAX_PODS = 10_000
MAX_SLOTS_PER_POD = 100_000


@dataclass(frozen=True)
class QueueSpec:
    """One service's pods as the engine runs them. Times in ms, rates per ms."""

    name: str
    pods: int
    slots_per_pod: int
    hold_ms: float
    hold_cv: float
    response_ms: float
    response_cv: float
    response_is_hold: bool
    routing: str
    background_rate_per_ms: float  # arrivals from outside the plan's paths
    offered_rate_per_ms: float  # paths (with multiplicity) + background

    @property
    def utilisation(self) -> float:
        return self.offered_rate_per_ms * self.hold_ms / (self.pods * self.slots_per_pod)


@dataclass(frozen=True)
class PathSpec:
    name: str
    stages: tuple[int, ...]  # indices into SimPlan.services, in visiting order
    rate_per_ms: float


@dataclass(frozen=True)
class SimPlan:
    paths: tuple[PathSpec, ...]
    services: tuple[QueueSpec, ...]


def _fail(field: str, message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details=details, location=Location(field=field))


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(field, f"must be an object, got {type(value).__name__}")
    return value


def _list(value: object, field: str) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        raise _fail(field, "must be a non-empty list")
    return value


def _get(obj: Mapping[str, Any], key: str, field: str) -> Any:
    if key not in obj:
        raise _fail(f"{field}.{key}", "is required")
    return obj[key]


def _number(value: object, field: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(field, f"must be a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise _fail(field, f"must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _count(value: object, field: str, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, f"must be an integer, got {value!r}")
    if not 1 <= value <= upper:
        raise _fail(field, f"must be between 1 and {upper}, got {value}")
    return value


def _name(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(field, "must be a non-empty string")
    return value


def _queue_fields(service: Mapping[str, Any], field: str) -> dict[str, Any]:
    queue = _mapping(_get(service, "queue", field), f"{field}.queue")
    q = f"{field}.queue"
    is_hold = queue.get("response_is_hold", False)
    if not isinstance(is_hold, bool):
        raise _fail(f"{q}.response_is_hold", f"must be true or false, got {is_hold!r}")
    routing = _get(queue, "routing", q)
    if routing not in ROUTINGS:
        raise _fail(f"{q}.routing", f"must be one of {', '.join(ROUTINGS)}, got {routing!r}")
    response_cv = 0.0 if is_hold else _number(_get(queue, "response_cv", q), f"{q}.response_cv")
    return {
        "pods": _count(_get(queue, "pods", q), f"{q}.pods", MAX_PODS),
        "slots_per_pod": _count(
            _get(queue, "slots_per_pod", q), f"{q}.slots_per_pod", MAX_SLOTS_PER_POD
        ),
        "total_rate_per_s": _number(
            _get(queue, "arrival_rate_per_s", q), f"{q}.arrival_rate_per_s"
        ),
        "hold_ms": _number(_get(queue, "hold_ms", q), f"{q}.hold_ms", positive=True),
        "hold_cv": _number(_get(queue, "hold_cv", q), f"{q}.hold_cv"),
        "response_ms": _number(_get(queue, "response_ms", q), f"{q}.response_ms"),
        "response_cv": response_cv,
        "response_is_hold": is_hold,
        "routing": routing,
    }


def _paths(raw: Sequence[Any], index: Mapping[str, int]) -> tuple[PathSpec, ...]:
    paths: list[PathSpec] = []
    for i, item in enumerate(raw):
        field = f"paths[{i}]"
        path = _mapping(item, field)
        name = _name(_get(path, "name", field), f"{field}.name")
        if any(p.name == name for p in paths):
            raise _fail(f"{field}.name", f"path {name!r} is listed twice")
        stages: list[int] = []
        for j, stage in enumerate(_list(_get(path, "stages", field), f"{field}.stages")):
            if stage not in index:
                raise _fail(f"{field}.stages[{j}]", f"{stage!r} is not in services[]")
            stages.append(index[stage])
        rate = _number(
            _get(path, "arrival_rate_per_s", field), f"{field}.arrival_rate_per_s", positive=True
        )
        paths.append(PathSpec(name, tuple(stages), rate / 1000.0))
    return tuple(paths)


def _queue(name: str, fields: dict[str, Any], path_rate_per_s: float, i: int) -> QueueSpec:
    total = fields.pop("total_rate_per_s")
    field = f"services[{i}].queue.arrival_rate_per_s"
    if path_rate_per_s > total * (1 + RATE_TOLERANCE) + 1e-9:
        raise _fail(
            field,
            f"{name}: the paths send {path_rate_per_s:g}/s but the queue says {total:g}/s",
            service=name,
        )
    background = 0.0 if total <= path_rate_per_s * (1 + RATE_TOLERANCE) else total - path_rate_per_s
    spec = QueueSpec(
        name=name,
        background_rate_per_ms=background / 1000.0,
        offered_rate_per_ms=(path_rate_per_s + background) / 1000.0,
        **fields,
    )
    if spec.utilisation >= 1.0:
        raise _fail(
            field,
            f"{name} is unstable: {spec.offered_rate_per_ms * 1000:g}/s x {spec.hold_ms:g} ms "
            f"is {spec.utilisation:.3f} of its {spec.pods} x {spec.slots_per_pod} slots "
            "(must be < 1); its queue would grow without bound",
            service=name,
            utilisation=spec.utilisation,
        )
    return spec


def read_plan(plan: object) -> SimPlan:
    """Validate `plan` and return it in engine units; raises ValidationFailed naming the field."""
    root = _mapping(plan, "plan")
    raw_services = _list(_get(root, "services", "plan"), "services")
    names: list[str] = []
    fields: list[dict[str, Any]] = []
    for i, item in enumerate(raw_services):
        service = _mapping(item, f"services[{i}]")
        name = _name(_get(service, "service_name", f"services[{i}]"), f"services[{i}].service_name")
        if name in names:
            raise _fail(f"services[{i}].service_name", f"service {name!r} is listed twice")
        names.append(name)
        fields.append(_queue_fields(service, f"services[{i}]"))
    index = {name: i for i, name in enumerate(names)}
    paths = _paths(_list(_get(root, "paths", "plan"), "paths"), index)
    path_rate_per_s = [
        sum(p.rate_per_ms * 1000.0 * p.stages.count(i) for p in paths) for i in range(len(names))
    ]
    services = tuple(_queue(name, fields[i], path_rate_per_s[i], i) for i, name in enumerate(names))
    return SimPlan(paths=paths, services=services)

"""resource_summary: what a manifest set asks of the cluster, as the validate-manifest API shows it.

Counts per kind (lowercase plural keys; namespaces, deployments, services, configmaps and secrets
always present), then CPU, memory and GPU requests times replicas and the pod count, over the
workloads whose replica count is known. Quantities the schema rejects are left out, not raised.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from compiler.errors import ValidationFailed
from compiler.quantity import (
    format_bytes,
    format_cpu,
    parse_bytes,
    parse_cpu,
    parse_quantity,
)
from compiler.validating.workloads import (
    GPU_RESOURCE,
    container_request,
    containers,
    replicas_of,
)

_ALWAYS_COUNTED = ("namespaces", "deployments", "services", "configmaps", "secrets")
# Kinds with a replica count; a bare Pod is one pod. DaemonSets depend on the node count: left out.
_SIZED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Pod"})


def resource_summary(objects: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    counts = dict.fromkeys(_ALWAYS_COUNTED, 0)
    others: dict[str, int] = {}
    cpu_millis = memory_bytes = gpus = pods = 0
    for obj in objects:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("kind"), str):
            continue
        kind: str = obj["kind"]
        key = plural(kind)
        if key in counts:
            counts[key] += 1
        else:
            others[key] = others.get(key, 0) + 1
        if kind not in _SIZED_KINDS:
            continue
        replicas = replicas_of(obj)
        pods += replicas
        for _, container in containers(obj):
            cpu_millis += replicas * _request(container, "cpu", parse_cpu)
            memory_bytes += replicas * _request(container, "memory", parse_bytes)
            gpus += replicas * _request(container, GPU_RESOURCE, _whole)
    return {
        **counts,
        **dict(sorted(others.items())),
        "total_cpu": format_cpu(cpu_millis),
        "total_memory": format_bytes(memory_bytes),
        "total_gpu": gpus,
        "estimated_pods": pods,
    }


def plural(kind: str) -> str:
    """Deployment -> deployments, NetworkPolicy -> networkpolicies, Ingress -> ingresses."""
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "o", "u"):
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"


def _request(container: Mapping[str, Any], resource: str, parse: Callable[[Any], int]) -> int:
    value = container_request(container, resource)
    if value is None:
        return 0
    try:
        return parse(value)
    except ValidationFailed:
        return 0


def _whole(quantity: Any) -> int:
    return math.ceil(parse_quantity(quantity))

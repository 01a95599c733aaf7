"""System capacity from the cluster: nodes' allocatable against the tenants' ResourceQuotas. Pure.

Input: Node and ResourceQuota objects as API dicts. Output: the reference's GET /monitoring/system
resource fields: total (allocatable cpu, memory, nvidia.com/gpu, and GPUs per `ecp.ai/gpu-type`
node label), used (the quotas' status.used requests), and cluster_status from node conditions:
a node not Ready -> "degraded", a node under memory/disk/PID pressure -> "warning".
"""

from __future__ import annotations

from typing import Any

from compiler.errors import ValidationFailed
from compiler.quantity import parse_bytes, parse_cpu

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TYPE_LABEL = "ecp.ai/gpu-type"
PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")


def _cpu(value: object) -> int:
    try:
        return parse_cpu(str(value))
    except ValidationFailed:
        return 0


def _bytes(value: object) -> int:
    try:
        return parse_bytes(str(value))
    except ValidationFailed:
        return 0


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def node_health(nodes: list[dict[str, Any]]) -> str:
    worst = "healthy"
    for node in nodes:
        conditions = {
            c.get("type"): c.get("status")
            for c in (node.get("status") or {}).get("conditions") or []
        }
        if conditions.get("Ready") != "True":
            return "degraded"
        if any(conditions.get(p) == "True" for p in PRESSURES):
            worst = "warning"
    return worst


def cluster_capacity(nodes: list[dict[str, Any]], quotas: list[dict[str, Any]]) -> dict[str, Any]:
    """{"total": {cpu_millicores, memory_bytes, gpu, gpu_by_type}, "used": {...}, "status"}."""
    cpu = memory = gpu = 0
    by_type: dict[str, int] = {}
    for node in nodes:
        if (node.get("spec") or {}).get("unschedulable"):
            continue  # cordoned: its capacity is not on offer
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        cpu += _cpu(allocatable.get("cpu", "0"))
        memory += _bytes(allocatable.get("memory", "0"))
        gpus = _int(allocatable.get(GPU_RESOURCE, "0"))
        gpu += gpus
        if gpus:
            kind = ((node.get("metadata") or {}).get("labels") or {}).get(
                GPU_TYPE_LABEL, "unlabelled"
            )
            by_type[kind] = by_type.get(kind, 0) + gpus
    used_cpu = used_memory = used_gpu = 0
    for quota in quotas:
        used = (quota.get("status") or {}).get("used") or {}
        used_cpu += _cpu(used.get("requests.cpu", "0"))
        used_memory += _bytes(used.get("requests.memory", "0"))
        used_gpu += _int(used.get(f"requests.{GPU_RESOURCE}", "0"))
    return {
        "total": {
            "cpu_millicores": cpu,
            "memory_bytes": memory,
            "gpu": gpu,
            "gpu_by_type": dict(sorted(by_type.items())),
        },
        "used": {"cpu_millicores": used_cpu, "memory_bytes": used_memory, "gpu": used_gpu},
        "status": node_health(nodes),
    }

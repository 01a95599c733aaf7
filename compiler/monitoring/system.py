"""System metrics: cluster capacity (settings) against the compiled tenants' quotas.

Input: settings.cluster, <output_dir>/index.json (the compiled output contract) and the tenants
that reported metrics recently. Output: the reference's GET /monitoring/system body. Reads files,
writes nothing; a missing index means nothing is compiled yet, not an error.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from compiler.errors import MonitoringUnavailable, ValidationFailed
from compiler.quantity import (
    format_cpu,
    format_memory,
    parse_cpu,
    parse_memory_mib,
    parse_storage_gb,
)
from compiler.settings import Settings

# Above 80 % of any resource the cluster cannot absorb one more large tenant or a node loss;
# above 100 % quotas are overcommitted and pods will stay Pending. Same 80 as the alert rules.
WARNING_UTILIZATION = 80.0
CRITICAL_UTILIZATION = 100.0


def _tenants_in_index(settings: Settings) -> Mapping[str, Any]:
    path = settings.output_dir / "index.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise MonitoringUnavailable(
            f"cannot read the compiled index: {exc}", details={"file": str(path)}
        ) from exc
    tenants = data.get("tenants") if isinstance(data, dict) else None
    return tenants if isinstance(tenants, dict) else {}


def _storage(gb: float) -> str:
    # The reference writes cluster storage as whole TB ("50TB", "25TB").
    return f"{gb / 1000:g}TB"


def _percent(used: float, total: float) -> float:
    return round(100 * used / total, 1) if total > 0 else 0.0


def system_metrics(
    settings: Settings, reporting: Iterable[str], visible: Collection[str] | None = None
) -> dict[str, Any]:
    specs = (
        {p.stem for p in settings.tenants_dir.glob("*.yaml")}
        if settings.tenants_dir.is_dir()
        else set()
    )
    if visible is not None:
        specs &= set(visible)  # a scoped caller sees only its own tenants' share
    compiled = _tenants_in_index(settings)
    cpu = memory = gpu = 0
    storage = 0.0
    for tenant_id, entry in compiled.items():
        if tenant_id not in specs:
            continue  # deleted since the last compile: its quota is being given back
        quota = entry.get("quota") if isinstance(entry, dict) else None
        if not isinstance(quota, dict):
            # An index written before entries carried their quota: a silent 0 would be a lie.
            raise MonitoringUnavailable(
                f"compiled index has no quota for {tenant_id}; run `ecp compile --all` again",
                details={"tenant_id": tenant_id, "file": "output/index.json"},
            )
        try:
            cpu += parse_cpu(quota.get("cpu", "0m"))
            memory += parse_memory_mib(quota.get("memory", "0Mi"))
            gpu += int(quota.get("gpu", 0))
            storage += parse_storage_gb(quota.get("storage", "0GB"))
        except (TypeError, ValueError, ValidationFailed) as exc:
            raise MonitoringUnavailable(
                f"compiled index has a bad quota for {tenant_id}: {exc}",
                details={"tenant_id": tenant_id},
            ) from exc
    cluster = settings.cluster
    utilization = {
        "cpu": _percent(cpu, cluster.cpu_millicores),
        "memory": _percent(memory, cluster.memory_gib * 1024),
        "gpu": _percent(gpu, cluster.gpu),
        "storage": _percent(storage, cluster.storage_tb * 1000),
    }
    peak = max(utilization.values())
    status = (
        "critical"
        if peak > CRITICAL_UTILIZATION
        else "warning"
        if peak >= WARNING_UTILIZATION
        else "healthy"
    )
    return {
        "cluster_status": status,
        "total_tenants": len(specs),
        # Active: has a spec and sent metrics in the last few minutes, i.e. is running somewhere.
        "active_tenants": len(specs & set(reporting)),
        "total_resources": {
            "cpu": format_cpu(cluster.cpu_millicores),
            "memory": f"{cluster.memory_gib}Gi",
            "gpu": cluster.gpu,
            "storage": _storage(cluster.storage_tb * 1000),
        },
        "used_resources": {
            "cpu": format_cpu(cpu),
            "memory": format_memory(memory) if memory else "0Gi",
            "gpu": gpu,
            "storage": _storage(storage),
        },
        "utilization": utilization,
    }

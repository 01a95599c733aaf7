"""What the compiled output says about a tenant, for monitoring: GPUs, namespace, quota.

Input: <output_dir>/index.json (the compiled output contract), re-read only when it changes.
Output: per tenant whether its plan has GPU workloads and the TenantScope PromQL needs. A missing
or half-replaced index answers "not known" (None), never an error: metrics must still flow.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from compiler.errors import OrchestratorError
from compiler.monitoring.prometheus.queries import TenantScope
from compiler.quantity import parse_bytes, parse_cpu

_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class CompiledIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._key = -1
        self._tenants: dict[str, Any] = {}

    def entry(self, tenant_id: str) -> dict[str, Any] | None:
        try:
            mtime = self.path.stat().st_mtime_ns
        except OSError:
            return None
        with self._lock:
            if mtime != self._key:
                try:
                    tenants = json.loads(self.path.read_text(encoding="utf-8"))["tenants"]
                except (OSError, ValueError, KeyError, TypeError):
                    return None  # mid-replace or broken: ask again next time
                if isinstance(tenants, dict):
                    self._key, self._tenants = mtime, tenants
            found = self._tenants.get(tenant_id)
        return found if isinstance(found, dict) else None

    def has_gpu(self, tenant_id: str) -> bool | None:
        entry = self.entry(tenant_id)
        if entry is None:
            return None
        return bool((entry.get("totals") or {}).get("gpu", 0))

    def scope(self, tenant_id: str) -> TenantScope:
        entry = self.entry(tenant_id) or {}
        quota = entry.get("quota") or {}
        try:
            cores = parse_cpu(quota["cpu"]) / 1000 if "cpu" in quota else None
            memory = float(parse_bytes(quota["memory"])) if "memory" in quota else None
        except OrchestratorError:
            cores = memory = None
        namespace = str(entry.get("namespace") or "")
        return TenantScope(
            tenant_id=tenant_id,
            # It goes into PromQL: only a DNS-1123 label passes, as rendering enforces.
            namespace=namespace if _NAMESPACE.fullmatch(namespace) else f"ecp-ai-{tenant_id}",
            cpu_cores=cores,
            memory_bytes=memory,
        )

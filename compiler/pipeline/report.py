"""Compile results: one TenantResult per tenant and the CompileReport the shells print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from compiler.validating.findings import Finding

Status = Literal["compiled", "unchanged", "failed", "removed", "stale", "up-to-date"]


@dataclass
class TenantResult:
    tenant_id: str
    status: Status
    source: str | None = None
    entry: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "status": self.status,
            "source": self.source,
            "errors": self.errors,
            "warnings": [w.to_dict() for w in self.warnings],
            "summary": _summary(self.entry) if self.entry else None,
        }


@dataclass
class CompileReport:
    results: list[TenantResult]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(r.status in ("failed", "stale") for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return {
            "ok": self.ok,
            "counts": dict(sorted(counts.items())),
            "seconds": round(self.seconds, 3),
            "tenants": [r.to_dict() for r in self.results],
        }


def _summary(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("preset", "gpu_type", "totals", "estimated_cost", "replicas", "pods")
    return {k: entry.get(k) for k in keys}

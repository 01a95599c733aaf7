"""The audit answer: who changed which tenant when (the deploy repo's history, whose commits carry
`Ecp-Principal:` and `Ecp-Request-Id:` trailers) plus refused attempts (the audit log).

Input: Settings, the refusal log, filters (tenant, since, principal) and the tenants the reader
may see (None = all). Output: the body of GET /api/v1/audit and `ecp audit`. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from compiler.access.audit_log import AuditLog
from compiler.errors import ValidationFailed
from compiler.publishing import list_deployments
from compiler.settings import Settings

MAX_CHANGES = 500


@dataclass(frozen=True)
class AuditQuery:
    tenant_id: str | None = None
    since: str | None = None  # ISO-8601
    principal: str | None = None

    def since_epoch(self) -> float | None:
        if not self.since:
            return None
        try:
            parsed = datetime.fromisoformat(self.since.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationFailed(
                f"since must be an ISO-8601 time like 2026-01-20T14:30:00Z (got {self.since!r})",
                details={"field": "query.since"},
            ) from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_trail(
    settings: Settings, log: AuditLog, query: AuditQuery, visible: frozenset[str] | None
) -> dict[str, Any]:
    since = query.since_epoch()
    changes = []
    for record in list_deployments(settings, query.tenant_id, limit=MAX_CHANGES):
        stamp = datetime.fromisoformat(record.timestamp.replace("Z", "+00:00")).timestamp()
        if since is not None and stamp < since:
            continue
        if query.principal and record.principal != query.principal:
            continue
        tenants = [
            {"tenant_id": c.tenant_id, "action": c.action}
            for c in record.tenants
            if visible is None or c.tenant_id in visible
        ]
        if not tenants:
            continue
        changes.append(
            {
                "timestamp": record.timestamp,
                "deployment_id": record.deployment_id,
                "commit": record.commit,
                "principal": record.principal,
                "request_id": record.request_id,
                "tenants": tenants,
            }
        )
    scope = None if visible is None else set(visible)
    if query.tenant_id is not None:
        scope = {query.tenant_id} & (scope if scope is not None else {query.tenant_id})
    refused = []
    for row in log.refusals(since=since, principal=query.principal, tenant_ids=scope):
        at = row.pop("at")
        row.pop("id")
        refused.append({"timestamp": _iso(at), **row})
    return {"changes": changes, "refused": refused}

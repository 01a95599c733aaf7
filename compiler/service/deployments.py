"""Tenant status and deployment-status answers: observed from deploy records, simulated in demo.

Input: a Workspace (its deployment ledger, in-flight writes, compiled manifests, and the cluster
when configured). Output: the list/detail `status` and the DeploymentStatus model. With a cluster,
real mode reads live objects (cluster_status); without one it reports only what is known
(committed to the deploy repo, awaiting sync) with progress 0: it never invents progress.
Demo mode simulates a rollout from the last write time and says so (`simulated: true`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from compiler.errors import OrchestratorError, TenantNotFound
from compiler.monitoring.deployments import LiveSource
from compiler.publishing import find_deployment
from compiler.publishing.records import DeploymentRecord
from compiler.service.cluster_status import cluster_status, list_status, live_follower
from compiler.service.object_views import ObjectView
from compiler.service.schemas import DeploymentStatus, LogEntry, ResourceState
from compiler.service.state import AppState, Workspace

# A simulated demo rollout takes this long: long enough to watch progress move in a console,
# short enough for a demo. Phases follow the reference's phase names.
SIMULATED_ROLLOUT = timedelta(seconds=60)
_SIMULATED_PHASES = (
    (0, "creating-namespace"),
    (15, "creating-config"),
    (35, "creating-services"),
    (70, "scaling-services"),
    (100, "completed"),
)
_READY_STATUS = {"Namespace": "Active", "Deployment": "Available", "StatefulSet": "Available"}


def _parse(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def simulated_progress(ws: Workspace, tenant_id: str, now: datetime | None = None) -> int:
    """Demo only: percent of the simulated rollout since the spec was last written."""
    dates = ws.dates(tenant_id)
    started = _parse(dates.updated_at if dates else None)
    if started is None:
        return 0
    elapsed = (now or datetime.now(UTC)) - started
    return max(0, min(100, int(elapsed / SIMULATED_ROLLOUT * 100)))


def tenant_status(ws: Workspace, tenant_id: str, compiled: bool, demo: bool) -> str:
    """pending | running | failed | deleting, for the list and detail answers."""
    if tenant_id in ws.deleting:
        return "deleting"
    if tenant_id in ws.in_flight:
        return "pending"
    if tenant_id in ws.failed or not compiled:
        return "failed"
    if demo:
        return "running" if simulated_progress(ws, tenant_id) >= 100 else "pending"
    if ws.cluster is not None:
        return list_status(ws, ws.cluster, tenant_id) or "pending"
    # Published (or only compiled) but no cluster is observed: the honest answer is pending.
    return "pending"


def _pending(objects: list[ObjectView], status: str = "Pending") -> list[ResourceState]:
    return [ResourceState(type=o.kind, name=o.name, status=status) for o in objects]


def _created(objects: list[ObjectView]) -> list[ResourceState]:
    out = []
    for o in objects:
        extra = {"replicas": f"{o.replicas}/{o.replicas}"} if o.replicas is not None else {}
        out.append(
            ResourceState.model_validate(
                {
                    "type": o.kind,
                    "name": o.name,
                    "status": _READY_STATUS.get(o.kind, "Active"),
                    **extra,
                }
            )
        )
    return out


def _objects(ws: Workspace, tenant_id: str) -> list[ObjectView]:
    entry = ws.read.index().get(tenant_id) or {}
    return ws.read.objects(tenant_id, str(entry.get("manifest_sha256", "")))


def simulated_status(ws: Workspace, tenant_id: str) -> DeploymentStatus:
    if ws.read.spec_file(tenant_id) is None:
        raise TenantNotFound(f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id})
    objects = _objects(ws, tenant_id)
    progress = simulated_progress(ws, tenant_id)
    done = len(objects) * progress // 100
    phase = next(name for floor, name in reversed(_SIMULATED_PHASES) if progress >= floor)
    dates = ws.dates(tenant_id)
    started = _parse(dates.updated_at if dates else None) or datetime.now(UTC)
    logs = [LogEntry(timestamp=_iso(started), level="info", message="simulated rollout started")]
    logs += [
        LogEntry(
            timestamp=_iso(started + SIMULATED_ROLLOUT * (i + 1) / max(len(objects), 1)),
            level="info",
            message=f"{o.kind} {o.name} created (simulated)",
        )
        for i, o in enumerate(objects[:done])
    ]
    record = ws.ledger.latest(tenant_id)
    return DeploymentStatus(
        tenant_id=tenant_id,
        deployment_id=record.deployment_id if record else None,
        status="deployed" if progress >= 100 else "deploying",
        progress=progress,
        phase=phase,
        created_resources=_created(objects[:done]),
        pending_resources=_pending(objects[done:], "Progressing"),
        estimated_completion=_iso(started + SIMULATED_ROLLOUT),
        logs=logs,
        simulated=True,
        source="simulation (demo mode): no cluster is involved",
    )


def observed_status(ws: Workspace, tenant_id: str) -> DeploymentStatus:
    """Real mode: from the cluster when one is configured (and the tenant's write is not in
    flight or failed), else what the deploy repo's records say, and nothing more."""
    exists = ws.read.spec_file(tenant_id) is not None
    record = ws.ledger.latest(tenant_id)
    if not exists and record is None:
        raise TenantNotFound(f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id})
    objects = _objects(ws, tenant_id) if exists else []
    settled = tenant_id not in ws.in_flight and tenant_id not in ws.failed
    if ws.cluster is not None and settled and record is not None:
        return cluster_status(ws, ws.cluster, tenant_id, record, objects)
    logs: list[LogEntry] = []
    if tenant_id in ws.in_flight:
        status, phase = "publishing", "committing"
    elif tenant_id in ws.failed:
        status, phase = "failed", "publish-failed"
        logs.append(
            LogEntry(timestamp=_iso(datetime.now(UTC)), level="error", message=ws.failed[tenant_id])
        )
    elif record is None:
        status, phase = "not-published", "compiled"
    else:
        change = record.change_for(tenant_id)
        removed = change is not None and change.action == "removed"
        status, phase = ("deleting" if removed else "awaiting-sync"), "committed"
        logs.append(
            LogEntry(
                timestamp=record.timestamp,
                level="info",
                message=f"{record.deployment_id} committed to the deploy repo: {record.subject}",
            )
        )
        logs.append(
            LogEntry(
                timestamp=record.timestamp,
                level="info",
                message="awaiting sync by the GitOps controller; no cluster "
                "connection is configured, so progress is not observed",
            )
        )
    return DeploymentStatus(
        tenant_id=tenant_id,
        deployment_id=record.deployment_id if record else None,
        status=status,
        progress=0,
        phase=phase,
        created_resources=[],
        pending_resources=_pending(objects),
        estimated_completion=None,
        logs=logs,
        simulated=False,
        source="deploy-repo records",
    )


def cluster_source(state: AppState) -> LiveSource | None:
    """The /ws/deployment stream's live source when a cluster is configured: the real
    workspace's deployments, followed by watches (compiler.cluster.follow)."""
    ws = state.real
    if ws.cluster is None:
        return None

    def locate(deployment_id: str) -> tuple[str, DeploymentRecord, list[ObjectView]] | None:
        try:
            record = find_deployment(ws.settings, deployment_id)
        except OrchestratorError:
            return None  # no deploy repo yet: nothing was published there
        if record is None or not record.tenants:
            return None
        tenant_id = record.tenants[0].tenant_id
        return tenant_id, record, _objects(ws, tenant_id)

    return live_follower(ws, locate)

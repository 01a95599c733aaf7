"""Deployment status and tenant status read from the cluster, when one is configured.

Input: a Workspace whose `cluster` is a ClusterReader, its deploy records and compiled objects.
Output: the DeploymentStatus answer from live objects (compiler.cluster.rollout), the list's
tenant status from one cluster-wide Deployment list (cached a few seconds), and the live source
that streams /ws/deployment/{id} updates from watches. All cluster I/O goes through the reader.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from compiler.cluster import (
    ClusterReader,
    Expected,
    GitOpsRef,
    LiveObjects,
    Rollout,
    follow_rollout,
    rollout_status,
)
from compiler.cluster.rollout import deployment_state
from compiler.publishing import find_deployment
from compiler.publishing.consumers import ARGOCD_NAMESPACE, FLUX_NAMESPACE, MANAGED_BY
from compiler.publishing.records import DeploymentRecord, deployment_id_for
from compiler.service.object_views import ObjectView
from compiler.service.schemas import DeploymentStatus, LogEntry, ResourceState
from compiler.service.state import Workspace
from compiler.spec.ids import namespace_for

LIST_STATUS_TTL_S = 5.0  # the tenant list may lag the cluster by this much; one list per period
_SELECTOR = ",".join(f"{k}={v}" for k, v in MANAGED_BY.items())


def gitops_refs(tenant_id: str) -> list[GitOpsRef]:
    """The Argo CD Application and Flux Kustomization our deploy repo creates for a tenant."""
    name = f"ecp-{tenant_id}"
    return [
        GitOpsRef("argoproj.io", "v1alpha1", ARGOCD_NAMESPACE, "applications", name),
        GitOpsRef("kustomize.toolkit.fluxcd.io", "v1", FLUX_NAMESPACE, "kustomizations", name),
    ]


def reached_by(ws: Workspace, record: DeploymentRecord | None) -> Callable[[str], bool]:
    """Whether a synced revision includes the record's commit: the commit itself, or a later
    publish of the deploy branch (whose history is linear)."""

    def reached(revision: str) -> bool:
        if record is None or not revision:
            return False
        if revision.startswith(record.commit) or record.commit.startswith(revision):
            return True
        later = find_deployment(ws.settings, deployment_id_for(revision))
        return later is not None and later.timestamp >= record.timestamp

    return reached


def expected_objects(objects: list[ObjectView]) -> list[Expected]:
    return [Expected(o.kind, o.name, o.replicas) for o in objects]


def read_live(
    reader: ClusterReader,
    tenant_id: str,
    deployments: list[dict[str, Any]] | None = None,
    pods: list[dict[str, Any]] | None = None,
) -> LiveObjects:
    namespace = namespace_for(tenant_id)
    return LiveObjects(
        namespace=reader.namespace(namespace),
        deployments=deployments if deployments is not None else reader.deployments(namespace)[0],
        pods=pods if pods is not None else reader.pods(namespace)[0],
        events=reader.events(namespace),
        gitops=reader.gitops(gitops_refs(tenant_id)),
    )


def _answer(tenant_id: str, record: DeploymentRecord | None, rollout: Rollout) -> DeploymentStatus:
    return DeploymentStatus(
        tenant_id=tenant_id,
        deployment_id=record.deployment_id if record else None,
        status=rollout.status,
        progress=rollout.progress,
        phase=rollout.phase,
        created_resources=[ResourceState.model_validate(r) for r in rollout.created],
        pending_resources=[ResourceState.model_validate(r) for r in rollout.pending],
        estimated_completion=rollout.estimated_completion,
        logs=[LogEntry.model_validate(log) for log in rollout.logs],
        simulated=False,
        source="cluster: Deployments, Pods, Events and the GitOps controller's sync status",
    )


def cluster_status(
    ws: Workspace,
    reader: ClusterReader,
    tenant_id: str,
    record: DeploymentRecord | None,
    objects: list[ObjectView],
) -> DeploymentStatus:
    live = read_live(reader, tenant_id)
    rollout = rollout_status(
        live, expected_objects(objects), reached_by(ws, record), datetime.now(UTC)
    )
    return _answer(tenant_id, record, rollout)


def status_epoch(ws: Workspace) -> int | None:
    """Changes every LIST_STATUS_TTL_S while a cluster is configured: list answers cached by
    data version are rebuilt at least that often, so their statuses follow the cluster."""
    return int(time.monotonic() // LIST_STATUS_TTL_S) if ws.cluster is not None else None


def list_status(ws: Workspace, reader: ClusterReader, tenant_id: str) -> str | None:
    """running | failed | pending from the cluster's Deployments of the tenant's namespace, via
    one cluster-wide list every few seconds; None when nothing of the tenant is running."""
    cached = ws.list_cache.get(("cluster-status",))
    now = time.monotonic()
    if cached is None or now - cached[0] > LIST_STATUS_TTL_S:
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for deployment in reader.labelled_deployments(_SELECTOR):
            ns = str((deployment.get("metadata") or {}).get("namespace", ""))
            by_namespace.setdefault(ns, []).append(deployment)
        cached = (now, by_namespace)
        ws.list_cache[("cluster-status",)] = cached
    deployments = cached[1].get(namespace_for(tenant_id))
    if not deployments:
        return None
    states = [deployment_state(d, []) for d in deployments]
    if any(s.failure for s in states):
        return "failed"
    return "running" if all(s.complete for s in states) else "pending"


def live_follower(
    ws: Workspace,
    locate: Callable[[str], tuple[str, DeploymentRecord, list[ObjectView]] | None],
) -> Callable[[str, Callable[[dict[str, Any]], object], threading.Event], None]:
    """DeploymentFeed's live source: follows a deployment's rollout by watches and reports an
    update {status, progress, phase, message} on every change until it is final."""

    def follow(
        deployment_id: str, report: Callable[[dict[str, Any]], object], stop: threading.Event
    ) -> None:
        found = locate(deployment_id)
        reader = ws.cluster
        if found is None or reader is None:
            return
        tenant_id, record, objects = found
        expected = expected_objects(objects)
        reached = reached_by(ws, record)

        def judge(
            deployments: list[dict[str, Any]], pods: list[dict[str, Any]]
        ) -> tuple[dict[str, Any], bool]:
            live = read_live(reader, tenant_id, deployments, pods)
            rollout = rollout_status(live, expected, reached, datetime.now(UTC))
            update = {
                "deployment_id": deployment_id,
                "status": rollout.status,
                "progress": rollout.progress,
                "phase": rollout.phase,
                "message": rollout.message,
            }
            return update, rollout.status in ("running", "failed")

        follow_rollout(reader, namespace_for(tenant_id), judge, report, stop)

    return follow

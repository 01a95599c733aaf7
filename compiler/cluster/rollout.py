"""A tenant's rollout from its live objects: the reference's deployment-status fields. Pure.

Input: LiveObjects (namespace, Deployments, Pods, Events and the GitOps object, as API dicts),
the compiled objects expected (kind, name, replicas) and whether a revision includes the
deployment's commit. Output: Rollout.
- pending: the GitOps controller has not synced the commit (Argo CD status.sync.revision, Flux
  status.lastAppliedRevision); deploying -> running once every Deployment is complete (observed
  generation, updated = available = replicas); failed with the reason: ProgressDeadlineExceeded,
  ReplicaFailure, a pod in ImagePullBackOff/CrashLoopBackOff/..., Unschedulable, a failed sync.
- progress: replicas of the new revision actually available, over those wanted.
- estimated_completion: now + remaining / the observed rate of pods turning Ready since the sync
  started; None when there is no rate to observe. Never invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

POD_FAILURES = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)
FLUX_FAILURES = frozenset(
    {"ReconciliationFailed", "HealthCheckFailed", "BuildFailed", "ArtifactFailed"}
)
MAX_LOGS = 50


@dataclass(frozen=True)
class LiveObjects:
    namespace: dict[str, Any] | None
    deployments: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    gitops: dict[str, Any] | None = None


@dataclass(frozen=True)
class Expected:
    kind: str
    name: str
    replicas: int | None = None


@dataclass(frozen=True)
class Rollout:
    status: str  # pending | deploying | running | failed
    progress: int
    phase: str
    created: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    estimated_completion: str | None
    logs: list[dict[str, str]]
    message: str


def parse_time(stamp: object) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or []}


@dataclass(frozen=True)
class _Sync:
    synced: bool | None  # None: no GitOps object found
    failure: str | None
    started: datetime | None
    log: str


Reached = Callable[[str], bool]


def revision_sha(revision: str) -> str:
    """The commit of an Argo CD revision ("<sha>") or Flux's ("main@sha1:<sha>", "main/<sha>")."""
    return revision.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def gitops_sync(obj: dict[str, Any] | None, reached: Reached) -> _Sync:
    """Whether the GitOps controller applied the deployment's commit (or a later one: both
    controllers sync the branch head, which may already be a newer publish)."""
    if obj is None:
        return _Sync(None, None, None, "no Argo CD Application or Flux Kustomization found")
    status = obj.get("status") or {}
    name = (obj.get("metadata") or {}).get("name", "")
    if obj.get("kind") == "Application":  # Argo CD
        revision = str((status.get("sync") or {}).get("revision") or "")
        operation = status.get("operationState") or {}
        synced = bool(revision) and reached(revision)
        failure = None
        if operation.get("phase") in ("Failed", "Error"):
            failure = f"Argo CD sync {operation.get('phase')}: {operation.get('message', '')}"
        health = (status.get("health") or {}).get("status", "Unknown")
        log = f"Argo CD Application {name}: revision {revision[:12] or '-'}, health {health}"
        return _Sync(synced, failure, parse_time(operation.get("startedAt")), log)
    applied = str(status.get("lastAppliedRevision") or "")
    attempted = str(status.get("lastAttemptedRevision") or "")
    ready = _conditions(obj).get("Ready") or {}
    synced = bool(applied) and reached(revision_sha(applied))
    failure = None
    failed = ready.get("status") == "False" and ready.get("reason") in FLUX_FAILURES
    if failed and (not attempted or reached(revision_sha(attempted))):
        failure = f"Flux {ready.get('reason')}: {ready.get('message', '')}"
    log = f"Flux Kustomization {name}: applied {applied or '-'}, Ready {ready.get('status', '-')}"
    return _Sync(synced, failure, parse_time(ready.get("lastTransitionTime")), log)


def _selected(deployment: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    wanted = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not wanted:
        return []
    return [
        p
        for p in pods
        if all(
            ((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in wanted.items()
        )
    ]


def _reason(subject: str, reason: str, message: object) -> str:
    return f"{subject}: {reason}: {message}" if message else f"{subject}: {reason}"


def pod_failure(pod: dict[str, Any]) -> str | None:
    name = (pod.get("metadata") or {}).get("name", "")
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in POD_FAILURES:
            restarts = container.get("restartCount", 0)
            reason = f"{waiting['reason']} ({restarts} restarts)"
            return _reason(f"pod {name}", reason, waiting.get("message"))
    scheduled = _conditions(pod).get("PodScheduled") or {}
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return _reason(f"pod {name}", "Unschedulable", scheduled.get("message"))
    return None


@dataclass(frozen=True)
class _DeploymentState:
    name: str
    desired: int
    available_new: int
    complete: bool
    failure: str | None
    pods: list[dict[str, Any]]


def deployment_state(deployment: dict[str, Any], pods: list[dict[str, Any]]) -> _DeploymentState:
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    desired = int(spec.get("replicas", 1))
    observed = int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 0))
    updated = int(status.get("updatedReplicas", 0))
    available = int(status.get("availableReplicas", 0))
    total = int(status.get("replicas", 0))
    conditions = _conditions(deployment)
    failure = None
    progressing = conditions.get("Progressing") or {}
    if (
        progressing.get("status") == "False"
        and progressing.get("reason") == "ProgressDeadlineExceeded"
    ):
        failure = _reason(
            f"deployment {meta.get('name')}", "ProgressDeadlineExceeded", progressing.get("message")
        )
    replica_failure = conditions.get("ReplicaFailure") or {}
    if failure is None and replica_failure.get("status") == "True":
        failure = _reason(
            f"deployment {meta.get('name')}",
            str(replica_failure.get("reason")),
            replica_failure.get("message"),
        )
    mine = _selected(deployment, pods)
    if failure is None:
        failure = next((f for f in map(pod_failure, mine) if f), None)
    complete = observed and updated == desired and available == desired and total == desired
    new_available = min(updated, available, desired) if observed else 0
    return _DeploymentState(
        str(meta.get("name", "")), desired, new_available, complete, failure, mine
    )


def _ready_since(pod: dict[str, Any]) -> datetime | None:
    ready = _conditions(pod).get("Ready") or {}
    return parse_time(ready.get("lastTransitionTime")) if ready.get("status") == "True" else None


def estimate(
    states: list[_DeploymentState], started: datetime | None, remaining: int, now: datetime
) -> str | None:
    """now + remaining pods / (pods turned Ready since the start / time that took)."""
    if remaining <= 0:
        return None
    pods = [p for s in states if not s.complete for p in s.pods] + [
        p for s in states if s.complete for p in s.pods
    ]
    if started is None:
        created = [parse_time((p.get("metadata") or {}).get("creationTimestamp")) for p in pods]
        started = min((c for c in created if c is not None), default=None)
    if started is None:
        return None
    readies = [r for r in map(_ready_since, pods) if r is not None and r >= started]
    if not readies:
        return None
    elapsed = (max(readies) - started).total_seconds()
    if elapsed <= 0:
        return None
    rate = len(readies) / elapsed  # pods per second, as observed
    return iso(now + timedelta(seconds=remaining / rate))


def _event_log(event: dict[str, Any]) -> tuple[datetime, dict[str, str]] | None:
    meta = event.get("metadata") or {}
    moment = (
        parse_time(event.get("lastTimestamp"))
        or parse_time(event.get("eventTime"))
        or parse_time(event.get("firstTimestamp"))
        or parse_time(meta.get("creationTimestamp"))
    )
    if moment is None:
        return None
    involved = event.get("involvedObject") or {}
    subject = f"{involved.get('kind', '')} {involved.get('name', '')}"
    text = _reason(subject, str(event.get("reason", "")), event.get("message"))
    level = "warning" if event.get("type") == "Warning" else "info"
    return moment, {"timestamp": iso(moment), "level": level, "message": text.strip()[:500]}


def rollout_status(
    live: LiveObjects, expected: list[Expected], reached: Reached, now: datetime
) -> Rollout:
    """`reached(sha)`: whether commit `sha` is the deployment's commit or a later one."""
    sync = gitops_sync(live.gitops, reached)
    by_name = {(d.get("metadata") or {}).get("name"): d for d in live.deployments}
    states: list[_DeploymentState] = []
    created: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    wanted = 0
    missing = False
    applied = sync.synced is True or (sync.synced is None and live.namespace is not None)
    for item in expected:
        if item.kind == "Namespace":
            phase = ((live.namespace or {}).get("status") or {}).get("phase")
            target = created if live.namespace is not None else pending
            target.append({"type": "Namespace", "name": item.name, "status": phase or "Pending"})
        elif item.kind == "Deployment":
            deployment = by_name.get(item.name)
            if deployment is None:
                missing = True
                wanted += item.replicas or 1
                pending.append({"type": "Deployment", "name": item.name, "status": "Pending"})
                continue
            state = deployment_state(deployment, live.pods)
            states.append(state)
            wanted += state.desired
            entry = {
                "type": "Deployment",
                "name": item.name,
                "status": "Available"
                if state.complete
                else "Failed"
                if state.failure
                else "Progressing",
                "replicas": f"{state.available_new}/{state.desired}",
            }
            (created if state.complete else pending).append(entry)
        else:
            # Not watched one by one: the GitOps controller's sync says whether they were applied.
            target = created if applied else pending
            target.append(
                {"type": item.kind, "name": item.name, "status": "Active" if applied else "Pending"}
            )
    logs = [
        log
        for _, log in sorted(
            (pair for pair in map(_event_log, live.events) if pair is not None),
            key=lambda pair: pair[0],
        )
    ][-MAX_LOGS:]
    logs.insert(0, {"timestamp": iso(sync.started or now), "level": "info", "message": sync.log})
    failure = sync.failure or next((s.failure for s in states if s.failure), None)
    ready = sum(s.available_new for s in states)
    all_complete = not missing and all(s.complete for s in states)
    if failure is not None:
        status, phase, message = "failed", "failed", failure
    elif sync.synced is False or (sync.synced is None and live.namespace is None and not states):
        status, phase, message = "pending", "awaiting-sync", "the commit is not synced yet"
    elif live.namespace is None:
        status, phase, message = "deploying", "creating-namespace", "namespace not created yet"
    elif missing:
        status, phase, message = "deploying", "creating-services", "deployments being created"
    elif not all_complete:
        status, phase, message = (
            "deploying",
            "scaling-services",
            f"{ready}/{wanted} replicas available",
        )
    else:
        status, phase, message = "running", "completed", f"{ready}/{wanted} replicas available"
    progress = (
        100
        if status == "running"
        else 0
        if status == "pending"
        else (min(99, 100 * ready // wanted) if wanted else 0)
    )
    eta = estimate(states, sync.started, wanted - ready, now) if status == "deploying" else None
    if failure is not None:
        logs.append({"timestamp": iso(now), "level": "error", "message": failure[:500]})
    return Rollout(status, progress, phase, created, pending, eta, logs, message[:500])

"""Rollout and capacity rules over Kubernetes objects in their documented shapes (fixtures)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kube_standin import fixture

from compiler.cluster import Expected, LiveObjects, cluster_capacity, rollout_status

NS = "ecp-ai-shop"
COMMIT = "53e28ff20cc530b9ada2173fbbd64d48338583ba"  # the fixtures' synced revision
NOW = datetime(2024, 1, 20, 14, 31, tzinfo=UTC)
EXPECTED = [
    Expected("Namespace", NS),
    Expected("ConfigMap", "ecp-tenant-config"),
    Expected("Deployment", "chatbot", 3),
    Expected("Service", "chatbot-service"),
]


def reached(revision: str) -> bool:
    return revision == COMMIT


def deployment(name: str = "deployment-available") -> dict[str, Any]:
    return fixture(name, namespace=NS, name="chatbot")


def pod(name: str = "pod-running", **metadata: Any) -> dict[str, Any]:
    return fixture(name, namespace=NS, **metadata)


def live(
    deployments: list[dict[str, Any]],
    pods: list[dict[str, Any]] | None = None,
    gitops: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    namespace: bool = True,
) -> LiveObjects:
    return LiveObjects(
        namespace=fixture("namespace", name=NS) if namespace else None,
        deployments=deployments,
        pods=pods or [],
        events=events or [],
        gitops=gitops if gitops is not None else fixture("argocd-application", name="ecp-shop"),
    )


def test_a_synced_complete_rollout_is_running_with_every_resource_created() -> None:
    rollout = rollout_status(live([deployment()], [pod()]), EXPECTED, reached, NOW)
    assert (rollout.status, rollout.progress, rollout.phase) == ("running", 100, "completed")
    assert {"type": "Deployment", "name": "chatbot", "status": "Available", "replicas": "3/3"} in (
        rollout.created
    )
    assert {"type": "Namespace", "name": NS, "status": "Active"} in rollout.created
    assert rollout.pending == []
    assert rollout.estimated_completion is None


def test_a_commit_the_controller_has_not_synced_is_pending() -> None:
    app = fixture("argocd-application", name="ecp-shop")
    app["status"]["sync"]["revision"] = "0" * 40
    rollout = rollout_status(live([deployment()], gitops=app), EXPECTED, reached, NOW)
    assert (rollout.status, rollout.progress, rollout.phase) == ("pending", 0, "awaiting-sync")
    assert {"type": "Service", "name": "chatbot-service", "status": "Pending"} in rollout.pending


def test_progress_counts_new_replicas_actually_available_and_the_eta_follows_their_rate() -> None:
    # One of three new replicas available: the fixture's pod turned Ready 20 s after the sync
    # started (Argo CD operationState.startedAt 14:30:00, Ready at 14:30:20): 2 more need 40 s.
    progressing = deployment("deployment-progressing")
    rollout = rollout_status(live([progressing], [pod()]), EXPECTED, reached, NOW)
    assert (rollout.status, rollout.phase, rollout.progress) == (
        "deploying",
        "scaling-services",
        33,
    )
    assert {
        "type": "Deployment",
        "name": "chatbot",
        "status": "Progressing",
        "replicas": "1/3",
    } in (rollout.pending)
    assert rollout.estimated_completion == "2024-01-20T14:31:40Z"


def test_no_pod_ready_since_the_sync_means_no_estimate() -> None:
    progressing = deployment("deployment-progressing")
    early = pod()
    early["status"]["conditions"][-1]["lastTransitionTime"] = "2024-01-20T14:29:00Z"
    rollout = rollout_status(live([progressing], [early]), EXPECTED, reached, NOW)
    assert rollout.status == "deploying"
    assert rollout.estimated_completion is None


def test_an_unobserved_generation_counts_no_replica_as_new() -> None:
    progressing = deployment("deployment-progressing")
    progressing["metadata"]["generation"] = 3  # the controller has not seen the new spec yet
    rollout = rollout_status(live([progressing]), EXPECTED, reached, NOW)
    assert rollout.progress == 0 and rollout.status == "deploying"


@pytest.mark.parametrize(
    ("deployment_fixture", "pod_fixture", "reason"),
    [
        ("deployment-progress-deadline-exceeded", None, "ProgressDeadlineExceeded"),
        ("deployment-progressing", "pod-image-pull-backoff", "ImagePullBackOff"),
        ("deployment-progressing", "pod-crash-loop-back-off", "CrashLoopBackOff (6 restarts)"),
        ("deployment-progressing", "pod-unschedulable", "Unschedulable: 0/3 nodes are available"),
    ],
    ids=["deadline", "image-pull", "crash-loop", "unschedulable"],
)
def test_a_stuck_rollout_fails_with_the_reason(
    deployment_fixture: str, pod_fixture: str | None, reason: str
) -> None:
    pods = [pod(pod_fixture)] if pod_fixture else []
    rollout = rollout_status(live([deployment(deployment_fixture)], pods), EXPECTED, reached, NOW)
    assert (rollout.status, rollout.phase) == ("failed", "failed")
    assert reason in rollout.message
    assert rollout.logs[-1]["level"] == "error" and reason in rollout.logs[-1]["message"]
    assert rollout.estimated_completion is None


def test_a_pod_of_another_deployment_does_not_fail_this_one() -> None:
    stranger = pod("pod-crash-loop-back-off", labels={"app": "other"})
    rollout = rollout_status(live([deployment()], [stranger]), EXPECTED, reached, NOW)
    assert rollout.status == "running"


def test_missing_objects_name_the_phase() -> None:
    no_deployment = rollout_status(live([]), EXPECTED, reached, NOW)
    assert (no_deployment.status, no_deployment.phase) == ("deploying", "creating-services")
    assert {"type": "Deployment", "name": "chatbot", "status": "Pending"} in no_deployment.pending
    no_namespace = rollout_status(live([], namespace=False), EXPECTED, reached, NOW)
    assert no_namespace.phase == "creating-namespace"


def test_flux_revisions_and_failures_are_read_from_the_kustomization() -> None:
    flux = fixture("flux-kustomization", name="ecp-shop")
    running = rollout_status(live([deployment()], gitops=flux), EXPECTED, reached, NOW)
    assert running.status == "running"
    failed = copy.deepcopy(flux)
    failed["status"]["conditions"][0].update(
        status="False", reason="HealthCheckFailed", message="timeout waiting for: [Deployment/x]"
    )
    rollout = rollout_status(live([deployment()], gitops=failed), EXPECTED, reached, NOW)
    assert rollout.status == "failed" and "HealthCheckFailed" in rollout.message
    behind = copy.deepcopy(flux)
    behind["status"]["lastAppliedRevision"] = "main@sha1:" + "1" * 40
    assert rollout_status(live([deployment()], gitops=behind), EXPECTED, reached, NOW).status == (
        "pending"
    )


def test_events_become_logs_in_time_order_with_their_level() -> None:
    events = [fixture("event-failed-scheduling", namespace=NS), fixture("event", namespace=NS)]
    rollout = rollout_status(live([deployment()], events=events), EXPECTED, reached, NOW)
    logs = rollout.logs[1:]  # the first line is the GitOps controller's
    assert [log["level"] for log in logs] == ["info", "warning"]
    assert logs[0]["message"].startswith(
        "Deployment nginx-deployment: ScalingReplicaSet: Scaled up"
    )
    assert logs[1]["timestamp"] == "2024-01-20T14:35:01Z"  # eventTime, as lastTimestamp is null
    assert rollout.logs[0]["message"].startswith(
        "Argo CD Application ecp-shop: revision 53e28ff20cc5"
    )


def node(name: str, gpu_type: str | None = None, **status: str) -> dict[str, Any]:
    labels = {"ecp.ai/gpu-type": gpu_type} if gpu_type else {}
    obj = fixture("node", name=name)
    obj["metadata"]["labels"].update(labels)
    for condition in obj["status"]["conditions"]:
        condition["status"] = status.get(condition["type"], condition["status"])
    return obj


def test_capacity_sums_allocatable_by_gpu_type_and_quota_use() -> None:
    cordoned = node("node-3", "l4")
    cordoned["spec"]["unschedulable"] = True
    quotas = [
        fixture("resourcequota", namespace=NS),
        fixture("resourcequota", namespace="ecp-ai-b"),
    ]
    found = cluster_capacity([node("node-1", "l4"), node("node-2", "t4"), cordoned], quotas)
    assert found["total"] == {
        "cpu_millicores": 2 * 47810,
        "memory_bytes": 2 * 193002432 * 1024,
        "gpu": 8,
        "gpu_by_type": {"l4": 4, "t4": 4},
    }
    assert found["used"] == {"cpu_millicores": 1500, "memory_bytes": 2 * 768 * 1024**2, "gpu": 4}
    assert found["status"] == "healthy"


@pytest.mark.parametrize(
    ("conditions", "status"),
    [({"Ready": "False"}, "degraded"), ({"MemoryPressure": "True"}, "warning"), ({}, "healthy")],
    ids=["not-ready", "pressure", "fine"],
)
def test_node_conditions_set_the_cluster_status(conditions: dict[str, str], status: str) -> None:
    assert cluster_capacity([node("a"), node("b", **conditions)], [])["status"] == status


def test_a_late_sync_start_shifts_the_estimate() -> None:
    progressing = deployment("deployment-progressing")
    app = fixture("argocd-application", name="ecp-shop")
    app["status"]["operationState"]["startedAt"] = "2024-01-20T14:30:10Z"  # 10 s for one pod
    rollout = rollout_status(live([progressing], [pod()], gitops=app), EXPECTED, reached, NOW)
    assert rollout.estimated_completion == (NOW + timedelta(seconds=20)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )

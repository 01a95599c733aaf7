"""Update-time rules: which changes to an existing object the API server refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compiler.validating.apiserver.updates import immutable_changes, update_errors


def obj(kind: str, spec: dict[str, Any], api: str = "v1") -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "ns"},
            "spec": spec}  # fmt: skip


DEPLOYMENT = obj(
    "Deployment",
    {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "a"}},
        "template": {"metadata": {"labels": {"app": "a"}}},
    },
    "apps/v1",
)
STATEFULSET = obj(
    "StatefulSet",
    {"replicas": 1, "serviceName": "redis", "selector": {"matchLabels": {"app": "r"}}},
    "apps/v1",
)
SERVICE = obj("Service", {"clusterIP": "10.0.0.5", "ports": [{"port": 80}]})
PVC = obj("PersistentVolumeClaim", {"storageClassName": "fast", "accessModes": ["ReadWriteOnce"],
                                    "resources": {"requests": {"storage": "1Gi"}}})  # fmt: skip


def changed(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    new = copy.deepcopy(base)
    node = new
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return new


@pytest.mark.parametrize(
    ("old", "path", "value", "expected"),
    [
        (DEPLOYMENT, ("spec", "selector"), {"matchLabels": {"app": "b"}},
         'spec.selector: Invalid value: {"matchLabels":{"app":"b"}}: field is immutable'),
        (STATEFULSET, ("spec", "serviceName"), "cache",
         "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
         "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
         "'minReadySeconds' are forbidden"),
        (SERVICE, ("spec", "clusterIP"), "10.0.0.6",
         'spec.clusterIP: Invalid value: "10.0.0.6": field is immutable'),
        (PVC, ("spec", "storageClassName"), "slow",
         "spec: Forbidden: spec is immutable after creation except resources.requests and "
         "volumeAttributesClassName for bound claims"),
    ],
    ids=["deployment-selector", "statefulset-service-name", "service-cluster-ip",
         "pvc-storage-class"],
)  # fmt: skip
def test_an_immutable_field_change_is_refused(
    old: dict[str, Any], path: tuple[str, ...], value: Any, expected: str
) -> None:
    assert [str(e) for e in update_errors(old, changed(old, path, value))] == [expected]


@pytest.mark.parametrize(
    ("old", "path", "value"),
    [
        (DEPLOYMENT, ("spec", "replicas"), 5),
        (STATEFULSET, ("spec", "replicas"), 3),
        (PVC, ("spec", "resources"), {"requests": {"storage": "2Gi"}}),
        (obj("Service", {"ports": [{"port": 80}]}), ("spec", "clusterIP"), "10.0.0.9"),
    ],
    ids=["deployment-replicas", "statefulset-replicas", "pvc-grows", "service-ip-first-set"],
)
def test_changes_the_api_server_allows_are_not_flagged(
    old: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    assert update_errors(old, changed(old, path, value)) == []


def test_objects_are_paired_by_kind_namespace_and_name() -> None:
    renamed = changed(DEPLOYMENT, ("metadata", "name"), "y")
    moved = changed(renamed, ("spec", "selector"), {"matchLabels": {"app": "b"}})
    assert list(immutable_changes([DEPLOYMENT], [moved])) == []  # a new object, not an update
    new = changed(DEPLOYMENT, ("spec", "selector"), {"matchLabels": {"app": "b"}})
    assert [subject for subject, _ in immutable_changes([DEPLOYMENT], [new])] == ["Deployment/x"]

"""Policy rules that look at a whole object, or at the whole set of objects.

Object checks yield (path, message) for one document; they may consult the PolicyIndex for facts
about other documents (the workloads a Service or PDB selects, HPAs, Namespace SLAs). The GPU check
looks at the set once. No I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from compiler.errors import ValidationFailed
from compiler.quantity import parse_quantity
from compiler.validating.policy_index import PolicyIndex, Workload
from compiler.validating.workloads import (
    GPU_RESOURCE,
    REPLICATED_KINDS,
    PathParts,
    container_request,
    containers,
    dig,
    kind_of,
    namespace_of,
    pod_spec,
    selector_matches,
)

Hit = tuple[PathParts, str]
SetHit = tuple[int, PathParts, str]

# Kinds that live outside namespaces; every other kind (CRDs included) is namespaced.
CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "PriorityClass", "IngressClass", "RuntimeClass", "APIService",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "CSIDriver", "CSINode",
    "VolumeAttachment", "CertificateSigningRequest", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "FlowSchema", "PriorityLevelConfiguration",
    "ComponentStatus", "PodSecurityPolicy", "ClusterIssuer",
})  # fmt: skip


def use_namespace(obj: Mapping[str, Any], _index: PolicyIndex) -> Iterator[Hit]:
    if kind_of(obj) in CLUSTER_SCOPED_KINDS:
        return
    namespace = namespace_of(obj)
    if namespace is None:
        yield (
            ("metadata",),
            "namespaced object has no metadata.namespace (lands in the current one)",
        )
    elif namespace == "default":
        yield ("metadata", "namespace"), "object is in the 'default' namespace"


def no_anti_affinity(obj: Mapping[str, Any], index: PolicyIndex) -> Iterator[Hit]:
    if kind_of(obj) not in REPLICATED_KINDS or index.effective_replicas(obj) < 2:
        return
    found = pod_spec(obj)
    if found is None:
        return
    path, spec = found
    if dig(spec, "affinity", "podAntiAffinity") or spec.get("topologySpreadConstraints"):
        return
    replicas = index.effective_replicas(obj)
    yield (
        path,
        (
            f"{replicas} replicas without podAntiAffinity or topologySpreadConstraints "
            "may all land on one node"
        ),
    )


def minimum_replicas_for_sla(obj: Mapping[str, Any], index: PolicyIndex) -> Iterator[Hit]:
    if kind_of(obj) not in REPLICATED_KINDS:
        return
    sla = index.sla_for(obj)
    if sla is None or sla < index.context.sla_needing_replicas:
        return
    if index.effective_replicas(obj) < 2:
        yield (
            ("spec", "replicas"),
            (f"a single replica cannot meet the {sla:g}% availability SLA; run at least 2"),
        )


def dangling_service(obj: Mapping[str, Any], index: PolicyIndex) -> Iterator[Hit]:
    if kind_of(obj) != "Service" or dig(obj, "spec", "type") == "ExternalName":
        return
    selector = dig(obj, "spec", "selector")
    if not isinstance(selector, Mapping) or not selector:
        return  # a Service without selector has its endpoints managed elsewhere
    workloads = index.workloads.get(namespace_of(obj), [])
    if not any(selector_matches({"matchLabels": selector}, w.labels) for w in workloads):
        yield ("spec", "selector"), "selector matches no workload in this manifest set"


def pdb_min_available(obj: Mapping[str, Any], index: PolicyIndex) -> Iterator[Hit]:
    if kind_of(obj) != "PodDisruptionBudget":
        return
    minimum = dig(obj, "spec", "minAvailable")
    if minimum is None:
        return
    selector = dig(obj, "spec", "selector")
    for workload in index.workloads.get(namespace_of(obj), []):
        if not selector_matches(selector, workload.labels):
            continue
        replicas = index.effective_replicas(workload.obj)
        required = _pods_required(minimum, replicas)
        if required is not None and required >= replicas:
            yield (
                ("spec", "minAvailable"),
                (
                    f"minAvailable {minimum} keeps all {replicas} replica(s) of "
                    f"{_describe(workload)} up, so no pod can ever be evicted (drains block)"
                ),
            )


def _pods_required(minimum: Any, replicas: int) -> int | None:
    if type(minimum) is int:
        return minimum
    if isinstance(minimum, str) and minimum.endswith("%"):
        try:
            return math.ceil(float(minimum[:-1]) * replicas / 100)
        except ValueError:
            return None
    return None


def _describe(workload: Workload) -> str:
    return f"{kind_of(workload.obj)}/{dig(workload.obj, 'metadata', 'name')}"


def gpu_capacity(index: PolicyIndex) -> Iterator[SetHit]:
    """GPUs requested by the whole set against the cluster's; one warning for the set."""
    total = 0
    first: tuple[int, PathParts] | None = None
    for workloads in index.workloads.values():
        for workload in workloads:
            for path, container in containers(workload.obj):
                gpus = _gpus(container_request(container, GPU_RESOURCE))
                if gpus <= 0:
                    continue
                total += gpus * workload.replicas
                if first is None or workload.doc_index < first[0]:
                    first = (workload.doc_index, (*path, "resources"))
    capacity = index.context.cluster_gpu
    if first is not None and total > capacity * index.context.gpu_warning_ratio:
        yield (
            first[0],
            first[1],
            (
                f"GPU 리소스가 클러스터 용량의 {index.context.gpu_warning_ratio:.0%}를 초과합니다 "
                f"(요청 {total} / 용량 {capacity} GPU)"
            ),
        )


def _gpus(value: Any) -> int:
    if value is None:
        return 0
    try:
        return math.ceil(parse_quantity(value))
    except ValidationFailed:
        return 0

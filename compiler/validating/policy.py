"""Policy rules: named, small checks in the style of kube-linter, reported as warnings.

RULES lists every rule with its id and what it flags; run_policy applies them to an object set and
returns warnings with full JSON paths. A rule never raises on a malformed object (the schema check
reports those); it simply does not apply. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.validating import container_rules as c
from compiler.validating import object_rules as o
from compiler.validating import reference_rules as r
from compiler.validating.findings import Finding, json_path
from compiler.validating.policy_index import PolicyContext, PolicyIndex
from compiler.validating.workloads import PathParts, containers, kind_of, name_of, pod_spec


@dataclass(frozen=True, slots=True)
class ContainerRule:
    id: str
    description: str
    check: Callable[[Mapping[str, Any], Mapping[str, Any], PolicyContext], Iterator[c.Hit]]


@dataclass(frozen=True, slots=True)
class ObjectRule:
    id: str
    description: str
    check: Callable[[Mapping[str, Any], PolicyIndex], Iterator[o.Hit]]


@dataclass(frozen=True, slots=True)
class SetRule:
    id: str
    description: str
    check: Callable[[PolicyIndex], Iterator[o.SetHit]]


Rule = ContainerRule | ObjectRule | SetRule

SET_RULES = (
    SetRule("gpu-capacity", "GPU requests above 80% of the cluster's GPUs", o.gpu_capacity),
    SetRule("dangling-reference", "a service URL, Ingress backend, ServiceMonitor selector or "
            "ConfigMap/Secret reference that no object in the set resolves",
            r.dangling_reference),
)  # fmt: skip
CONTAINER_RULES = (
    ContainerRule("liveness-probe-short", "liveness probe sooner or more often than recommended "
                  "(initialDelaySeconds >= 30, periodSeconds >= 10)", c.liveness_probe_short),
    ContainerRule("unset-cpu-requirements", "container without CPU requests and limits",
                  c.unset_cpu_requirements),
    ContainerRule("unset-memory-requirements", "container without memory requests and limits",
                  c.unset_memory_requirements),
    ContainerRule("latest-tag", "image with the :latest tag or no tag", c.latest_tag),
    ContainerRule("liveness-port", "liveness probe on a port the container does not expose",
                  c.liveness_port),
    ContainerRule("readiness-port", "readiness probe on a port the container does not expose",
                  c.readiness_port),
    ContainerRule("run-as-non-root", "container not forced to run as a non-root user",
                  c.run_as_non_root),
    ContainerRule("privilege-escalation-container", "container allowed to escalate privileges",
                  c.privilege_escalation_container),
    ContainerRule("env-var-secret", "secret-looking environment variable with a literal value",
                  c.env_var_secret),
)  # fmt: skip
OBJECT_RULES = (
    ObjectRule("minimum-replicas-for-sla", "one replica under an availability SLA of 99.9% or "
               "more (annotation ecp.ai/sla-availability)", o.minimum_replicas_for_sla),
    ObjectRule("no-anti-affinity", "2+ replicas without pod anti-affinity or topology spread",
               o.no_anti_affinity),
    ObjectRule("dangling-service", "Service whose selector matches no workload in the set",
               o.dangling_service),
    ObjectRule("pdb-min-available", "PodDisruptionBudget minAvailable that blocks every eviction",
               o.pdb_min_available),
    ObjectRule("use-namespace", "namespaced object without a namespace or in 'default'",
               o.use_namespace),
)  # fmt: skip
RULES: tuple[Rule, ...] = (*SET_RULES, *CONTAINER_RULES, *OBJECT_RULES)


def run_policy(objects: Sequence[Any], context: PolicyContext) -> list[Finding]:
    """Warnings for every rule that flags something; objects that are not mappings are skipped."""
    index = PolicyIndex.build(objects, context)
    findings: list[Finding] = []
    for doc_index, obj in enumerate(objects):
        if not isinstance(obj, Mapping) or kind_of(obj) is None:
            continue  # the schema check reports documents that are not objects
        if not isinstance(obj.get("apiVersion"), str) or not obj["apiVersion"]:
            continue
        for object_rule in OBJECT_RULES:
            for path, message in object_rule.check(obj, index):
                findings.append(_warning(object_rule.id, message, doc_index, obj, path))
        found = pod_spec(obj)
        if found is None:
            continue
        for container_path, container in containers(obj):
            for container_rule in CONTAINER_RULES:
                for path, message in container_rule.check(container, found[1], context):
                    full_path = (*container_path, *path)
                    findings.append(_warning(container_rule.id, message, doc_index, obj, full_path))
    for set_rule in SET_RULES:
        for doc_index, path, message in set_rule.check(index):
            findings.append(_warning(set_rule.id, message, doc_index, objects[doc_index], path))
    return findings


def _warning(
    rule_id: str, message: str, doc_index: int, obj: Mapping[str, Any], path: PathParts
) -> Finding:
    return Finding(
        "warning", rule_id, message, doc_index, kind_of(obj), name_of(obj), json_path(path)
    )

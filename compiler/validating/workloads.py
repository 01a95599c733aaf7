"""Reading Kubernetes workload objects: pod specs, containers, replicas, labels and selectors.

Shared by the policy rules and the resource summary. Objects are untrusted dicts that may have
failed the schema, so every accessor tolerates missing or mistyped fields. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

GPU_RESOURCE = "nvidia.com/gpu"
PathParts = tuple[str | int, ...]

# Where each workload kind keeps its pod spec.
_POD_SPEC_PATHS: dict[str, PathParts] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})


def dig(obj: Any, *keys: str | int) -> Any:
    """obj[k1][k2]... or None as soon as a step is missing or of the wrong type."""
    for key in keys:
        if isinstance(obj, dict) and key.__class__ is str:  # nearly always: one check a step
            obj = obj.get(key)
        elif isinstance(key, int):
            if not isinstance(obj, list) or key >= len(obj):
                return None
            obj = obj[key]
        elif obj is None or not isinstance(obj, Mapping):
            return None
        else:
            obj = obj.get(key)
    return obj


def kind_of(obj: Mapping[str, Any]) -> str | None:
    kind = obj.get("kind")
    return kind if isinstance(kind, str) else None


def name_of(obj: Mapping[str, Any]) -> str | None:
    return _metadata_str(obj, "name")


def namespace_of(obj: Mapping[str, Any]) -> str | None:
    return _metadata_str(obj, "namespace")


def _metadata_str(obj: Mapping[str, Any], key: str) -> str | None:
    """dig(obj, "metadata", key) when it is a string: the rules ask this of every object."""
    metadata = obj.get("metadata") if isinstance(obj, dict) else dig(obj, "metadata")
    value = metadata.get(key) if isinstance(metadata, dict) else dig(metadata, key)
    return value if isinstance(value, str) else None


def pod_spec(obj: Mapping[str, Any]) -> tuple[PathParts, Mapping[str, Any]] | None:
    path = _POD_SPEC_PATHS.get(kind_of(obj) or "")
    if path is None:
        return None
    spec = dig(obj, *path)
    return (path, spec) if isinstance(spec, Mapping) else None


def containers(
    obj: Mapping[str, Any], *, include_init: bool = False
) -> Iterator[tuple[PathParts, Mapping[str, Any]]]:
    """(path, container) for each container of a workload's pod spec."""
    found = pod_spec(obj)
    if found is None:
        return
    path, spec = found
    fields = ("initContainers", "containers") if include_init else ("containers",)
    for field in fields:
        items = spec.get(field)
        if not isinstance(items, list):
            continue
        for index, container in enumerate(items):
            if isinstance(container, Mapping):
                yield (*path, field, index), container


def replicas_of(obj: Mapping[str, Any]) -> int:
    """Replicas the object asks for: spec.replicas (default 1) or 1 for other pod owners."""
    if kind_of(obj) not in REPLICATED_KINDS:
        return 1
    replicas = dig(obj, "spec", "replicas")
    if replicas is None:
        return 1
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        return 0  # a schema error; it asks for nothing we can count
    return max(replicas, 0)


def template_labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """Labels the object's pods carry (a bare Pod's own labels)."""
    if kind_of(obj) == "Pod":
        labels = dig(obj, "metadata", "labels")
    else:
        found = pod_spec(obj)
        labels = None if found is None else dig(obj, *found[0][:-1], "metadata", "labels")
    return labels if isinstance(labels, Mapping) else {}


def container_request(container: Mapping[str, Any], resource: str) -> Any:
    """The raw request for a resource, or the limit when only a limit is set (the API default)."""
    for section in ("requests", "limits"):
        values = dig(container, "resources", section)
        if isinstance(values, Mapping) and resource in values:
            return values[resource]
    return None


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against a label set; empty matches all."""
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        return False
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return False
    return all(_expression_matches(expr, labels) for expr in expressions)


def _expression_matches(expression: Any, labels: Mapping[str, Any]) -> bool:
    if not isinstance(expression, Mapping):
        return False
    key, operator = expression.get("key"), expression.get("operator")
    values = expression.get("values") or []
    if not isinstance(key, str):
        return False
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False

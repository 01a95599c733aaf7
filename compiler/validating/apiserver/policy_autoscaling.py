"""PodDisruptionBudget (pkg/apis/policy/validation) and HorizontalPodAutoscaler
(pkg/apis/autoscaling/validation) specs: minAvailable xor maxUnavailable, percentages up to 100%,
minReplicas >= 1, maxReplicas >= minReplicas, a scale target, metric targets. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from compiler.validating.apiserver import meta, quantities
from compiler.validating.apiserver.apps import int_or_percent, not_over_100
from compiler.validating.apiserver.fielderrors import (
    FieldError,
    child,
    invalid,
    not_supported,
    required,
)

_EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")
_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
_TARGET_TYPES = ("AverageValue", "Utilization", "Value")


def pod_disruption_budget(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    spec = obj.get("spec") or {}
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        yield invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")
    for field in ("minAvailable", "maxUnavailable"):
        value = spec.get(field)
        if value is not None:
            yield from int_or_percent(value, f"spec.{field}")
            yield from not_over_100(value, f"spec.{field}")
    yield from meta.label_selector(spec.get("selector"), "spec.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in _EVICTION_POLICIES:
        yield not_supported("spec.unhealthyPodEvictionPolicy", policy, _EVICTION_POLICIES)


def horizontal_pod_autoscaler(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    spec = obj.get("spec") or {}
    minimum = spec.get("minReplicas")
    maximum = spec.get("maxReplicas") or 0
    if isinstance(minimum, int) and minimum < 1:
        yield invalid("spec.minReplicas", minimum, "must be greater than or equal to 1")
    if maximum < 1:
        yield invalid("spec.maxReplicas", maximum, "must be greater than 0")
    if isinstance(minimum, int) and maximum < minimum:
        yield invalid("spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`")
    target = spec.get("scaleTargetRef") or {}
    if not target.get("kind"):
        yield required("spec.scaleTargetRef.kind")
    name = target.get("name") or ""
    if not name:
        yield required("spec.scaleTargetRef.name")
    elif name in (".", "..") or "/" in name or "%" in name:
        yield invalid("spec.scaleTargetRef.name", name,
                      f"may not be '{name}'" if name in (".", "..") else
                      f"may not contain '{'/' if '/' in name else '%'}'")  # fmt: skip
    utilization = spec.get("targetCPUUtilizationPercentage")  # autoscaling/v1
    if isinstance(utilization, int) and utilization < 1:
        yield invalid("spec.targetCPUUtilizationPercentage", utilization, "must be greater than 0")
    for index, metric in enumerate(spec.get("metrics") or ()):
        yield from _metric(metric, f"spec.metrics[{index}]")


def _metric(metric: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    kind = metric.get("type") or ""
    if not kind:
        yield required(child(path, "type"), "must specify a metric source type")
        return
    if kind not in _METRIC_TYPES:
        yield invalid(child(path, "type"), kind, "must be either Object, Pods, Resource, "
                      "ContainerResource, or External")  # fmt: skip
        return
    field = kind[0].lower() + kind[1:]
    source = metric.get(field)
    if source is None:
        yield required(child(path, field), "must populate information for the given metric source")
        return
    source_path = child(path, field)
    if kind in ("Resource", "ContainerResource") and not source.get("name"):
        yield required(child(source_path, "name"), "must specify a resource name")
    target = source.get("target")
    if target is None:
        return
    yield from _target(target, child(source_path, "target"))
    if kind in ("Resource", "ContainerResource") and target.get("averageUtilization") is None \
            and target.get("averageValue") is None:  # fmt: skip
        yield required(child(source_path, "target.averageUtilization"),
                       "must set either a target raw value or a target utilization")  # fmt: skip


def _target(target: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    kind = target.get("type") or ""
    if not kind:
        yield required(child(path, "type"), "must specify a metric target type")
    elif kind not in _TARGET_TYPES:
        yield invalid(
            child(path, "type"), kind, "must be either Utilization, Value, or AverageValue"
        )
    for field in ("value", "averageValue"):
        amount = quantities.value(target.get(field))
        if target.get(field) is not None and amount is not None and amount <= 0:
            yield invalid(
                child(path, field), quantities.canonical(target[field]), "must be positive"
            )
    utilization = target.get("averageUtilization")
    if isinstance(utilization, int) and utilization < 1:
        yield invalid(child(path, "averageUtilization"), utilization, "must be greater than 0")

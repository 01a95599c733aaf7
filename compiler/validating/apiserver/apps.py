"""Deployment, StatefulSet, DaemonSet and ReplicaSet specs, as pkg/apis/apps/validation checks
them: selector required and non-empty, selector matching the template labels, restartPolicy
Always, rolling-update bounds. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from compiler.validating.apiserver import meta, names, pods
from compiler.validating.apiserver.fielderrors import (
    FieldError,
    child,
    forbidden,
    invalid,
    not_supported,
    required,
)

_MISMATCH = "`selector` does not match template `labels`"


def nonnegative(spec: Mapping[str, Any], field: str, path: str) -> Iterator[FieldError]:
    number = spec.get(field)
    if isinstance(number, int) and not isinstance(number, bool) and number < 0:
        yield invalid(child(path, field), number, pods.NONNEGATIVE)


def _selector(spec: Mapping[str, Any], kind: str, path: str) -> Iterator[FieldError]:
    selector = spec.get("selector")
    if selector is None:
        yield required(child(path, "selector"))
        return
    yield from meta.label_selector(selector, child(path, "selector"))
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        yield invalid(child(path, "selector"), selector, f"empty selector is invalid for {kind}")


def _template_matches(spec: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    selector = spec.get("selector")
    if selector is None or not meta.selector_is_well_formed(selector):
        return
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return  # an empty selector matches everything (and is reported on its own)
    pod_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not meta.selector_matches(selector, pod_labels):
        yield invalid(child(path, "template.metadata.labels"), pod_labels, _MISMATCH)


def _always_restart(spec: Mapping[str, Any], kind: str, path: str) -> Iterator[FieldError]:
    pod = (spec.get("template") or {}).get("spec") or {}
    policy = pods.restart_policy(pod)
    if policy != "Always":
        yield not_supported(child(path, "template.spec.restartPolicy"), policy, ("Always",))
    if pod.get("activeDeadlineSeconds") is not None:
        yield forbidden(child(path, "template.spec.activeDeadlineSeconds"),
                        f"activeDeadlineSeconds in {kind} is not Supported")  # fmt: skip


def deployment(spec: Mapping[str, Any], path: str = "spec") -> Iterator[FieldError]:
    yield from nonnegative(spec, "replicas", path)
    yield from _selector(spec, "deployment", path)
    yield from _template_matches(spec, path)
    yield from pods.template(spec.get("template"), child(path, "template"))
    yield from _always_restart(spec, "ReplicaSet", path)
    yield from _deployment_strategy(spec.get("strategy") or {}, child(path, "strategy"))
    yield from nonnegative(spec, "minReadySeconds", path)
    yield from nonnegative(spec, "revisionHistoryLimit", path)
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int):
        yield from nonnegative(spec, "progressDeadlineSeconds", path)
        if deadline <= (spec.get("minReadySeconds") or 0):
            yield invalid(child(path, "progressDeadlineSeconds"), deadline,
                          "must be greater than minReadySeconds")  # fmt: skip


def replica_set(spec: Mapping[str, Any], path: str = "spec") -> Iterator[FieldError]:
    yield from nonnegative(spec, "replicas", path)
    yield from _selector(spec, "deployment", path)  # sic: ValidateReplicaSetSpec says deployment
    yield from _template_matches(spec, path)
    yield from pods.template(spec.get("template"), child(path, "template"))
    yield from _always_restart(spec, "ReplicaSet", path)


def _deployment_strategy(strategy: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    kind = strategy.get("type") or "RollingUpdate"  # SetDefaults_Deployment
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            yield forbidden(child(path, "rollingUpdate"),
                            "may not be specified when strategy `type` is 'Recreate'")  # fmt: skip
    elif kind == "RollingUpdate":
        rolling = rolling or {}
        unavailable = rolling.get("maxUnavailable", "25%")
        surge = rolling.get("maxSurge", "25%")
        rolling_path = child(path, "rollingUpdate")
        yield from int_or_percent(unavailable, child(rolling_path, "maxUnavailable"))
        yield from int_or_percent(surge, child(rolling_path, "maxSurge"))
        if int_or_percent_value(unavailable) == 0 and int_or_percent_value(surge) == 0:
            yield invalid(child(rolling_path, "maxUnavailable"), unavailable,
                          "may not be 0 when `maxSurge` is 0")  # fmt: skip
        yield from not_over_100(unavailable, child(rolling_path, "maxUnavailable"))
    else:
        yield not_supported(path, strategy, ("Recreate", "RollingUpdate"))


def int_or_percent(value: Any, path: str) -> Iterator[FieldError]:
    """ValidatePositiveIntOrPercent."""
    if isinstance(value, str):
        for msg in names.percent(value):
            yield invalid(path, value, msg)
    elif isinstance(value, int) and value < 0:
        yield invalid(path, value, pods.NONNEGATIVE)


def int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        return int(value[:-1]) if not names.percent(value) else 0
    return value if isinstance(value, int) else 0


def not_over_100(value: Any, path: str) -> Iterator[FieldError]:
    if isinstance(value, str) and not names.percent(value) and int(value[:-1]) > 100:
        yield invalid(path, value, "must not be greater than 100%")


def stateful_set(spec: Mapping[str, Any], path: str = "spec") -> Iterator[FieldError]:
    policy = spec.get("podManagementPolicy") or "OrderedReady"
    if policy not in ("OrderedReady", "Parallel"):
        yield invalid(child(path, "podManagementPolicy"), policy,
                      "must be 'OrderedReady' or 'Parallel'")  # fmt: skip
    strategy = spec.get("updateStrategy") or {}
    kind = strategy.get("type") or "RollingUpdate"
    if kind == "OnDelete" and strategy.get("rollingUpdate") is not None:
        yield invalid(child(path, "updateStrategy.rollingUpdate"), strategy["rollingUpdate"],
                      "only allowed for updateStrategy 'RollingUpdate'")  # fmt: skip
    elif kind not in ("OnDelete", "RollingUpdate"):
        yield invalid(child(path, "updateStrategy"), strategy,
                      "must be 'RollingUpdate' or 'OnDelete'")  # fmt: skip
    yield from nonnegative(spec, "replicas", path)
    yield from nonnegative(spec, "minReadySeconds", path)
    yield from _selector(spec, "statefulset", path)
    yield from _template_matches(spec, path)
    # ValidatePodTemplateSpecForStatefulSet checks only the template's labels and annotations.
    metadata = (spec.get("template") or {}).get("metadata") or {}
    yield from meta.label_map(metadata.get("labels"), child(path, "template.labels"))
    yield from meta.annotation_map(metadata.get("annotations"), child(path, "template.annotations"))
    yield from _always_restart(spec, "StatefulSet", path)


def daemon_set(spec: Mapping[str, Any], path: str = "spec") -> Iterator[FieldError]:
    selector = spec.get("selector")
    yield from meta.label_selector(selector, child(path, "selector"))
    yield from _template_matches(spec, path)
    if (
        selector is not None
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    ):
        yield invalid(child(path, "selector"), selector, "empty selector is invalid for daemonset")
    yield from pods.template(spec.get("template"), child(path, "template"))
    yield from _always_restart(spec, "DaemonSet", path)
    yield from nonnegative(spec, "minReadySeconds", path)
    yield from nonnegative(spec, "revisionHistoryLimit", path)
    strategy = spec.get("updateStrategy") or {}
    kind = strategy.get("type") or "RollingUpdate"
    if kind == "RollingUpdate":
        rolling = strategy.get("rollingUpdate") or {}
        rolling_path = child(path, "updateStrategy.rollingUpdate")
        unavailable, surge = rolling.get("maxUnavailable", 1), rolling.get("maxSurge", 0)
        yield from int_or_percent(unavailable, child(rolling_path, "maxUnavailable"))
        yield from int_or_percent(surge, child(rolling_path, "maxSurge"))
        has_unavailable = int_or_percent_value(unavailable) != 0
        has_surge = int_or_percent_value(surge) != 0
        if has_unavailable and has_surge:
            yield invalid(child(rolling_path, "maxSurge"), surge,
                          "may not be set when maxUnavailable is non-zero")  # fmt: skip
        elif not has_unavailable and not has_surge:
            yield required(child(rolling_path, "maxUnavailable"), "cannot be 0 when maxSurge is 0")
    elif kind != "OnDelete":
        yield not_supported(child(path, "updateStrategy"), strategy, ("RollingUpdate", "OnDelete"))

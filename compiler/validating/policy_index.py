"""What the policy rules know besides the object in hand: settings and cross-object facts.

PolicyContext carries the tunable numbers; PolicyIndex is built once per validate() call from the
whole object set (workloads per namespace, HPA minimums, Namespace SLAs) so that every rule stays
a linear pass. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.settings import Settings
from compiler.validating.workloads import (
    dig,
    kind_of,
    name_of,
    namespace_of,
    pod_spec,
    replicas_of,
    template_labels,
)

SLA_ANNOTATION = "ecp.ai/sla-availability"


@dataclass(frozen=True)
class PolicyContext:
    cluster_gpu: int = 50  # from Settings.cluster.gpu
    recommended_liveness_initial_delay: int = 30  # the reference manifest's livenessProbe
    recommended_liveness_period: int = 10
    gpu_warning_ratio: float = 0.8  # the reference's "80% of cluster capacity" warning
    sla_needing_replicas: float = 99.9  # SLA (percent) from which one replica is not enough

    @classmethod
    def from_settings(cls, settings: Settings) -> PolicyContext:
        """The context for a configured cluster: its GPU count; the other numbers as recommended."""
        return cls(cluster_gpu=settings.cluster.gpu)


@dataclass(frozen=True, slots=True)
class Workload:
    doc_index: int
    obj: Mapping[str, Any]
    labels: Mapping[str, Any]
    replicas: int


@dataclass
class PolicyIndex:
    context: PolicyContext
    objects: Sequence[Any]
    workloads: dict[str | None, list[Workload]] = field(default_factory=dict)
    hpa_min_replicas: dict[tuple[str | None, str, str], int] = field(default_factory=dict)
    namespace_sla: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, objects: Sequence[Any], context: PolicyContext) -> PolicyIndex:
        index = cls(context=context, objects=objects)
        for doc_index, obj in enumerate(objects):
            if not isinstance(obj, Mapping):
                continue
            kind = kind_of(obj)
            if kind == "Namespace":
                sla = sla_of(obj)
                name = name_of(obj)
                if sla is not None and name is not None:
                    index.namespace_sla[name] = sla
            elif kind == "HorizontalPodAutoscaler":
                index._add_hpa(obj)
            elif pod_spec(obj) is not None:
                workload = Workload(doc_index, obj, template_labels(obj), replicas_of(obj))
                index.workloads.setdefault(namespace_of(obj), []).append(workload)
        return index

    def _add_hpa(self, hpa: Mapping[str, Any]) -> None:
        target_kind, target_name = (
            dig(hpa, "spec", "scaleTargetRef", "kind"),
            dig(hpa, "spec", "scaleTargetRef", "name"),
        )
        minimum = dig(hpa, "spec", "minReplicas")
        if minimum is None:
            minimum = 1
        if isinstance(target_kind, str) and isinstance(target_name, str) and type(minimum) is int:
            self.hpa_min_replicas[(namespace_of(hpa), target_kind, target_name)] = minimum

    def effective_replicas(self, obj: Mapping[str, Any]) -> int:
        """spec.replicas, or the HPA's minReplicas when an HPA scales the object and asks more."""
        replicas = replicas_of(obj)
        key = (namespace_of(obj), kind_of(obj) or "", name_of(obj) or "")
        return max(replicas, self.hpa_min_replicas.get(key, 0))

    def sla_for(self, obj: Mapping[str, Any]) -> float | None:
        """The object's own SLA annotation, else its Namespace's (when that is in the set)."""
        own = sla_of(obj)
        if own is not None:
            return own
        namespace = namespace_of(obj)
        return None if namespace is None else self.namespace_sla.get(namespace)


def sla_of(obj: Mapping[str, Any]) -> float | None:
    """'99.9%' -> 99.9; absent or unreadable -> None (the SLA rules then do not apply)."""
    value = dig(obj, "metadata", "annotations", SLA_ANNOTATION)
    if not isinstance(value, str):
        return None
    try:
        return float(value.strip().removesuffix("%"))
    except ValueError:
        return None

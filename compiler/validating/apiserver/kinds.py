"""Which rules each kind gets: its name syntax, whether it is namespaced, and its spec checks.

KINDS is the data that drives the API server's create validation here: one row per (API group,
kind), read from each kind's Validate<Kind> in the Kubernetes sources. A kind not in the table is
not checked (the schema check still is). Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.validating.apiserver import apps, batch, core, meta, names, networking, pods
from compiler.validating.apiserver import policy_autoscaling as pa
from compiler.validating.apiserver.fielderrors import FieldError, invalid

Check = Callable[[Mapping[str, Any]], Iterator[FieldError]]


@dataclass(frozen=True, slots=True)
class KindRules:
    name_check: names.NameCheck
    namespaced: bool
    check: Check | None
    source: str  # where Kubernetes keeps the rules (for the reader and the corpus)


def _spec(check: Callable[[Mapping[str, Any]], Iterator[FieldError]]) -> Check:
    def run(obj: Mapping[str, Any]) -> Iterator[FieldError]:
        yield from check(obj.get("spec") or {})

    return run


def _pod(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    yield from pods.pod_spec(obj.get("spec") or {}, "spec")


def _cron_job_name(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    name = (obj.get("metadata") or {}).get("name") or ""
    for msg in batch.cron_job_name(name):
        yield invalid("metadata.name", name, msg)
    yield from batch.cron_job(obj.get("spec") or {})


_SUBDOMAIN, _LABEL, _DNS1035 = (
    names.name_is_dns_subdomain,
    names.name_is_dns_label,
    names.name_is_dns1035_label,
)
_CORE = "pkg/apis/core/validation/validation.go"
_APPS = "pkg/apis/apps/validation/validation.go"
_BATCH = "pkg/apis/batch/validation/validation.go"

KINDS: dict[tuple[str, str], KindRules] = {
    ("", "Namespace"): KindRules(_LABEL, False, None, _CORE),
    ("", "ConfigMap"): KindRules(_SUBDOMAIN, True, core.config_map, _CORE),
    ("", "Secret"): KindRules(_SUBDOMAIN, True, core.secret, _CORE),
    ("", "ServiceAccount"): KindRules(_SUBDOMAIN, True, None, _CORE),
    ("", "Service"): KindRules(_DNS1035, True, core.service, _CORE),
    ("", "Pod"): KindRules(_SUBDOMAIN, True, _pod, _CORE),
    ("", "ResourceQuota"): KindRules(_SUBDOMAIN, True, core.resource_quota, _CORE),
    ("", "LimitRange"): KindRules(_SUBDOMAIN, True, core.limit_range, _CORE),
    ("", "PersistentVolumeClaim"): KindRules(_SUBDOMAIN, True, core.persistent_volume_claim, _CORE),
    ("apps", "Deployment"): KindRules(_SUBDOMAIN, True, _spec(apps.deployment), _APPS),
    ("apps", "ReplicaSet"): KindRules(_SUBDOMAIN, True, _spec(apps.replica_set), _APPS),
    ("apps", "StatefulSet"): KindRules(_LABEL, True, _spec(apps.stateful_set), _APPS),
    ("apps", "DaemonSet"): KindRules(_SUBDOMAIN, True, _spec(apps.daemon_set), _APPS),
    ("batch", "Job"): KindRules(_SUBDOMAIN, True, _spec(batch.job), _BATCH),
    ("batch", "CronJob"): KindRules(_SUBDOMAIN, True, _cron_job_name, _BATCH),
    ("policy", "PodDisruptionBudget"): KindRules(
        _SUBDOMAIN, True, pa.pod_disruption_budget, "pkg/apis/policy/validation/validation.go"
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): KindRules(
        _SUBDOMAIN,
        True,
        pa.horizontal_pod_autoscaler,
        "pkg/apis/autoscaling/validation/validation.go",
    ),
    ("networking.k8s.io", "Ingress"): KindRules(
        _SUBDOMAIN, True, networking.ingress, "pkg/apis/networking/validation/validation.go"
    ),
    ("networking.k8s.io", "NetworkPolicy"): KindRules(
        _SUBDOMAIN, True, networking.network_policy, "pkg/apis/networking/validation/validation.go"
    ),
}


def rules_for(api_version: str, kind: str) -> KindRules | None:
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return KINDS.get((group, kind))


def field_errors(obj: Mapping[str, Any]) -> list[FieldError]:
    """Every create-time validation error of a schema-valid object of a known kind."""
    rules = rules_for(obj.get("apiVersion") or "", obj.get("kind") or "")
    if rules is None:
        return []
    errors = list(meta.object_meta(obj.get("metadata") or {}, rules.name_check, rules.namespaced))
    if rules.check is not None:
        errors.extend(rules.check(obj))
    return errors

"""Render one tenant's Kubernetes objects from its spec and plan, through a Jinja2 template.

The template emits JSON (every value through `tojson`), which parses ~100x faster than YAML text;
the objects are then put in Helm's install order, by name within a kind. No file I/O except the
packaged template, loaded once per Renderer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from compiler.alerting import AlertRules, prometheus_rule_groups
from compiler.catalogue import Catalogue
from compiler.errors import ValidationFailed
from compiler.quantity import format_cpu, format_memory, storage_quantity
from compiler.rendering.redis import redis_context, redis_url
from compiler.sizing.models import ResourcePlan, ServicePlan
from compiler.sizing.redis import SessionStore
from compiler.spec.ids import namespace_for, tenant_id_problem
from compiler.spec.models import TenantSpec

MANAGED_BY = "ecp-orchestrator"
PART_OF = "ecp-ai"
# app.kubernetes.io/component: what role a service plays in the contact centre.
COMPONENTS = {
    "callbot": "voice-bot",
    "chatbot": "chat-bot",
    "advisor": "agent-assist",
    "stt": "speech-to-text",
    "tts": "text-to-speech",
    "ta": "text-analytics",
    "qa": "quality-assurance",
}
# Helm's install order (pkg/releaseutil/kind_sorter.go); unknown kinds go last, by kind name.
HELM_ORDER = (
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
)
_RANK = {kind: i for i, kind in enumerate(HELM_ORDER)}
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
# HPA may grow a service to at most this multiple of its planned replicas (and the tier's room).
HPA_MAX_FACTOR = 2


@dataclass(frozen=True)
class RenderOptions:
    """The manifest API's switches: include_monitoring, include_ingress, namespace."""

    include_monitoring: bool = True
    include_ingress: bool = False
    namespace: str | None = None


def image_version(image: str) -> str:
    """The tag, else a digest's first 12 hex digits, for the app.kubernetes.io/version label."""
    reference, _, digest = image.partition("@")
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return f"sha256-{digest.removeprefix('sha256:')[:12]}" if digest else "unversioned"


def pull_policy(image: str) -> str:
    """Explicit, never the API server's guess: a digest never changes, so IfNotPresent; a tag
    can be moved, so Always (the node re-resolves it; unchanged layers are not downloaded)."""
    return "IfNotPresent" if "@sha256:" in image else "Always"


def install_order_key(obj: dict[str, Any]) -> tuple[int, str, str]:
    kind = str(obj.get("kind", ""))
    name = str(obj.get("metadata", {}).get("name", ""))
    return (_RANK.get(kind, len(HELM_ORDER)), kind if kind not in _RANK else "", name)


class Renderer:
    """Holds the compiled template; create one per run and reuse it for every tenant."""

    def __init__(
        self,
        catalogue: Catalogue,
        alert_rules: AlertRules,
        cache_dir: Path | None = None,
        zones: tuple[str, ...] = (),
    ) -> None:
        self._zones = zones
        # Compiling the template costs ~25 ms; Jinja's bytecode cache (keyed by the template's
        # source checksum) makes that a one-off per template change, not per run.
        cache = None
        if cache_dir is not None:
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
                cache = jinja2.FileSystemBytecodeCache(str(cache_dir))
            except OSError:
                cache = None  # a cache we cannot write only costs speed
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("compiler.rendering", "templates"),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # noqa: S701 - JSON output; every value goes through tojson
            keep_trailing_newline=True,
            bytecode_cache=cache,
        )
        # The output is parsed back as JSON, never served as HTML: Jinja's HTML-safe tojson
        # (escaping <, >, &, ') only costs time. Same sorted keys, so the same documents.
        env.filters["tojson"] = _JSON.encode
        self._template = env.get_template("tenant.json.j2")
        self._catalogue = catalogue
        self._alert_rules = alert_rules

    def render(
        self,
        spec: TenantSpec,
        plan: ResourcePlan,
        options: RenderOptions,
        *,
        redis: SessionStore | None = None,
        external_redis_url: str | None = None,
    ) -> list[dict[str, Any]]:
        """The tenant's objects; with `redis`, its own Redis too (REDIS_URL names it), else
        REDIS_URL is `external_redis_url` or the catalogue's."""
        context = self._context(spec, plan, options)
        preset = self._catalogue.redis
        context["redis"] = None
        if redis is not None and preset is not None:
            context["redis"] = redis_context(
                preset,
                redis,
                context["common_labels"],
                spec.tenant_id,
                pull_policy(preset.image),
                zones=bool(self._zones),
            )
            context["redis_url"] = redis_url(preset, redis)
        elif external_redis_url is not None:
            context["redis_url"] = external_redis_url
        objects: list[dict[str, Any]] = json.loads(self._template.render(context))
        objects.sort(key=install_order_key)
        return objects

    def _context(
        self, spec: TenantSpec, plan: ResourcePlan, options: RenderOptions
    ) -> dict[str, Any]:
        ns = options.namespace or namespace_for(spec.tenant_id)
        if tenant_id_problem(ns.removeprefix("ecp-ai-")) is not None or len(ns) > 63:
            raise ValidationFailed(
                f"namespace {ns!r} is not a DNS-1123 label", details={"field": "namespace"}
            )
        catalogue = self._catalogue
        tier = catalogue.tiers[plan.tier]
        common = {
            **spec.labels,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "app.kubernetes.io/part-of": PART_OF,
            "ecp.ai/tenant": spec.tenant_id,
        }
        sla = {
            "ecp.ai/sla-availability": spec.sla_target.availability,
            "ecp.ai/sla-response-time": spec.sla_target.response_time,
        }
        quota: dict[str, str | int] = {
            "requests.cpu": tier.cpu,
            "requests.memory": tier.memory,
            "limits.cpu": format_cpu(int(tier.cpu_millicores * catalogue.cpu_limit_factor)),
            "limits.memory": tier.memory,
            "requests.storage": storage_quantity(tier.storage_gb),
        }
        if tier.gpu:
            quota["requests.nvidia.com/gpu"] = str(tier.gpu)
        return {
            "tenant_id": spec.tenant_id,
            "ns": ns,
            "namespace_labels": {
                **common,
                "ecp.ai/preset": plan.tier,
                "ecp.ai/managed-by": MANAGED_BY,
            },
            "namespace_annotations": {**sla, "ecp.ai/description": spec.description}
            if spec.description
            else sla,
            "common_labels": common,
            "quota": quota,
            "limit_range": {
                "default": {"cpu": "500m", "memory": "512Mi"},
                "default_request": {"cpu": "100m", "memory": "128Mi"},
            },
            "service_account": "ecp-workload",
            "config_data": {
                "TENANT_ID": spec.tenant_id,
                "ECP_PRESET": plan.tier,
                "ECP_SLA_AVAILABILITY": spec.sla_target.availability,
                "ECP_SLA_RESPONSE_TIME": spec.sla_target.response_time,
                "ECP_SERVICES": ",".join(s.name for s in plan.services),
            },
            "services": [self._service(s, spec, plan, common, sla) for s in plan.services],
            "port": catalogue.port,
            "redis_url": catalogue.redis_url,
            "include_monitoring": options.include_monitoring,
            "alert_groups": prometheus_rule_groups(
                spec.tenant_id,
                ns,
                spec.sla_target.response_time_ms,
                self._alert_rules,
                has_gpu=plan.totals.gpu > 0,
            )
            if options.include_monitoring
            else [],
            "include_ingress": options.include_ingress,
            "ingress_host": spec.ingress_host or f"{spec.tenant_id}.ecp.local",
        }

    def _service(
        self,
        s: ServicePlan,
        spec: TenantSpec,
        plan: ResourcePlan,
        common: dict[str, str],
        sla: dict[str, str],
    ) -> dict[str, Any]:
        version = image_version(s.image)
        labels = {
            **common,
            "app": s.name,
            "app.kubernetes.io/name": s.name,
            "app.kubernetes.io/instance": f"{spec.tenant_id}-{s.name}",
            "app.kubernetes.io/component": COMPONENTS[s.name],
            "app.kubernetes.io/version": version[:63].strip("-_.") or "unversioned",
            "ecp.ai/service": s.name,
        }
        requests: dict[str, str | int] = {
            "cpu": format_cpu(s.cpu_request_m),
            "memory": format_memory(s.memory_mib),
        }
        limits: dict[str, str | int] = {
            "cpu": format_cpu(s.cpu_limit_m),
            "memory": format_memory(s.memory_mib),
        }
        if s.gpu_per_replica:
            requests["nvidia.com/gpu"] = s.gpu_per_replica
            limits["nvidia.com/gpu"] = s.gpu_per_replica
        redundant = s.replicas > s.replicas_for_capacity
        return {
            "name": s.name,
            "replicas": s.replicas,
            "labels": labels,
            "annotations": {
                **sla,
                "ecp.ai/channels": f"{s.effective_channels:g}",
                "ecp.ai/predicted-response-time": f"{s.predicted_response_ms:.1f}ms",
            },
            "selector": {"app": s.name},
            "pod_labels": {
                "app": s.name,
                "ecp.ai/service": s.name,
                "ecp.ai/tenant": spec.tenant_id,
                "app.kubernetes.io/name": s.name,
                "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"],
            },
            "image": s.image,
            "pull_policy": pull_policy(s.image),
            "requests": requests,
            "limits": limits,
            "gpu": s.gpu_per_replica,
            "node_selector": {"ecp.ai/gpu-type": s.gpu_type or ""},
            "spread": self._spread(s),
            # With spare replicas a rollout may take one down; without, it must add one first.
            "rolling_update": {"maxSurge": 0, "maxUnavailable": 1}
            if redundant
            else {"maxSurge": 1, "maxUnavailable": 0},
            "disruption": {
                "minAvailable": s.replicas_for_capacity,
                "selector": {"matchLabels": {"app": s.name}},
            }
            if redundant
            else {"maxUnavailable": 1, "selector": {"matchLabels": {"app": s.name}}},
            "max_replicas": self._max_replicas(s, plan),
        }

    def _spread(self, s: ServicePlan) -> list[dict[str, Any]]:
        """Replicas on distinct nodes (and zones, when the cluster names them), REQUIRED: the
        sizing's k-of-n availability assumes replicas fail independently (README, Sizing)."""
        if s.replicas < 2:
            return []
        keys = ["kubernetes.io/hostname"]
        if self._zones:
            keys.append("topology.kubernetes.io/zone")
        return [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": s.name}},
            }
            for key in keys
        ]

    def _max_replicas(self, s: ServicePlan, plan: ResourcePlan) -> int:
        """Planned replicas plus what the tier's spare room holds for this service alone."""
        tier = self._catalogue.tiers[plan.tier]
        t = plan.totals
        room = [
            (tier.cpu_millicores - t.cpu_millicores) // s.cpu_request_m,
            (tier.memory_mib - t.memory_mib) // s.memory_mib,
        ]
        if s.gpu_per_replica:
            room.append((tier.gpu - t.gpu) // s.gpu_per_replica)
        spare = max(0, min(room))
        return max(s.replicas, min(s.replicas + spare, s.replicas * HPA_MAX_FACTOR))

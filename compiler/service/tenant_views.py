"""Read answers: the tenant list and tenant detail, built from the read model's compiled entries.

Input: a Workspace (index entries, spec files, dates, compiled manifests) and the request's filters.
Output: TenantList / TenantDetail models in the reference's shapes. Every number comes from
output/index.json or the compiled manifest: nothing here sizes or renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compiler.catalogue import Catalogue
from compiler.errors import OrchestratorError, TenantNotFound
from compiler.service.answer_cache import CachedAnswer
from compiler.service.cluster_status import status_epoch
from compiler.service.deployments import tenant_status
from compiler.service.object_views import ObjectView
from compiler.service.replies import json_bytes
from compiler.service.schemas import (
    Pagination,
    Resources,
    ServiceInfo,
    ServiceResources,
    TenantDetail,
    TenantList,
    TenantSummary,
)
from compiler.service.state import Workspace
from compiler.spec.ids import namespace_for
from compiler.spec.loader import parse_spec
from compiler.spec.models import SERVICES

# The reference's detail example calls callbot an "ai_service"; speech and analytics services are
# grouped the same way so a console can show them apart.
SERVICE_TYPES = {
    "callbot": "ai_service",
    "chatbot": "ai_service",
    "advisor": "ai_service",
    "stt": "speech",
    "tts": "speech",
    "ta": "analytics",
    "qa": "analytics",
}
_NO_RESOURCES = Resources(cpu="0m", memory="0Mi", gpu=0, storage="0.0TB")


@dataclass(frozen=True)
class ListQuery:
    skip: int = 0
    limit: int = 100
    preset: str | None = None
    status: str | None = None
    visible: frozenset[str] | None = None  # the caller's scope; None = every tenant


def _fallback_entry(ws: Workspace, tenant_id: str) -> dict[str, Any]:
    """What the spec says when the tenant has no compiled entry (its compile failed)."""
    spec_file = ws.read.spec_file(tenant_id)
    if spec_file is None:
        return {"name": tenant_id}
    try:
        spec = parse_spec(spec_file.text, f"{tenant_id}.yaml", expected_id=tenant_id)
    except OrchestratorError as exc:
        return {"name": tenant_id, "description": f"spec does not load: {exc.message}"}
    return {
        "name": spec.name,
        "description": spec.description,
        "labels": dict(spec.labels),
        "preset": spec.preset,
        "gpu_type": spec.gpu_type,
        "service_requirements": spec.service_requirements.given(),
        "sla_target": spec.sla_target.model_dump(),
    }


def quota_of(entry: Mapping[str, Any], catalogue: Catalogue) -> Resources:
    """The tenant's quota envelope: the index entry's, else its tier's figures in presets/."""
    quota = entry.get("quota")
    if not isinstance(quota, Mapping):
        tier = catalogue.tiers.get(str(entry.get("preset")))
        if tier is None:
            return _NO_RESOURCES
        quota = {"cpu": tier.cpu, "memory": tier.memory, "gpu": tier.gpu, "storage": tier.storage}
    return Resources(
        cpu=str(quota.get("cpu", "0m")),
        memory=str(quota.get("memory", "0Mi")),
        gpu=int(quota.get("gpu", 0) or 0),
        storage=str(quota.get("storage", "0.0TB")),
    )


def _summary(
    tenant_id: str,
    entry: Mapping[str, Any],
    status: str,
    demo: bool,
    created_at: str | None,
    catalogue: Catalogue,
) -> TenantSummary:
    resources = quota_of(entry, catalogue)
    sla = entry.get("sla_target") or {}
    return TenantSummary.model_validate(
        {
            "tenant_id": tenant_id,
            "name": entry.get("name", tenant_id),
            "preset": entry.get("preset"),
            "is_demo": demo,
            "status": status,
            "services_count": len(entry.get("replicas") or {}),
            "cpu_limit": resources.cpu,
            "memory_limit": resources.memory,
            "gpu_limit": resources.gpu,
            "storage_limit": resources.storage,
            "gpu_type": entry.get("gpu_type"),
            "sla_availability": str(sla.get("availability", "")),
            "sla_response_time": str(sla.get("response_time", "")),
            "created_at": created_at,
            "description": entry.get("description", ""),
            "labels": entry.get("labels") or {},
        }
    )


def _workspace_version(ws: Workspace, fresh: bool) -> tuple[Any, ...]:
    """The workspace-wide facts every version holds: the read model's (index, spec folder,
    presets, HEAD) and the deploy repo's ref, a dozen stat calls read once per loop turn for
    all the requests it runs (answer_cache.TurnMemo); `fresh` reads them now."""

    def read() -> tuple[Any, ...]:
        return (ws.read.version(), ws.ledger.ref_key())

    return read() if fresh else ws.answers.turn.get("workspace", read)


def _list_version(ws: Workspace, fresh: bool = False) -> tuple[Any, ...]:
    read_version, ref_key = _workspace_version(ws, fresh)
    return (
        read_version,
        frozenset(ws.in_flight),
        frozenset(ws.deleting),
        frozenset(ws.failed),
        None if ws.read.is_git() else ref_key,  # dates come from publishes then
        status_epoch(ws),  # with a cluster, statuses move with it
    )


def list_answer(ws: Workspace, query: ListQuery, demo: bool) -> CachedAnswer:
    """The list answer's JSON; real-mode answers are reused while their data version holds
    (demo statuses move with the clock, so demo answers are always built afresh). A list of
    1,000 tenants costs ~1 ms to build and serialise; a reuse, the version's few stat calls."""
    if demo:
        return CachedAnswer(json_bytes(_build_list(ws, query, demo)))
    version = _list_version(ws)
    key = ("list", query)
    cached = ws.answers.get(key, version)
    if cached is not None:
        return cached
    answer = CachedAnswer(json_bytes(_build_list(ws, query, demo)))
    if _list_version(ws, fresh=True) == version:  # nothing moved while it was built
        ws.answers.put(key, version, answer)
    return answer


def detail_version(ws: Workspace, tenant_id: str, fresh: bool = False) -> tuple[Any, ...] | None:
    """Every fact a real-mode detail answer is built from, or None when it must be built
    afresh: an unknown tenant (404), or a cluster (its statuses move on their own). The
    tenant's own spec is stat'ed every time; `fresh` reads the workspace-wide facts now too."""
    if ws.cluster is not None:
        return None
    spec = ws.read.spec_file(tenant_id)
    if spec is None:
        return None
    read_version, ref_key = _workspace_version(ws, fresh)
    return (
        spec.etag,
        read_version,  # the index (so the manifest), the spec folder, presets, git dates
        ref_key,  # the latest deployment (and the dates outside git)
        tenant_id in ws.in_flight,
        tenant_id in ws.deleting,
        tenant_id in ws.failed,
    )


def detail_complete(ws: Workspace, tenant_id: str) -> bool:
    """False when the detail just built lacks its compiled manifest's objects (the file could
    not be read): such an answer is served but not kept."""
    entry = ws.read.index().get(tenant_id)
    return entry is None or ws.read.parsed(tenant_id, str(entry.get("manifest_sha256", "")))


def _build_list(ws: Workspace, query: ListQuery, demo: bool) -> TenantList:
    index = ws.read.index()
    matched: list[tuple[str, Mapping[str, Any], str]] = []
    active = 0
    for tenant_id in ws.read.spec_ids():
        if query.visible is not None and tenant_id not in query.visible:
            continue  # outside the caller's scope: not in the page, not in any count
        entry = index.get(tenant_id)
        status = tenant_status(ws, tenant_id, entry is not None, demo)
        if entry is None:
            entry = _fallback_entry(ws, tenant_id)
        if query.preset is not None and entry.get("preset") != query.preset:
            continue
        if query.status is not None and status != query.status:
            continue
        matched.append((tenant_id, entry, status))
        active += status == "running"
    page = matched[query.skip : query.skip + query.limit]
    tenants = []
    catalogue = ws.read.catalogue()
    for tenant_id, entry, status in page:
        dates = ws.dates(tenant_id)
        created = dates.created_at if dates else None
        tenants.append(_summary(tenant_id, entry, status, demo, created, catalogue))
    return TenantList(
        tenants=tenants,
        total_count=len(matched),
        demo_count=len(matched) if demo else 0,
        active_count=active,
        pagination=Pagination(
            skip=query.skip, limit=query.limit, has_more=query.skip + len(page) < len(matched)
        ),
    )


def _service_info(name: str, count: int, replicas: int, workload: ObjectView | None) -> ServiceInfo:
    requests = workload.requests if workload else {}
    limits = workload.limits if workload else {}
    gpu = limits.get("nvidia.com/gpu", requests.get("nvidia.com/gpu", 0))
    return ServiceInfo(
        service_name=name,
        service_type=SERVICE_TYPES.get(name, "ai_service"),
        enabled=replicas > 0,
        count=count,
        replicas=workload.replicas if workload and workload.replicas is not None else replicas,
        image=workload.image if workload else None,
        resources=ServiceResources(
            cpu_request=_text(requests.get("cpu")),
            memory_request=_text(requests.get("memory")),
            cpu_limit=_text(limits.get("cpu")),
            memory_limit=_text(limits.get("memory")),
            gpu=int(gpu or 0),
        ),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def tenant_detail(
    ws: Workspace, tenant_id: str, demo: bool, deployment_id: str | None
) -> TenantDetail:
    if ws.read.spec_file(tenant_id) is None:
        raise TenantNotFound(f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id})
    compiled = ws.read.index().get(tenant_id)
    status = tenant_status(ws, tenant_id, compiled is not None, demo)
    entry = compiled if compiled is not None else _fallback_entry(ws, tenant_id)
    requirements: Mapping[str, int] = entry.get("service_requirements") or {}
    replicas: Mapping[str, int] = entry.get("replicas") or {}
    objects = ws.read.objects(tenant_id, str(entry.get("manifest_sha256", "")))
    workloads = {o.service: o for o in objects if o.service is not None}
    services = [
        _service_info(
            name, int(requirements.get(name, 0)), int(replicas.get(name, 0)), workloads.get(name)
        )
        for name in SERVICES
        if name in replicas or int(requirements.get(name, 0)) > 0
    ]
    dates = ws.dates(tenant_id)
    return TenantDetail(
        tenant_id=tenant_id,
        name=str(entry.get("name", tenant_id)),
        preset=entry.get("preset"),
        preset_source=entry.get("preset_source"),
        is_demo=demo,
        status=status,
        description=str(entry.get("description", "")),
        namespace=str(entry.get("namespace", namespace_for(tenant_id))),
        gpu_type=entry.get("gpu_type"),
        service_requirements=dict(requirements),
        resources=quota_of(entry, ws.read.catalogue()),
        sla_target=dict(entry.get("sla_target") or {}),
        services=services,
        estimated_cost=entry.get("estimated_cost"),
        deployment_id=deployment_id,
        created_at=dates.created_at if dates else None,
        updated_at=dates.updated_at if dates else None,
    )

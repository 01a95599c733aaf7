"""Manifest endpoints: get a tenant's manifest, validate any manifest, a tenant's deployment status.

GET manifest with the default options answers output/<id>/manifest.yaml byte for byte; other
options render through the pipeline's own build_tenant. validate-manifest runs the validating
stage's safe loader (alias bombs, deep nesting -> 422) and validator; cost comes from the sizing
stage's cost function. Nothing here renders, validates or prices by itself.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from compiler.access.roles import Action
from compiler.catalogue import Catalogue
from compiler.errors import ManifestInvalid, TenantNotFound, ValidationFailed
from compiler.pipeline import build_tenant
from compiler.quantity import parse_bytes, parse_cpu
from compiler.rendering import RenderOptions
from compiler.service.bodies import (
    MANIFEST_BODY_LIMIT,
    MiB,
    query_bool,
    query_choice,
    read_json_object,
    validate_model,
)
from compiler.service.deployments import observed_status, simulated_status
from compiler.service.guard import access_of, principal_of, spec_text_of
from compiler.service.openapi import ApiRoute, QueryParam, RouteDoc
from compiler.service.replies import debug_info, json_reply, timed
from compiler.service.schemas import (
    DeploymentStatus,
    ResourceSummary,
    ValidateManifestRequest,
    ValidateResult,
)
from compiler.service.state import AppState, app_state, is_demo, workspace_for
from compiler.sizing import Totals
from compiler.sizing.cost import monthly_cost
from compiler.sizing.deployment_time import nominal_deployment_time
from compiler.sizing.plan import misfits
from compiler.spec.ids import TENANT_ID_PATTERN, check_tenant_id, tenant_id_problem
from compiler.validating.documents import finding_lines, load_documents, resource_summary
from compiler.validating.validate import PolicyContext

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SOURCE = "manifest_content"


async def get_manifest(request: Request) -> Response:
    tenant_id = check_tenant_id(request.path_params["tenant_id"])
    ws = workspace_for(request)
    fmt = query_choice(request, "format", ("yaml", "json"), "yaml")
    options = RenderOptions(
        include_monitoring=query_bool(request, "include_monitoring", True),
        include_ingress=query_bool(request, "include_ingress", False),
        namespace=_namespace(request),
    )
    if ws.read.spec_file(tenant_id) is None:
        raise TenantNotFound(f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id})
    compiled = ws.settings.output_dir / tenant_id / "manifest.yaml"
    with timed(request, "render"):
        if options == RenderOptions() and compiled.is_file():
            text = compiled.read_text(encoding="utf-8")  # the published bytes, exactly
        else:
            build = await run_in_threadpool(build_tenant, ws.settings, tenant_id, options)
            text = build.manifest_text
    if fmt == "json":
        objects = list(yaml.load_all(text, Loader=_Loader))
        body = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=2)
        return Response(body + "\n", media_type="application/json")
    return Response(text, media_type="application/yaml")


def _namespace(request: Request) -> str | None:
    raw = request.query_params.get("namespace")
    if not raw:
        return None
    # A namespace is a DNS-1123 label: the tenant ID checker, without its prefix length rule.
    problem = tenant_id_problem(raw) if len(raw) <= 63 else "longer than 63 characters"
    if problem:
        raise ValidationFailed(
            f"namespace must be a DNS-1123 label: {problem}", details={"field": "query.namespace"}
        )
    return raw


def _estimate(
    summary: dict[str, Any], catalogue: Catalogue, gpu_type: str | None
) -> tuple[str, str]:
    """Monthly cost of the summary's requests, and the deployment time of the smallest tier
    that holds them: the tier's nominal figure, labelled so (foreign manifests have no plan,
    and their images' sizes are unknown, to derive one from)."""
    totals = Totals(
        cpu_millicores=parse_cpu(summary["total_cpu"]),
        memory_mib=parse_bytes(summary["total_memory"]) // MiB,
        gpu=int(summary["total_gpu"]),
        storage_gb=0.0,
    )
    cost = monthly_cost(totals, gpu_type, catalogue).label()
    fitting = [t for t in catalogue.tiers_ascending() if not misfits(totals, t)]
    largest = catalogue.tiers_ascending()[-1]
    tier = fitting[0] if fitting else largest
    return cost, nominal_deployment_time(tier.name, tier.deployment_time)


# A validation answer lists at most this many findings (errors first); the counts are complete.
MAX_FINDINGS = 1000


def _validate(
    state: AppState, text: str, catalogue: Catalogue, gpu_type: str | None
) -> ValidateResult:
    objects, problems = load_documents(text, _SOURCE)
    if problems:
        raise ManifestInvalid(
            f"manifest_content cannot be read: line {problems[0].line}: {problems[0].message}"
            if problems[0].line
            else f"manifest_content cannot be read: {problems[0].message}",
            details={"errors": [p.to_dict() for p in problems[:20]], "field": _SOURCE},
        )
    findings = state.validator().validate(
        objects,
        unknown_kind="warning",
        policy=PolicyContext(cluster_gpu=state.settings.cluster.gpu),
    )
    summary = resource_summary(objects)
    cost, deployment_time = _estimate(summary, catalogue, gpu_type)
    # "line 12: doc 1 Deployment/web: spec.replicas: ...": the line of the field in
    # manifest_content, so an editor can jump to it. Errors first; at most MAX_FINDINGS listed.
    errors_all = [f for f in findings if f.severity == "error"]
    warnings_all = [f for f in findings if f.severity == "warning"]
    listed = (errors_all + warnings_all)[:MAX_FINDINGS]
    described = [
        (f.severity, f"line {line}: {f}" if line else str(f))
        for f, line in zip(listed, finding_lines(text, objects, listed), strict=True)
    ]
    return ValidateResult(
        valid=not errors_all,
        warnings=[message for severity, message in described if severity == "warning"],
        errors=[message for severity, message in described if severity == "error"],
        error_count=len(errors_all),
        warning_count=len(warnings_all),
        truncated=len(listed) < len(findings),
        resource_summary=ResourceSummary.model_validate(summary),
        estimated_cost=cost,
        deployment_time=deployment_time,
    )


async def validate_manifest(request: Request) -> Response:
    ws = workspace_for(request)
    body = validate_model(
        ValidateManifestRequest, await read_json_object(request, MANIFEST_BODY_LIMIT)
    )
    gpu_type = None
    if body.tenant_id is not None:
        tenant_id = check_tenant_id(body.tenant_id)
        # Priced like that tenant: only for a caller who may read it (else it does not exist).
        access_of(request).authorize(
            principal_of(request), Action.READ, tenant_id, spec_text_of(ws)
        )
        entry = ws.read.index().get(tenant_id) or {}
        gpu_type = entry.get("gpu_type")
    with timed(request, "validate"):
        result = await run_in_threadpool(
            _validate, app_state(request), body.manifest_content, ws.read.catalogue(), gpu_type
        )
    debug = debug_info(request)
    if debug is not None:
        result = result.model_copy(update={"debug": debug})
    return json_reply(result)


async def deployment_status(request: Request) -> Response:
    tenant_id = check_tenant_id(request.path_params["tenant_id"])
    ws = workspace_for(request)
    if is_demo(request):
        answer = simulated_status(ws, tenant_id)
    else:
        answer = await run_in_threadpool(observed_status, ws, tenant_id)
    return json_reply(answer)


def routes() -> list[BaseRoute]:
    return [
        ApiRoute(
            "/api/v1/tenants/validate-manifest",
            validate_manifest,
            methods=["POST"],
            doc=RouteDoc(
                "Validate a manifest (body up to 5 MiB)",
                request=ValidateManifestRequest,
                response=ValidateResult,
            ),
        ),
        ApiRoute(
            "/api/v1/tenants/{tenant_id}/manifest",
            get_manifest,
            methods=["GET"],
            doc=RouteDoc(
                "Generate a tenant's manifest (defaults: byte-for-byte output/<id>/manifest.yaml)",
                query=(
                    QueryParam(
                        "format", description="Output format", default="yaml", enum=("yaml", "json")
                    ),
                    QueryParam("include_monitoring", "boolean", "Monitoring objects", True),
                    QueryParam("include_ingress", "boolean", "An Ingress", False),
                    QueryParam(
                        "namespace",
                        description="Custom namespace (a DNS-1123 label)",
                        pattern=TENANT_ID_PATTERN,
                    ),
                ),
                response_media="application/yaml",
                extra_media=("application/json",),
            ),
        ),
        ApiRoute(
            "/api/v1/tenants/{tenant_id}/deployment-status",
            deployment_status,
            methods=["GET"],
            doc=RouteDoc("Deployment status (simulated in demo mode)", response=DeploymentStatus),
        ),
    ]

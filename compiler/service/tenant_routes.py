"""Tenant management endpoints: list, detail, create, update, delete, calculate-resources.

Thin handlers: parse the request (bodies.py), queue a WriteIntent for the workspace's writer
(writer.py) or call the read views (tenant_views.py), answer with a response model. Sizing is
the sizing stage's; nothing here computes a number of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from compiler.errors import InvalidPreset
from compiler.service.answer_cache import CachedAnswer
from compiler.service.bodies import (
    query_bool,
    query_choice,
    query_int,
    read_json_object,
    read_update_patch,
    validate_model,
)
from compiler.service.error_responses import request_id_of
from compiler.service.guard import access_of, author_of, principal_of, visible_tenants
from compiler.service.openapi import ApiRoute, QueryParam, RouteDoc
from compiler.service.read_model import TenantReadModel
from compiler.service.replies import (
    cached_reply,
    debug_enabled,
    debug_info,
    json_bytes,
    json_reply,
    timed,
)
from compiler.service.schemas import (
    TENANT_STATUSES,
    CalculateResult,
    DeleteResult,
    Resources,
    TenantCreated,
    TenantDetail,
    TenantList,
    TenantUpdate,
    TenantUpdated,
)
from compiler.service.state import is_demo, workspace_for
from compiler.service.tenant_views import (
    ListQuery,
    detail_complete,
    detail_version,
    list_answer,
    quota_of,
    tenant_detail,
)
from compiler.service.tenant_writes import WriteIntent
from compiler.sizing import calculate, plan_tenant
from compiler.sizing.deployment_time import nominal_deployment_time
from compiler.spec.ids import RESERVED_IDS, check_tenant_id
from compiler.spec.loader import spec_from_mapping
from compiler.spec.models import PRESETS, CalculateRequest, TenantSpec

MAX_PAGE = 1000
# The reference's delete answer; namespace deletion waits for pods to terminate after the sync.
DELETE_MESSAGE = "테넌트 삭제가 시작되었습니다"
DELETE_ESTIMATE = "5-10 minutes"


def _tenant_id(request: Request) -> str:
    value = request.path_params["tenant_id"]
    if value in RESERVED_IDS:
        # /tenants/calculate-resources is its own route: other methods on it are not a tenant's.
        raise HTTPException(405)
    return check_tenant_id(value)


def _estimated(read: TenantReadModel, entry: Mapping[str, Any]) -> tuple[Resources, str, str]:
    resources = quota_of(entry, read.catalogue())
    return resources, str(entry.get("estimated_cost", "")), _deployment_time(read, entry)


def _deployment_time(read: TenantReadModel, entry: Mapping[str, Any]) -> str:
    """The compile's figure for this plan (sizing/deployment_time.py, kept in the index entry);
    an entry written before it existed gets its tier's nominal figure, labelled as such."""
    derived = entry.get("deployment_time")
    if isinstance(derived, str) and derived:
        return derived
    tier = read.catalogue().tiers.get(str(entry.get("preset", "")))
    return nominal_deployment_time(tier.name, tier.deployment_time) if tier else "unknown"


def _explanation(read: TenantReadModel, spec: TenantSpec) -> list[str]:
    return list(plan_tenant(spec, read.catalogue(), explain=True).explanation)


async def get_tenants(request: Request) -> Response:
    ws = workspace_for(request)
    query = ListQuery(
        skip=query_int(request, "skip", 0, 0, 10**9),
        limit=query_int(request, "limit", 100, 1, MAX_PAGE),
        preset=query_choice(request, "preset", PRESETS, error=InvalidPreset),
        status=query_choice(request, "status", TENANT_STATUSES),
        visible=visible_tenants(request, ws),
    )
    with timed(request, "list"), ws.read.snapshot():
        answer = list_answer(ws, query, is_demo(request))
    return cached_reply(answer)


def _http_date(stamp: str | None) -> str | None:
    """ISO-8601 Z (the answers' dates) as an HTTP-date (RFC 9110 5.6.7)."""
    if not stamp:
        return None
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return format_datetime(moment, usegmt=True)


async def get_tenant(request: Request) -> Response:
    tenant_id = _tenant_id(request)
    ws = workspace_for(request)
    debug = debug_enabled(request)
    key = ("detail", tenant_id)
    entry = ws.read.index().get(tenant_id)
    sha = str(entry.get("manifest_sha256", "")) if entry is not None else ""
    if entry is not None and not ws.read.parsed(tenant_id, sha):
        # A first read parses the manifest in a worker thread, not on the event loop.
        await run_in_threadpool(ws.read.warm, tenant_id, sha)
    with timed(request, "detail"), ws.read.snapshot():
        # Real-mode answers are kept per data version (demo statuses move with the clock;
        # X-Debug answers carry this request's timings).
        version = None if debug or is_demo(request) else detail_version(ws, tenant_id)
        cached = ws.answers.get(key, version) if version is not None else None
        if cached is not None:
            return cached_reply(cached)
        # One committed state for the body, the ETag and Last-Modified: a batch being written
        # is not seen until it is published, then all of it is.
        record = ws.ledger.latest(tenant_id)
        detail = tenant_detail(
            ws, tenant_id, is_demo(request), record.deployment_id if record else None
        )
        spec_file = ws.read.spec_file(tenant_id)
        complete = detail_complete(ws, tenant_id)
    headers = {"ETag": spec_file.etag} if spec_file else {}
    modified = _http_date(detail.updated_at)
    if modified:
        headers["Last-Modified"] = modified
    if debug:
        detail = detail.model_copy(update={"debug": debug_info(request)})
        return json_reply(detail, headers=headers)
    answer = CachedAnswer(json_bytes(detail), headers)
    # Kept only when nothing moved while it was built (a write landing meanwhile is not cached).
    if version is not None and complete:
        with ws.read.snapshot():
            if detail_version(ws, tenant_id, fresh=True) == version:
                ws.answers.put(key, version, answer)
    return cached_reply(answer)


async def create_tenant(request: Request) -> Response:
    ws = workspace_for(request)
    body = await read_json_object(request)
    spec = spec_from_mapping(body)  # 422 before queueing; sizing is checked by the writer
    access_of(request).check_create(principal_of(request), spec.tenant_id, spec.labels, body)
    with timed(request, "create"):
        outcome = await ws.writer.submit(
            WriteIntent(
                "create",
                spec.tenant_id,
                body,
                request_id=request_id_of(request),
                author=author_of(request),
            )
        )
    resources, cost, deployment_time = _estimated(ws.read, outcome.entry)
    debug = None
    if debug_enabled(request):
        debug = debug_info(request, explanation=_explanation(ws.read, spec))
    answer = TenantCreated(
        tenant_id=outcome.tenant_id,
        status="pending",
        deployment_id=outcome.deployment_id,
        estimated_resources=resources,
        estimated_cost=cost,
        deployment_time=deployment_time,
        created_at=outcome.at,
        debug=debug,
    )
    headers = {"Location": f"/api/v1/tenants/{outcome.tenant_id}"}
    if outcome.etag:
        headers["ETag"] = outcome.etag
    return json_reply(answer, status=201, headers=headers)


async def update_tenant(request: Request) -> Response:
    tenant_id = _tenant_id(request)
    ws = workspace_for(request)
    patch = await read_update_patch(request, tenant_id)
    access_of(request).check_update(principal_of(request), tenant_id, patch)
    with timed(request, "update"):
        outcome = await ws.writer.submit(
            WriteIntent(
                "update",
                tenant_id,
                patch,
                if_match=request.headers.get("if-match"),
                request_id=request_id_of(request),
                author=author_of(request),
            )
        )
    resources, cost, deployment_time = _estimated(ws.read, outcome.entry)
    answer = TenantUpdated(
        tenant_id=tenant_id,
        status="pending",
        deployment_id=outcome.deployment_id,
        estimated_resources=resources,
        estimated_cost=cost,
        deployment_time=deployment_time,
        updated_at=outcome.at,
        debug=debug_info(request, changed=outcome.changed),
    )
    return json_reply(answer, headers={"ETag": outcome.etag} if outcome.etag else None)


def _deletion_id(deployment_id: str | None) -> str | None:
    return None if deployment_id is None else "del-" + deployment_id.removeprefix("dep-")


async def delete_tenant(request: Request) -> Response:
    tenant_id = _tenant_id(request)
    ws = workspace_for(request)
    force = query_bool(request, "force", False)
    with timed(request, "delete"):
        # A write still running for this tenant would race the removal; force waits for it.
        outcome = await ws.writer.submit(
            WriteIntent(
                "delete",
                tenant_id,
                if_match=request.headers.get("if-match"),
                request_id=request_id_of(request),
                author=author_of(request),
            ),
            refuse_if_busy=not force,
        )
    return json_reply(
        DeleteResult(
            message=DELETE_MESSAGE,
            # The reference's "del-…": the same deploy-repo commit as the deployment record.
            deletion_id=_deletion_id(outcome.deployment_id),
            estimated_time=DELETE_ESTIMATE,
            tenant_id=tenant_id,
        )
    )


async def calculate_resources(request: Request) -> Response:
    ws = workspace_for(request)
    calc_request = validate_model(CalculateRequest, await read_json_object(request))
    with timed(request, "calculate"):
        result = calculate(calc_request, ws.read.catalogue(), explain=debug_enabled(request))
    body = result.to_response()
    if debug_enabled(request):
        body["debug"] = debug_info(request, explanation=result.explanation)
    return json_reply(CalculateResult.model_validate(body))


_TENANT_QUERY = (
    QueryParam("skip", "integer", "Items to skip", 0, minimum=0, maximum=10**9),
    QueryParam(
        "limit", "integer", "Items to return (at most 1000)", 100, minimum=1, maximum=MAX_PAGE
    ),
    QueryParam("preset", description="Preset filter", enum=PRESETS),
    QueryParam("status", description="Status filter", enum=TENANT_STATUSES),
)


def routes() -> list[BaseRoute]:
    # The reference's paths end in "/"; the bare form answers too (hidden from the schema).
    collection: list[BaseRoute] = []
    for path, listed in (("/api/v1/tenants/", True), ("/api/v1/tenants", False)):
        collection.append(
            ApiRoute(
                path,
                get_tenants,
                methods=["GET"],
                doc=RouteDoc("List tenants", response=TenantList, query=_TENANT_QUERY),
                include_in_schema=listed,
            )
        )
        collection.append(
            ApiRoute(
                path,
                create_tenant,
                methods=["POST"],
                doc=RouteDoc(
                    "Create a tenant", request=TenantSpec, response=TenantCreated, status=201
                ),
                include_in_schema=listed,
            )
        )
    # The detail read right after the list read: the router tries routes in order, and these
    # two are most of the traffic. A POST to calculate-resources only half-matches the detail
    # (the method), so the router goes on to its own route; a GET of it is the 405 as before.
    detail = ApiRoute(
        "/api/v1/tenants/{tenant_id}",
        get_tenant,
        methods=["GET"],
        doc=RouteDoc("Get tenant details (ETag: the spec's content hash)", response=TenantDetail),
    )
    return [
        collection[0],
        detail,
        *collection[1:],
        ApiRoute(
            "/api/v1/tenants/calculate-resources",
            calculate_resources,
            methods=["POST"],
            doc=RouteDoc("Calculate resources", request=CalculateRequest, response=CalculateResult),
        ),
        ApiRoute(
            "/api/v1/tenants/{tenant_id}",
            update_tenant,
            methods=["PUT"],
            doc=RouteDoc(
                "Update a tenant (partial; comments in the spec survive)",
                request=TenantUpdate,
                response=TenantUpdated,
                headers=("If-Match",),
            ),
        ),
        ApiRoute(
            "/api/v1/tenants/{tenant_id}",
            delete_tenant,
            methods=["DELETE"],
            doc=RouteDoc(
                "Delete a tenant",
                response=DeleteResult,
                headers=("If-Match",),
                query=(QueryParam("force", "boolean", "Delete even while publishing", False),),
            ),
        ),
    ]

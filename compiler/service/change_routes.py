"""What changes did and would do: a tenant's commit history with compiled deltas, and the dry run
of an edit.

GET  /api/v1/tenants/{tenant_id}/history?limit=   commits of the workspace repo that touched the
     tenant, each with its committed output's resources and deltas (publishing.output_history).
POST /api/v1/tenants/{tenant_id}/preview          the PUT body, compiled in memory: deltas and the
     manifest's unified diff, nothing written (tenant_preview). If-Match as for PUT.
Thin handlers; the numbers come from the compiled output and the pipeline's own build.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from compiler.errors import TenantNotFound
from compiler.publishing.output_history import MAX_COMMITS, OutputHistory, output_history
from compiler.service.bodies import query_int, read_update_patch
from compiler.service.guard import access_of, principal_of
from compiler.service.openapi import ApiRoute, QueryParam, RouteDoc
from compiler.service.replies import json_reply
from compiler.service.schemas import TenantUpdate
from compiler.service.state import workspace_for
from compiler.service.tenant_preview import Preview, preview_update
from compiler.spec.ids import check_tenant_id


async def get_history(request: Request) -> Response:
    tenant_id = check_tenant_id(request.path_params["tenant_id"])
    ws = workspace_for(request)
    limit = query_int(request, "limit", 50, 1, MAX_COMMITS)
    if ws.read.spec_file(tenant_id) is None:
        raise TenantNotFound(f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id})
    history = await run_in_threadpool(output_history, ws.settings, tenant_id, limit=limit)
    return json_reply(history)


async def post_preview(request: Request) -> Response:
    tenant_id = check_tenant_id(request.path_params["tenant_id"])
    ws = workspace_for(request)
    patch = await read_update_patch(request, tenant_id)
    # The editor policy judges a preview as it would judge the write: no preview of a refusal.
    access_of(request).check_update(principal_of(request), tenant_id, patch)
    preview = await run_in_threadpool(
        preview_update, ws, tenant_id, patch, request.headers.get("if-match")
    )
    return json_reply(preview)


def routes() -> list[BaseRoute]:
    return [
        ApiRoute(
            "/api/v1/tenants/{tenant_id}/history",
            get_history,
            methods=["GET"],
            doc=RouteDoc(
                "Deployment history: the tenant's commits with their compiled resource and cost "
                "deltas",
                response=OutputHistory,
                query=(QueryParam("limit", "integer", f"Commits to return (1-{MAX_COMMITS})", 50),),
            ),
        ),
        ApiRoute(
            "/api/v1/tenants/{tenant_id}/preview",
            post_preview,
            methods=["POST"],
            doc=RouteDoc(
                "Preview an update (dry run): deltas and the manifest diff, nothing written",
                request=TenantUpdate,
                response=Preview,
                headers=("If-Match",),
            ),
        ),
    ]

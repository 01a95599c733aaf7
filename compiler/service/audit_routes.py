"""GET /api/v1/audit?tenant_id=&since=&principal=: who changed what and when, and refused attempts.

An admin sees everything; others see the changes and refusals of the tenants in their scope.
A thin handler over compiler.access.history.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from compiler.access.history import AuditQuery, audit_trail
from compiler.service.guard import access_of, visible_tenants
from compiler.service.openapi import ApiRoute, QueryParam, RouteDoc
from compiler.service.state import workspace_for
from compiler.spec.ids import check_tenant_id


async def get_audit(request: Request) -> Response:
    ws = workspace_for(request)
    raw_tenant = request.query_params.get("tenant_id")
    query = AuditQuery(
        tenant_id=check_tenant_id(raw_tenant) if raw_tenant else None,
        since=request.query_params.get("since") or None,
        principal=request.query_params.get("principal") or None,
    )
    visible = visible_tenants(request, ws)
    body = await run_in_threadpool(
        audit_trail, ws.settings, access_of(request).audit, query, visible
    )
    return JSONResponse(body)


def routes() -> list[BaseRoute]:
    return [
        ApiRoute(
            "/api/v1/audit",
            get_audit,
            methods=["GET"],
            doc=RouteDoc(
                "Audit trail: changes from git history and refused attempts",
                query=(
                    QueryParam("tenant_id", description="Only this tenant"),
                    QueryParam("since", description="ISO-8601 time"),
                    QueryParam("principal", description="e.g. token:ci-bot or oidc:alice"),
                ),
            ),
        )
    ]

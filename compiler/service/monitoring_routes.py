"""Monitoring API: metrics ingest and queries, recent alerts, system capacity.

app.py mounts `routes(state)`; the first of the monitoring modules to be mounted creates the one
MonitoringService (monitoring_service(state)) and registers its maintenance task and shutdown on
the AppState hooks. Handlers only parse HTTP and call the service in a worker thread; errors are
OrchestratorErrors for app.py's one error mapper.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from compiler.errors import PayloadTooLarge
from compiler.monitoring import MonitoringQuery, MonitoringService, MonitoringSpace
from compiler.service.bodies import check_json_content_type, parse_json, query_int, read_body
from compiler.service.guard import visible_tenants
from compiler.service.state import AppState, is_demo, workspace_for

_SLOT = "monitoring"
# A batch of 10,000 samples with all nine metrics is ~2.5 MB of JSON; the general 1 MiB API limit
# would cap batches near 4,000, so ingest gets its own limit. Larger is refused while streaming.
INGEST_BODY_LIMIT = 4 * 1024 * 1024


def monitoring_service(state: AppState) -> MonitoringService:
    """The app's MonitoringService, created with its lifespan hooks on first use.

    Kept in the AppState instance's own attributes (not a module global) so each app built by
    create_app has its own store, engine and hub.
    """
    slots = vars(state)
    service = slots.get(_SLOT)
    if isinstance(service, MonitoringService):
        return service
    service = MonitoringService(state.settings, cluster=state.real.cluster)
    slots[_SLOT] = service
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        tasks.append(asyncio.create_task(service.maintain_forever()))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        service.close()

    state.startup.append(start)
    state.shutdown.append(stop)
    return service


def _text_query(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value if value else None


class MonitoringEndpoints:
    def __init__(self, service: MonitoringService) -> None:
        self.service = service

    async def _space(self, request: Request) -> MonitoringSpace:
        """The request's space; only the first call, which opens the SQLite file, goes to a
        worker thread."""
        demo = is_demo(request)
        space = self.service.opened(demo)
        if space is None:
            space = await run_in_threadpool(self.service.space, demo)
        return space

    async def monitoring(self, request: Request) -> Response:
        """GET: bucketed series and summary. POST: store one sample or a batch of samples."""
        space = await self._space(request)
        tenant_id = request.path_params["tenant_id"]
        if request.method == "POST":
            check_json_content_type(request)
            try:
                raw = await read_body(request, INGEST_BODY_LIMIT)
            except PayloadTooLarge as exc:
                exc.details.setdefault("field", "body")
                raise
            body = parse_json(raw)
            result = await run_in_threadpool(space.ingest, tenant_id, body)
            return JSONResponse(result, status_code=201)
        query = MonitoringQuery(
            metric_type=_text_query(request, "metric_type"),
            hours=query_int(request, "hours", 24, 1, 24 * 365),
            interval=_text_query(request, "interval") or "5m",
        )
        # Built and serialised in the worker thread: a day at 1 m is ~13,000 points of JSON.
        return await run_in_threadpool(lambda: JSONResponse(space.query(tenant_id, query)))

    async def alerts(self, request: Request) -> Response:
        """Recent alerts of a tenant, newest first (the reference's alert fields)."""
        space = await self._space(request)
        limit = query_int(request, "limit", 100, 1, 1000)
        hours = query_int(request, "hours", 24, 1, 24 * 365)
        body: dict[str, Any] = await run_in_threadpool(
            space.recent_alerts, request.path_params["tenant_id"], limit, hours
        )
        return JSONResponse(body)

    async def system(self, request: Request) -> Response:
        """Cluster capacity, the compiled tenants' quotas and utilisation."""
        visible = visible_tenants(request, workspace_for(request))
        body = await run_in_threadpool(self.service.system, is_demo(request), visible)
        return JSONResponse(body)


def routes(state: AppState) -> list[BaseRoute]:
    endpoints = MonitoringEndpoints(monitoring_service(state))
    return [
        Route(
            "/api/v1/tenants/{tenant_id}/monitoring",
            endpoints.monitoring,
            methods=["GET", "POST"],
        ),
        Route("/api/v1/tenants/{tenant_id}/alerts", endpoints.alerts, methods=["GET"]),
        Route("/api/v1/monitoring/system", endpoints.system, methods=["GET"]),
    ]

"""GET /metrics: Prometheus text exposition of tenant gauges and the API's own request metrics.

`routes(state)` serves the MonitoringService's registry; `RequestMetricsMiddleware` (added by
app.py inside the request-context middleware) counts every HTTP request by method, route template
and status, and times it. No X-Demo-Mode needed: a Prometheus scraper sends no custom headers.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compiler.monitoring import MonitoringService
from compiler.service.monitoring_routes import monitoring_service
from compiler.service.state import AppState


def routes(state: AppState) -> list[BaseRoute]:
    service = monitoring_service(state)

    async def metrics(request: Request) -> Response:
        """The Prometheus text exposition format, as prometheus_client's CONTENT_TYPE_LATEST."""
        body = await run_in_threadpool(service.exposition.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics, methods=["GET"])]


def _service_of(scope: Scope) -> MonitoringService | None:
    app = scope.get("app")
    state = getattr(getattr(app, "state", None), "ecp", None)
    return monitoring_service(state) if isinstance(state, AppState) else None


# Every label value comes from a fixed set, so no client can grow the exposition: methods outside
# this list count as OTHER, statuses by class (2xx ... 5xx), routes by template ("unmatched").
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in METHODS else "OTHER"


def status_label(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status <= 599 else "5xx"


class RequestMetricsMiddleware:
    """Pure ASGI (no buffering). The route label is the matched path template, never the raw
    path, so tenant IDs in URLs do not turn into one time series each."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._service: MonitoringService | None = None  # the app's, found at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            service = self._service or _service_of(scope)
            self._service = service
            if service is not None:
                route = scope.get("route")
                template = str(getattr(route, "path", "unmatched"))
                service.exposition.observe_request(
                    method_label(scope["method"]),
                    template,
                    status_label(status),
                    time.perf_counter() - started,
                )

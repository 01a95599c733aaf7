"""OpenAPI descriptions of the routes the monitoring modules mount as plain Starlette routes.

Input: nothing. Output: MONITORING_DOCS, (path, method) -> RouteDoc, with pydantic models in the
reference's monitoring shapes; app.py hands it to openapi_routes. Descriptions only: the handlers
and their validation live in monitoring_routes.py and compiler.monitoring.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from compiler.service.openapi import QueryParam, RouteDoc


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class MetricsSample(_Doc):
    timestamp: str | None = Field(default=None, examples=["2024-01-20T14:30:00Z"])
    metrics: dict[str, float] = Field(
        description="cpu_usage, memory_usage, gpu_usage, network_in, network_out, storage_used, "
        "request_count, response_time, error_rate (short names cpu, memory ... also accepted)."
    )


class MetricsIngest(_Doc):
    """One sample (the reference's body) or {"samples": [...]} for a batch."""

    timestamp: str | None = None
    metrics: dict[str, float] | None = None
    samples: list[MetricsSample] | None = None


class Alert(_Doc):
    alert_id: str
    tenant_id: str
    severity: str
    type: str
    message: str
    metric: str
    current_value: float
    threshold: float
    timestamp: str


class MetricsAccepted(_Doc):
    tenant_id: str
    accepted: int
    alerts: list[Alert]


class Point(_Doc):
    timestamp: str
    value: float


class MonitoringData(_Doc):
    tenant_id: str
    time_range: dict[str, str]
    interval: str
    metrics: dict[str, list[Point]]
    summary: dict[str, float | None]


class AlertList(_Doc):
    tenant_id: str
    alerts: list[Alert]
    count: int


class SystemMetrics(_Doc):
    cluster_status: str
    total_tenants: int
    active_tenants: int
    total_resources: dict[str, Any]
    used_resources: dict[str, Any]
    utilization: dict[str, float]


_HOURS = QueryParam(
    "hours", "integer", "Time range in hours (1 to 8760)", 24, minimum=1, maximum=24 * 365
)
_MONITORING = "/api/v1/tenants/{tenant_id}/monitoring"

MONITORING_DOCS: dict[tuple[str, str], RouteDoc] = {
    (_MONITORING, "GET"): RouteDoc(
        "Get monitoring data (bucketed series and summary)",
        response=MonitoringData,
        query=(
            QueryParam(
                "metric_type",
                description="One metric",
                enum=("cpu", "memory", "gpu", "network", "storage"),
            ),
            _HOURS,
            QueryParam(
                "interval", description="Bucket size", default="5m", enum=("1m", "5m", "1h")
            ),
        ),
    ),
    (_MONITORING, "POST"): RouteDoc(
        "Send monitoring data (one sample or a batch; body up to 4 MiB)",
        request=MetricsIngest,
        response=MetricsAccepted,
        status=201,
    ),
    ("/api/v1/tenants/{tenant_id}/alerts", "GET"): RouteDoc(
        "Recent alerts of a tenant, newest first",
        response=AlertList,
        query=(
            QueryParam(
                "limit", "integer", "At most this many (1 to 1000)", 100, minimum=1, maximum=1000
            ),
            _HOURS,
        ),
    ),
    ("/api/v1/monitoring/system", "GET"): RouteDoc("Get system metrics", response=SystemMetrics),
}

"""Prometheus exposition: ingested tenant metrics as gauges and the API's own request metrics.

Input: stored samples (update_tenant) and finished HTTP requests (observe_request). Output: one
CollectorRegistry per service (never prometheus_client's global one, so two apps in one process
do not collide) that GET /metrics renders in the text exposition format.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from compiler.alerting import METRICS
from compiler.monitoring.samples import Sample

# Latency buckets from 1 ms to 5 s: the API's reads target p99 <= 25-50 ms, writes a few 100 ms.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Exposition:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._gauges = [Gauge(m.gauge, m.help, ["tenant"], registry=self.registry) for m in METRICS]
        self._scales = [m.gauge_scale for m in METRICS]
        self.samples_total = Counter(
            "ecp_monitoring_samples", "Metric samples accepted", ["tenant"], registry=self.registry
        )
        self.alerts_total = Counter(
            "ecp_monitoring_alerts",
            "Alerts raised",
            ["tenant", "severity"],
            registry=self.registry,
        )
        self.requests_total = Counter(
            "ecp_api_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "ecp_api_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )

    def update_tenant(self, tenant_id: str, samples: Sequence[Sample]) -> None:
        """Set each gauge to the newest value of the batch (a gauge is 'now', not history)."""
        newest: list[tuple[int, float] | None] = [None] * len(self._gauges)
        for sample in samples:
            for i, value in enumerate(sample.values):
                current = newest[i]
                if value is not None and (current is None or sample.ts_ms >= current[0]):
                    newest[i] = (sample.ts_ms, value)
        for gauge, scale, latest in zip(self._gauges, self._scales, newest, strict=True):
            if latest is not None:
                gauge.labels(tenant=tenant_id).set(latest[1] * scale)
        self.samples_total.labels(tenant=tenant_id).inc(len(samples))

    def count_alert(self, tenant_id: str, severity: str) -> None:
        self.alerts_total.labels(tenant=tenant_id, severity=severity).inc()

    def observe_request(self, method: str, route: str, status: str, seconds: float) -> None:
        """`method`, `route` and `status` (a class, 2xx ... 5xx) come from bounded sets only."""
        self.requests_total.labels(method=method, route=route, status=status).inc()
        self.request_seconds.labels(method=method, route=route).observe(seconds)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))

"""Prometheus exposition: ingested tenant metrics as gauges and the API's own request metrics.

Input: stored samples (update_tenant) and finished HTTP requests (observe_request). Output: one
CollectorRegistry per service (never prometheus_client's global one, so two apps in one process
do not collide) that GET /metrics renders in the text exposition format.

Each tenant gauge is its newest sample *with that sample's timestamp*: Prometheus then sees the
value at the time it was measured, and once no newer sample comes an instant query stops finding
it after the 5-minute lookback, so alerts resolve. (Re-stamping a stale value with the scrape time,
as a plain gauge does, kept a single cpu 99 firing for ever; dropping values after a timer of our
own would be a second, disagreeing notion of staleness.) An older sample never replaces a newer
one, and tenants whose spec is gone (`is_live` false) disappear from every family.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from compiler.alerting import METRICS
from compiler.monitoring.samples import Sample

# Latency buckets from 1 ms to 5 s: the API's reads target p99 <= 25-50 ms, writes a few 100 ms.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SEVERITIES = ("warning", "critical")


def _always(_tenant: str) -> bool:
    return True


class TenantGauges:
    """A collector: per tenant and metric the newest (ts_ms, value), exposed with its timestamp."""

    def __init__(self, is_live: Callable[[str], bool]) -> None:
        self._is_live = is_live
        self._lock = threading.Lock()
        self._newest: dict[str, list[tuple[int, float] | None]] = {}

    def update(self, tenant_id: str, samples: Sequence[Sample]) -> None:
        with self._lock:
            row = self._newest.setdefault(tenant_id, [None] * len(METRICS))
            for sample in samples:
                for i, value in enumerate(sample.values):
                    current = row[i]
                    if value is not None and (current is None or sample.ts_ms >= current[0]):
                        row[i] = (sample.ts_ms, value)

    def tenants(self) -> list[str]:
        with self._lock:
            return sorted(self._newest)

    def forget(self, tenant_id: str) -> None:
        with self._lock:
            self._newest.pop(tenant_id, None)

    def newest(self, tenant_id: str, index: int) -> tuple[int, float] | None:
        with self._lock:
            row = self._newest.get(tenant_id)
            return None if row is None else row[index]

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            rows = sorted(self._newest.items())
        live = [(tenant, row) for tenant, row in rows if self._is_live(tenant)]
        for i, definition in enumerate(METRICS):
            family = GaugeMetricFamily(definition.gauge, definition.help, labels=["tenant"])
            for tenant, row in live:
                latest = row[i]
                if latest is not None:
                    family.add_metric(
                        [tenant], latest[1] * definition.gauge_scale, timestamp=latest[0] / 1000
                    )
            yield family


class Exposition:
    def __init__(
        self, is_live: Callable[[str], bool] = _always, *, export_gauges: bool = True
    ) -> None:
        self._is_live = is_live
        self.registry = CollectorRegistry(auto_describe=True)
        self.gauges = TenantGauges(is_live)
        if export_gauges:
            self.registry.register(self.gauges)
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
        self._request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def update_tenant(self, tenant_id: str, samples: Sequence[Sample]) -> None:
        """Keep each gauge's newest sample; an older (late) sample never replaces it."""
        self.gauges.update(tenant_id, samples)
        self.samples_total.labels(tenant=tenant_id).inc(len(samples))

    def count_alert(self, tenant_id: str, severity: str) -> None:
        self.alerts_total.labels(tenant=tenant_id, severity=severity).inc()

    def forget_tenant(self, tenant_id: str) -> None:
        """A deleted tenant leaves /metrics whole: gauges and its per-tenant counters."""
        self.gauges.forget(tenant_id)
        for counter, labels in (
            (self.samples_total, [(tenant_id,)]),
            (self.alerts_total, [(tenant_id, s) for s in _SEVERITIES]),
        ):
            for values in labels:
                with contextlib.suppress(KeyError):
                    counter.remove(*values)

    def observe_request(self, method: str, route: str, status: str, seconds: float) -> None:
        """`method`, `route` and `status` (a class, 2xx ... 5xx) come from bounded sets only,
        so their children are looked up once (labels() validates and locks on every call; the
        request series are never removed)."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests_total.labels(method=method, route=route, status=status),
                self.request_seconds.labels(method=method, route=route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        for tenant in self.gauges.tenants():
            if not self._is_live(tenant):
                self.forget_tenant(tenant)
        return bytes(generate_latest(self.registry))

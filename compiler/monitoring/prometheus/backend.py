"""The reference's monitoring answers from Prometheus, and samples into it by remote-write.

Input: a PrometheusClient, tenant scopes (queries.TenantScope) and checked MonitoringQuery-like
windows. Output: bucketed series and summaries shaped exactly like the SQLite store's rows (so the
space builds one answer for both backends), latest values, and alert bodies from /api/v1/alerts
for the rules we render. No state of its own besides the client.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any

from compiler.alerting import METRICS, AlertRules, alert_id_for
from compiler.monitoring.prometheus import queries
from compiler.monitoring.prometheus.client import PrometheusClient, number
from compiler.monitoring.prometheus.queries import TenantScope
from compiler.monitoring.prometheus.remote_write import tenant_series, write_request
from compiler.monitoring.samples import Sample, iso_z

_SEVERITY_ORDER = {"critical": 0, "warning": 1}


_BY_SHORT = {m.short: m for m in METRICS}


def _parse_ms(stamp: str) -> int:
    """Prometheus's RFC 3339 times (nanoseconds are cut to microseconds) as epoch ms."""
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


class PrometheusBackend:
    def __init__(self, client: PrometheusClient, rules: AlertRules) -> None:
        self.client = client
        self.rules = rules
        # A GET's range and summary queries go out together (window()): Prometheus evaluates
        # them on its own cores while this side waits once, not twice.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ecp-prometheus")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def write(self, tenant_id: str, samples: Sequence[Sample]) -> None:
        series = tenant_series(tenant_id, samples)
        if series:
            self.client.remote_write(write_request(series))

    def with_present_series(self, scope: TenantScope, start_ms: int, end_ms: int) -> TenantScope:
        """The scope knowing which cluster series its namespace has in the window, so queries
        skip (costly) subqueries over series that do not exist."""
        present = self.client.series_names(scope.series_selector(), start_ms, end_ms)
        return replace(scope, present=present)

    def buckets(
        self,
        scope: TenantScope,
        metrics: Sequence[str],
        start_ms: int,
        end_ms: int,
        interval_ms: int,
    ) -> list[tuple[Any, ...]]:
        """(bucket_start_ms, avg per metric...) for every bucket with data, in time order: the
        store's buckets() rows. One query_range for all metrics."""
        first = start_ms // interval_ms * interval_ms
        last = (end_ms - 1) // interval_ms * interval_ms
        expr = queries.combined(
            {m: queries.over_time("avg", m, scope, interval_ms) for m in metrics}
        )
        result = self.client.query_range(
            expr, first + interval_ms - 1, last + interval_ms - 1, interval_ms
        )
        rows: dict[int, list[float | None]] = {}
        column = {m: i for i, m in enumerate(metrics)}
        for series in result:
            index = column.get(series.get("metric", {}).get("metric", ""))
            if index is None:
                continue
            for stamp, value in series.get("values", []):
                bucket = round(float(stamp) * 1000) + 1 - interval_ms
                row = rows.get(bucket)
                if row is None:
                    row = rows[bucket] = [None] * len(metrics)
                parsed = float(value)  # number(), inline: 1,440 x 9 values a day at 1 m
                row[index] = parsed if math.isfinite(parsed) else None
        return [(b, *rows[b]) for b in sorted(rows)]

    def window(
        self,
        scope: TenantScope,
        metrics: Sequence[str],
        start_ms: int,
        end_ms: int,
        interval_ms: int,
    ) -> tuple[list[tuple[Any, ...]], dict[str, tuple[float | None, float | None]]]:
        """buckets() and summary() of one answer, both queries in flight at once."""
        summary = self._pool.submit(self.summary, scope, metrics, start_ms, end_ms)
        try:
            rows = self.buckets(scope, metrics, start_ms, end_ms, interval_ms)
        except BaseException:
            summary.cancel()
            raise
        return rows, summary.result()

    def summary(
        self, scope: TenantScope, metrics: Sequence[str], start_ms: int, end_ms: int
    ) -> dict[str, tuple[float | None, float | None]]:
        """metric -> (average, maximum) over [start, end): one instant query for all of them."""
        window = end_ms - start_ms
        exprs = {}
        for m in metrics:
            exprs[f"avg:{m}"] = queries.over_time("avg", m, scope, window)
            exprs[f"max:{m}"] = queries.over_time("max", m, scope, window)
        found: dict[str, float | None] = {}
        for series in self.client.query(queries.combined(exprs), end_ms - 1):
            name = series.get("metric", {}).get("metric", "")
            found[name] = number(series["value"][1])
        return {m: (found.get(f"avg:{m}"), found.get(f"max:{m}")) for m in metrics}

    def latest(
        self, scope: TenantScope, metrics: Sequence[str], now_ms: int
    ) -> dict[str, tuple[int, float]]:
        expr = queries.combined({m: queries.latest(m, scope) for m in metrics})
        out: dict[str, tuple[int, float]] = {}
        for series in self.client.query(expr, now_ms):
            value = number(series["value"][1])
            name = series.get("metric", {}).get("metric", "")
            if value is not None and name in metrics:
                out[name] = (round(float(series["value"][0]) * 1000), value)
        return out

    def reporting_tenants(self, window_ms: int, now_ms: int) -> set[str]:
        """Tenants with any of our gauges sampled in the last window_ms."""
        expr = f'count by (tenant) (last_over_time({{__name__=~"ecp_tenant_.+"}}[{window_ms}ms]))'
        return {
            str(series["metric"]["tenant"])
            for series in self.client.query(expr, now_ms)
            if series.get("metric", {}).get("tenant")
        }

    def alerts(self, tenant_id: str, limit: int) -> list[dict[str, Any]]:
        """Firing alerts of our rules (alertname Ecp*, labelled with the tenant), in the
        reference's alert shape, newest first."""
        out: list[dict[str, Any]] = []
        for alert in self.client.alerts():
            labels = alert.get("labels", {})
            annotations = alert.get("annotations", {})
            if (
                labels.get("tenant") != tenant_id
                or alert.get("state") != "firing"
                or not str(labels.get("alertname", "")).startswith("Ecp")
            ):
                continue
            definition = _BY_SHORT.get(str(labels.get("metric", "")))
            rule = self.rules.for_metric(definition.name) if definition else None
            if definition is None or rule is None:
                continue
            # Fired `for` after it turned active: the time our engine stamps the same alert
            # with (and so the same alert_id) when samples come at the evaluation interval.
            fired_ms = _parse_ms(str(alert.get("activeAt"))) + rule.for_ms
            severity = str(labels.get("severity", "warning"))
            value = number(str(alert.get("value", "nan")))
            out.append(
                {
                    "alert_id": alert_id_for(tenant_id, definition.name, fired_ms, severity),
                    "tenant_id": tenant_id,
                    "severity": severity,
                    "type": str(labels.get("type", "")),
                    "message": str(annotations.get("summary", "")),
                    "metric": definition.short,
                    "current_value": None if value is None else value / definition.gauge_scale,
                    "threshold": number(str(annotations.get("threshold", "nan"))),
                    "timestamp": iso_z(fired_ms),
                    "source": "prometheus",
                }
            )
        out.sort(
            key=lambda a: (a["timestamp"], -_SEVERITY_ORDER.get(a["severity"], 2)), reverse=True
        )
        return out[:limit]

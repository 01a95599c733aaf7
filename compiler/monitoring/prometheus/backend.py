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
from itertools import groupby
from typing import Any

from compiler.alerting import METRICS, AlertRules, alert_id_for
from compiler.monitoring.prometheus import queries
from compiler.monitoring.prometheus.client import PrometheusClient, number
from compiler.monitoring.prometheus.queries import TenantScope
from compiler.monitoring.prometheus.remote_write import tenant_series, write_request
from compiler.monitoring.samples import Sample, iso_z

_SEVERITY_ORDER = {"critical": 0, "warning": 1}


_BY_SHORT = {m.short: m for m in METRICS}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# One series' (bucket start ms, mean) per bucket with samples, and (mean, max) over the window.
_SeriesWindow = tuple[list[tuple[int, float]], tuple[float, float]]


def _across_series(parts: list[list[tuple[int, float]]]) -> list[tuple[int, float]]:
    """Per bucket, the average across series of their means (PromQL's avg aggregation)."""
    if len(parts) == 1:
        return parts[0]
    grouped: dict[int, list[float]] = {}
    for part in parts:
        for bucket, mean in part:
            grouped.setdefault(bucket, []).append(mean)
    return [(bucket, sum(means) / len(means)) for bucket, means in sorted(grouped.items())]


def _series_window(values: list[list[Any]], interval_ms: int) -> _SeriesWindow:
    """One series' raw [seconds, "value"] pairs (time-ordered, as Prometheus answers them) to
    (bucket start ms, mean) per bucket holding samples, and (mean, max) over all of them; max
    as max_over_time takes it (NaN only when every value is). Column-wise, since a day at 1 m
    is 1,440 pairs per series and a loop per sample cost ~2 us each."""
    stamps, texts = zip(*values, strict=True)
    numbers = list(map(float, texts))
    keys = [round(stamp * 1000) // interval_ms for stamp in stamps]
    means: list[tuple[int, float]] = []
    if len(set(keys)) == len(keys):  # a sample per bucket (1/min at 1 m): each is its mean
        means = [(key * interval_ms, value) for key, value in zip(keys, numbers, strict=True)]
    position = 0
    for key, group in groupby(keys if not means else ()):
        count = sum(1 for _ in group)
        means.append((key * interval_ms, sum(numbers[position : position + count]) / count))
        position += count
    total = sum(numbers)
    # no NaN among them (a NaN makes the sum NaN): max() as is; else the largest number
    peak = max(numbers) if total == total else max((v for v in numbers if v == v), default=math.nan)
    return means, (total / len(numbers), peak)


def _merged(
    metrics: Sequence[str], *parts: tuple[Sequence[str], list[tuple[Any, ...]]]
) -> list[tuple[Any, ...]]:
    """One row per bucket over all `metrics`, from rows that each hold some of them."""
    if len(parts) == 2 and not parts[0][0]:
        return parts[1][1]
    if len(parts) == 2 and not parts[1][0]:
        return parts[0][1]
    position = {m: i for i, m in enumerate(metrics)}
    rows: dict[int, list[Any]] = {}
    for names, part in parts:
        for bucket, *values in part:
            row = rows.get(bucket)
            if row is None:
                row = rows[bucket] = [None] * len(metrics)
            for name, value in zip(names, values, strict=True):
                row[position[name]] = value
    return [(b, *rows[b]) for b in sorted(rows)]


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
        """buckets() and summary() of one answer. Metrics read from the cluster's series go
        through PromQL (a range and an instant query); the tenant's own gauges are read as raw
        samples (own_window) in one more query; all of them in flight at once."""
        own = [m for m in metrics if queries.cluster_expr(m, scope) is None]
        cluster = [m for m in metrics if m not in own]
        raw = (
            self._pool.submit(self.own_window, scope, own, start_ms, end_ms, interval_ms)
            if own
            else None
        )
        summary = (
            self._pool.submit(self.summary, scope, cluster, start_ms, end_ms) if cluster else None
        )
        try:
            cluster_rows = (
                self.buckets(scope, cluster, start_ms, end_ms, interval_ms) if cluster else []
            )
            own_rows, summaries = raw.result() if raw is not None else ([], {})
            if summary is not None:
                summaries = {**summaries, **summary.result()}
        except BaseException:
            for future in (raw, summary):
                if future is not None:
                    future.cancel()
            raise
        rows = _merged(metrics, (cluster, cluster_rows), (own, own_rows))
        return rows, {m: summaries[m] for m in metrics}  # in the store's (columns') order

    def own_window(
        self,
        scope: TenantScope,
        metrics: Sequence[str],
        start_ms: int,
        end_ms: int,
        interval_ms: int,
    ) -> tuple[list[tuple[Any, ...]], dict[str, tuple[float | None, float | None]]]:
        """buckets() and summary() of the tenant's own gauges from their raw samples: one
        instant query of a range selector over [start, end) answers them as stored, and they
        are bucketed here as the SQLite store buckets them (ts // interval). Evaluating
        avg_over_time at every step of a day at 1 m, once per metric, cost Prometheus ~3 ms of
        CPU per metric (label_replace and `or` per step: 28 ms for nine) where the raw read
        costs ~1 ms for all (bench/bench_prometheus.py). Prometheus's semantics are kept: a
        gauge exported by several series is the average (max) across them of each series'
        average (max), divided back to the reference's unit."""
        gauges = {queries.own_series_name(m): m for m in metrics}
        selector = f'{{__name__=~"{"|".join(sorted(gauges))}", tenant="{scope.tenant_id}"}}'
        # 2.42's range selector holds [t - range, t]: [start, end - 1], i.e. [start, end)
        at = end_ms - 1
        result = self.client.query(f"{selector}[{max(at - start_ms, 1)}ms]", at)
        found: dict[str, list[_SeriesWindow]] = {m: [] for m in metrics}
        for series in result:
            metric = gauges.get(series.get("metric", {}).get("__name__", ""))
            values = series.get("values")
            if metric is not None and values:
                found[metric].append(_series_window(values, interval_ms))
        per_window = {m: [window for _, window in found[m]] for m in metrics}
        # Column by column, in C-level loops (dict, zip, map): a day at 1 m is 1,440 buckets
        # per metric, where a loop over rows cost ~0.5 us per value.
        columns: list[dict[int, float | None]] = []
        for metric in metrics:
            averaged = _across_series([means for means, _ in found[metric]])
            buckets = [bucket for bucket, _ in averaged]
            scale = queries.gauge_scale(metric)
            scaled = (
                [mean / scale for _, mean in averaged]
                if scale != 1
                else [mean for _, mean in averaged]
            )
            column: list[float | None] = list(scaled)
            if not all(map(math.isfinite, scaled)):
                column = [_finite(v) for v in scaled]
            columns.append(dict(zip(buckets, column, strict=True)))
        order = sorted(set().union(*columns))
        rows = list(zip(order, *(map(by_bucket.get, order) for by_bucket in columns), strict=True))
        summary: dict[str, tuple[float | None, float | None]] = {}
        for metric in metrics:
            windows = per_window[metric]
            scale = queries.gauge_scale(metric)
            if not windows:
                summary[metric] = (None, None)
                continue
            peak = windows[0][1]
            for _, value in windows[1:]:
                if value > peak or peak != peak:  # the max aggregation, as max_over_time
                    peak = value
            mean = sum(avg for avg, _ in windows) / len(windows)
            summary[metric] = (_finite(mean / scale), _finite(peak / scale))
        return rows, summary

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

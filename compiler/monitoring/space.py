"""One monitoring space: the real workspace or the demo sandbox, each with its own store file.

Input: tenant IDs (checked, and present as <tenants_dir>/<id>.yaml), request bodies and query
parameters. Output: the reference's monitoring, alert and stream shapes. Ingest stores a batch and
its alerts in one transaction, then tells the hub (the alerts, and a wake-up on the tenant's samples
topic for its live streams) and the gauges. Demo spaces fill themselves from
the demo generator before they answer. Blocking: call from a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.alerting import METRICS
from compiler.errors import OrchestratorError, TenantNotFound, ValidationFailed
from compiler.monitoring.alerts import AlertEngine, alert_body
from compiler.monitoring.broadcast import Hub
from compiler.monitoring.compiled import CompiledIndex
from compiler.monitoring.demo import STEP_MS, demo_samples
from compiler.monitoring.exposition import Exposition
from compiler.monitoring.prometheus import PrometheusBackend
from compiler.monitoring.samples import Sample, iso_z, parse_samples
from compiler.monitoring.store import MetricsStore
from compiler.settings import Settings
from compiler.spec.ids import check_tenant_id
from compiler.spec.loader import load_spec_file
from compiler.spec.models import SlaTarget

INTERVALS_MS = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000}
METRIC_TYPES: dict[str, tuple[str, ...]] = {
    "cpu": ("cpu_usage",),
    "memory": ("memory_usage",),
    "gpu": ("gpu_usage",),
    "network": ("network_in", "network_out"),
    "storage": ("storage_used",),
}
SHORT = {m.name: m.short for m in METRICS}
BY_SHORT = {m.short: m.name for m in METRICS}
MAX_POINTS = 10_000  # per series: 1 week at 1m; more is a mistake, not a chart
DAY_MS = 86_400_000
DEMO_BACKFILL_MS = DAY_MS
DEFAULT_SLA_MS = SlaTarget().response_time_ms


@dataclass(frozen=True)
class MonitoringQuery:
    metric_type: str | None = None
    hours: int = 24
    interval: str = "5m"

    def checked(self) -> MonitoringQuery:
        if self.metric_type is not None and self.metric_type not in METRIC_TYPES:
            raise _bad("metric_type", f"must be one of {', '.join(METRIC_TYPES)}")
        if self.interval not in INTERVALS_MS:
            raise _bad("interval", f"must be one of {', '.join(INTERVALS_MS)}")
        if not 1 <= self.hours <= 24 * 365:
            raise _bad("hours", "must be an integer from 1 to 8760")
        if self.hours * 3_600_000 // INTERVALS_MS[self.interval] > MAX_POINTS:
            raise _bad(
                "interval", f"{self.hours} hours at {self.interval} exceeds {MAX_POINTS} points"
            )
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        if self.metric_type is None:
            return tuple(m.name for m in METRICS)
        return METRIC_TYPES[self.metric_type]


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", details={"field": field})


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


class MonitoringSpace:
    def __init__(
        self,
        name: str,
        settings: Settings,
        store: MetricsStore,
        engine: AlertEngine,
        hub: Hub,
        exposition: Exposition | None,
        clock: Callable[[], float],
        prometheus: PrometheusBackend | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.store = store
        self.engine = engine
        self.hub = hub
        self.exposition = exposition  # None for the demo space: demo data never reaches /metrics
        self.clock = clock
        self._ingest_lock = threading.Lock()
        self._sla_cache: dict[str, tuple[int, float]] = {}
        self.compiled = CompiledIndex(settings.output_dir / "index.json")
        # None: the SQLite store holds samples; else Prometheus does (alerts stay in the store).
        self.prometheus = prometheus

    @property
    def demo(self) -> bool:
        return self.settings.demo

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def alerts_topic(self, tenant_id: str) -> str:
        return f"alerts:{self.name}:{tenant_id}"

    def samples_topic(self, tenant_id: str) -> str:
        """Wake-ups for a tenant's /ws/monitoring streams: new samples are in the store."""
        return f"samples:{self.name}:{tenant_id}"

    def require_tenant(self, tenant_id: object) -> str:
        tenant = check_tenant_id(tenant_id)
        if not (self.settings.tenants_dir / f"{tenant}.yaml").is_file():
            raise TenantNotFound(f"tenant {tenant!r} does not exist", details={"tenant_id": tenant})
        return tenant

    def sla_response_time_ms(self, tenant_id: str) -> float:
        path = self.settings.tenants_dir / f"{tenant_id}.yaml"
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return DEFAULT_SLA_MS
        cached = self._sla_cache.get(tenant_id)
        if cached and cached[0] == mtime:
            return cached[1]
        try:
            value = load_spec_file(path).sla_target.response_time_ms
        except OrchestratorError:
            value = DEFAULT_SLA_MS  # a broken spec must not stop its metrics being stored
        self._sla_cache[tenant_id] = (mtime, value)
        return value

    def has_gpu(self, tenant_id: str) -> bool:
        """Whether the compiled plan gives the tenant GPU workloads: GPU alert rules apply only
        then, as in its PrometheusRule. Not compiled yet: True, so no GPU alert is missed."""
        known = self.compiled.has_gpu(tenant_id)
        return True if known is None else known

    # -- ingest ---------------------------------------------------------------------------------

    def ingest(self, tenant_id: str, body: Any) -> dict[str, Any]:
        tenant = self.require_tenant(tenant_id)
        now = self.now_ms()
        oldest = now - self.settings.metrics_retention_days * DAY_MS
        samples = parse_samples(body, now, oldest_ms=oldest)
        alerts = self.store_samples(tenant, samples)
        return {"tenant_id": tenant, "accepted": len(samples), "alerts": alerts}

    def store_samples(self, tenant: str, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        """Evaluate, store samples + alerts atomically, then announce the alerts."""
        sla = self.sla_response_time_ms(tenant)
        with self._ingest_lock:
            previous = None
            if not self.engine.knows(tenant):
                previous = self.store.latest(tenant, self.engine.watched_metrics)
            evaluation = self.engine.evaluate(
                tenant, samples, sla, previous, has_gpu=self.has_gpu(tenant)
            )
            if self.prometheus is None:
                self.store.write(tenant, samples, evaluation.alerts)
            else:
                # Prometheus takes the batch whole or refuses it; only then are alerts kept.
                self.prometheus.write(tenant, samples)
                self.store.write(tenant, (), evaluation.alerts)
            self.engine.commit(evaluation)
        bodies = [alert_body(a) for a in evaluation.alerts]
        for body in bodies:
            self.hub.publish(self.alerts_topic(tenant), body)
        if samples:
            self.hub.publish(self.samples_topic(tenant), {"newest": max(s.ts_ms for s in samples)})
        if self.exposition is not None:
            self.exposition.update_tenant(tenant, samples)
            for alert in evaluation.alerts:
                self.exposition.count_alert(tenant, alert.severity)
        return bodies

    def fill_demo(self, tenant: str) -> None:
        """Demo tenants: generate the minutes since the last stored sample (24 h at most)."""
        if not self.demo:
            return
        now = self.now_ms()
        latest = self.store.latest_ts(tenant)
        start = (
            now - DEMO_BACKFILL_MS if latest is None else max(latest + 1, now - DEMO_BACKFILL_MS)
        )
        if now - start < STEP_MS and latest is not None:
            return
        samples = demo_samples(tenant, start, now, self.sla_response_time_ms(tenant))
        if samples:
            self.store_samples(tenant, samples)

    # -- reads ----------------------------------------------------------------------------------

    def query(self, tenant_id: str, query: MonitoringQuery) -> dict[str, Any]:
        tenant = self.require_tenant(tenant_id)
        query = query.checked()
        self.fill_demo(tenant)
        end = self.now_ms()
        start = end - query.hours * 3_600_000
        columns = query.columns
        interval = INTERVALS_MS[query.interval]
        if self.prometheus is None:
            rows = self.store.buckets(tenant, columns, start, end, interval)
            summaries = self.store.summary(tenant, columns, start, end)
        else:
            scope = self.prometheus.with_present_series(self.compiled.scope(tenant), start, end)
            rows, summaries = self.prometheus.window(scope, columns, start, end, interval)
        metrics: dict[str, list[dict[str, Any]]] = {SHORT[c]: [] for c in columns}
        # Column by column (a day at 1 m is 1,440 rows x 9 metrics): the same lists, in row
        # order, as a row-by-row loop builds, at about half its cost.
        stamps = [iso_z(row[0]) for row in rows]
        for position, column in enumerate(columns, 1):
            append = metrics[SHORT[column]].append
            for stamp, row in zip(stamps, rows, strict=True):
                value = row[position]
                if value is not None:
                    append({"timestamp": stamp, "value": round(float(value), 4)})
        summary: dict[str, float | None] = {}
        for column, (avg, peak) in summaries.items():
            summary[f"avg_{SHORT[column]}"] = _round(avg)
            summary[f"max_{SHORT[column]}"] = _round(peak)
        return {
            "tenant_id": tenant,
            "time_range": {"start": iso_z(start), "end": iso_z(end)},
            "interval": query.interval,
            "metrics": metrics,
            "summary": summary,
        }

    def latest(self, tenant: str, shorts: Sequence[str]) -> dict[str, Any]:
        """The stream message: {timestamp, tenant_id, metrics: {short: newest value or None}}."""
        self.fill_demo(tenant)
        columns = [BY_SHORT[s] for s in shorts]
        if self.prometheus is None:
            found = self.store.latest(tenant, columns)
        else:
            found = self.prometheus.latest(self.compiled.scope(tenant), columns, self.now_ms())
        newest = max((ts for ts, _ in found.values()), default=None)
        return {
            "timestamp": iso_z(newest if newest is not None else self.now_ms()),
            "tenant_id": tenant,
            "metrics": {SHORT[c]: _round(found[c][1]) if c in found else None for c in columns},
        }

    def recent_alerts(self, tenant_id: str, limit: int = 100, hours: int = 24) -> dict[str, Any]:
        tenant = self.require_tenant(tenant_id)
        if not 1 <= limit <= 1000:
            raise _bad("limit", "must be an integer from 1 to 1000")
        if not 1 <= hours <= 24 * 365:
            raise _bad("hours", "must be an integer from 1 to 8760")
        self.fill_demo(tenant)
        if self.prometheus is not None:
            # Prometheus knows what fires now (for the rules we render), not a history.
            firing = self.prometheus.alerts(tenant, limit)
            return {"tenant_id": tenant, "alerts": firing, "count": len(firing)}
        since = self.now_ms() - hours * 3_600_000
        records = self.store.recent_alerts(tenant, limit, since)
        return {
            "tenant_id": tenant,
            "alerts": [alert_body(r) for r in records],
            "count": len(records),
        }

"""MonitoringService: the store, alert engine, hub and gauges the API shell holds for its life.

For app.py (the API shell):
    service = MonitoringService(settings)          # in the lifespan, before serving
    app.state.monitoring = service
    task = asyncio.create_task(service.maintain_forever())   # retention + downsampling
    ...; task.cancel(); service.close()             # at shutdown
Routes then call service.space(demo) (blocking: from a worker thread). Stores open lazily, so an
unwritable database path surfaces as 503 MONITORING_UNAVAILABLE on use, not as a failed start.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from compiler.alerting import AlertRules, load_alert_rules
from compiler.cluster import ClusterReader, cluster_capacity
from compiler.errors import OrchestratorError
from compiler.monitoring.alerts import AlertEngine
from compiler.monitoring.broadcast import Hub
from compiler.monitoring.deployments import DeploymentFeed
from compiler.monitoring.exposition import Exposition
from compiler.monitoring.prometheus import PrometheusBackend, PrometheusClient
from compiler.monitoring.space import DAY_MS, MonitoringSpace
from compiler.monitoring.store import MetricsStore
from compiler.monitoring.system import system_metrics
from compiler.settings import Settings

log = logging.getLogger("ecp.monitoring")
# Our tenants' ResourceQuotas carry the common labels rendering gives every object.
MANAGED_SELECTOR = "app.kubernetes.io/managed-by=ecp-orchestrator"
# Raw samples are kept 48 h: the default 24 h query at 1m resolution always reads raw data.
RAW_HOURS = 48
REPORTING_WINDOW_MS = 10 * 60_000  # "active": sent metrics in the last ten minutes


class MonitoringService:
    def __init__(
        self,
        settings: Settings,
        *,
        rules: AlertRules | None = None,
        raw_hours: int = RAW_HOURS,
        max_queue: int = 256,
        clock: Callable[[], float] = time.time,
        cluster: ClusterReader | None = None,
    ) -> None:
        self.settings = settings.model_copy(update={"demo": False}) if settings.demo else settings
        self.rules = rules if rules is not None else load_alert_rules(settings.presets_dir)
        self.raw_hours = raw_hours
        self.clock = clock
        self.cluster = cluster  # when set, /monitoring/system reads nodes and quotas from it
        self.hub = Hub(max_queue=max_queue)
        tenants_dir = self.settings.tenants_dir
        self.prometheus: PrometheusBackend | None = None
        if self.settings.metrics_backend == "prometheus" and self.settings.prometheus_url:
            client = PrometheusClient(
                self.settings.prometheus_url, timeout_s=self.settings.prometheus_timeout_s
            )
            self.prometheus = PrometheusBackend(client, self.rules)
        # A deleted tenant (its spec gone) leaves /metrics at the next scrape. With Prometheus
        # as the backend the tenant gauges are already there (remote-write): a scrape of ours
        # would only duplicate them under job/instance labels and fire every alert twice.
        self.exposition = Exposition(
            lambda tenant: (tenants_dir / f"{tenant}.yaml").is_file(),
            export_gauges=self.prometheus is None,
        )
        self._spaces: dict[str, MonitoringSpace] = {}
        self._lock = threading.Lock()
        self.deployments = DeploymentFeed(lambda: self.space(False).store, self.hub, clock)

    def opened(self, demo: bool) -> MonitoringSpace | None:
        """The space when it is already open (a dict read: callable from the event loop)."""
        return self._spaces.get("demo" if demo else "real")

    def space(self, demo: bool) -> MonitoringSpace:
        """The real workspace's space, or the demo sandbox's (its own database file)."""
        name = "demo" if demo else "real"
        with self._lock:
            space = self._spaces.get(name)
            if space is None:
                settings = self.settings.demo_view() if demo else self.settings
                path = settings.resolve(
                    f"{settings.demo_root}/ecp.sqlite3" if demo else settings.database
                )
                space = MonitoringSpace(
                    name,
                    settings,
                    MetricsStore(path),
                    AlertEngine(self.rules),
                    self.hub,
                    None if demo else self.exposition,
                    self.clock,
                    None if demo else self.prometheus,  # demo data never leaves its sandbox
                )
                self._spaces[name] = space
        return space

    def system(self, demo: bool, visible: Collection[str] | None = None) -> dict[str, Any]:
        """`visible`: only these tenants count (a caller's scope); None = all of them."""
        space = self.space(demo)
        if space.prometheus is not None:
            reporting = space.prometheus.reporting_tenants(REPORTING_WINDOW_MS, space.now_ms())
        else:
            reporting = space.store.reporting_tenants(space.now_ms() - REPORTING_WINDOW_MS)
        live = None
        if self.cluster is not None and not demo:
            quotas = self.cluster.quotas(MANAGED_SELECTOR)
            if visible is not None:  # a scoped caller sees only its own tenants' use
                namespaces = {f"ecp-ai-{t}" for t in visible}
                quotas = [q for q in quotas if q["metadata"].get("namespace") in namespaces]
            live = cluster_capacity(self.cluster.nodes(), quotas)
        return system_metrics(space.settings, reporting, visible, live)

    def maintain(self) -> dict[str, dict[str, int]]:
        """Retention and downsampling on the real space and any other open one."""
        self.space(False)  # at start-up nothing is open yet; the real store always has history
        with self._lock:
            spaces = list(self._spaces.values())
        now = int(self.clock() * 1000)
        return {
            space.name: space.store.maintain(
                now,
                retention_ms=self.settings.metrics_retention_days * DAY_MS,
                raw_ms=self.raw_hours * 3_600_000,
            )
            for space in spaces
        }

    async def maintain_forever(self, every_s: float = 3600.0) -> None:
        while True:
            try:
                await asyncio.to_thread(self.maintain)
            except OrchestratorError as exc:
                log.warning("monitoring maintenance failed: %s", exc)
            except Exception:  # a bug must not end retention for the server's whole life
                log.exception("monitoring maintenance crashed; retrying in %.0f s", every_s)
            await asyncio.sleep(every_s)

    def close(self) -> None:
        with self._lock:
            for space in self._spaces.values():
                space.store.close()
            self._spaces.clear()
        if self.prometheus is not None:
            self.prometheus.close()

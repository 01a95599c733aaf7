"""Prometheus as the metrics backend, against a real Prometheus 2.42 started here on loopback.

Data goes in by remote-write (our POST path) and by scraping a test exporter that speaks like
cAdvisor and DCGM; the answers are compared with the SQLite backend's for the same samples, and
alerts come from Prometheus's own evaluation of the PrometheusRule we render.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_tools import PrometheusServer, free_port
from test_monitoring_support import make_workspace

from compiler.alerting import load_alert_rules, prometheus_rule_groups
from compiler.errors import MonitoringUnavailable, ValidationFailed
from compiler.monitoring import MonitoringQuery, MonitoringService
from compiler.monitoring.prometheus.queries import TenantScope
from compiler.monitoring.prometheus.remote_write import timeseries, write_request
from compiler.monitoring.samples import iso_z
from compiler.settings import Settings

HOUR_MS = 3_600_000
RESPONSE_GAUGE = "ecp_tenant_response_time_seconds"
TENANTS = ("same-tenant", "cluster-tenant", "alert-tenant")
# cluster-tenant's compiled quota: 4 cores, 8 GiB (written as the compiler writes index.json).
QUOTA_CORES, QUOTA_BYTES = 4, 8 * 1024**3
WORKING_SET = 2 * 1024**3  # -> 25 % of the quota
GPU_UTILS = (70.0, 90.0)  # two GPUs -> 80 % average
CPU_CORES_USED = 2.0  # counter rising 2 core-seconds per second -> 50 % of the quota
VOLUMES = (3e9, 1e9)  # two PVCs' kubelet_volume_stats_used_bytes -> 4 GB used
RECEIVE_RATE, TRANSMIT_RATE = 1000.0, 500.0  # cAdvisor's network byte counters, bytes/s
T0 = time.time()


class Exporter(BaseHTTPRequestHandler):
    """cAdvisor- and DCGM-shaped series for cluster-tenant's namespace."""

    def do_GET(self) -> None:
        ns = 'namespace="ecp-ai-cluster-tenant"'
        cpu_seconds = 1000 + CPU_CORES_USED * (time.time() - T0)
        lines = [
            "# TYPE container_cpu_usage_seconds_total counter",
            f'container_cpu_usage_seconds_total{{{ns},pod="stt-0",container="stt"}} {cpu_seconds}',
            "# TYPE container_memory_working_set_bytes gauge",
            f'container_memory_working_set_bytes{{{ns},pod="stt-0",container="stt"}} {WORKING_SET}',
            # The pod-level cgroup (container="") must not be counted twice.
            f'container_memory_working_set_bytes{{{ns},pod="stt-0",container=""}} {WORKING_SET}',
            "# TYPE DCGM_FI_DEV_GPU_UTIL gauge",
            *(
                f'DCGM_FI_DEV_GPU_UTIL{{{ns},pod="stt-0",gpu="{i}",modelName="L4"}} {u}'
                for i, u in enumerate(GPU_UTILS)
            ),
            "# TYPE kubelet_volume_stats_used_bytes gauge",
            *(
                f'kubelet_volume_stats_used_bytes{{{ns},persistentvolumeclaim="data-{i}"}} {b}'
                for i, b in enumerate(VOLUMES)
            ),
            "# TYPE container_network_receive_bytes_total counter",
            f'container_network_receive_bytes_total{{{ns},pod="stt-0",interface="eth0"}} '
            f"{RECEIVE_RATE * (time.time() - T0)}",
            "# TYPE container_network_transmit_bytes_total counter",
            f'container_network_transmit_bytes_total{{{ns},pod="stt-0",interface="eth0"}} '
            f"{TRANSMIT_RATE * (time.time() - T0)}",
        ]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def exporter() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Exporter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def fast_rules_presets(root: Path) -> Path:
    """presets/alerts.yaml with `for: 2s`, so Prometheus fires within a test's patience."""
    presets = root / "presets"
    data = yaml.safe_load((presets / "alerts.yaml").read_text(encoding="utf-8"))
    for rule in data["rules"]:
        rule["for"] = "2s"
    (presets / "alerts.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return presets


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("prom-backend")
    settings = make_workspace(root, TENANTS)
    fast_rules_presets(root)
    index = {
        "tenants": {
            "cluster-tenant": {
                "namespace": "ecp-ai-cluster-tenant",
                "quota": {"cpu": f"{QUOTA_CORES * 1000}m", "memory": "8Gi"},
                "totals": {"gpu": 2},
            }
        }
    }
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    (settings.output_dir / "index.json").write_text(json.dumps(index), "utf-8")
    return settings


@pytest.fixture(scope="module")
def prometheus(
    workspace: Settings, exporter: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    rules = load_alert_rules(workspace.presets_dir)
    groups = prometheus_rule_groups("alert-tenant", "ecp-ai-alert-tenant", 200, rules)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        # Batches of history arrive after newer samples: accept them, as a backend must.
        "storage": {"tsdb": {"out_of_order_time_window": "1d"}},
        "rule_files": ["rules.yaml"],
        "scrape_configs": [
            {"job_name": "exporter", "static_configs": [{"targets": [f"127.0.0.1:{exporter}"]}]}
        ],
    }
    with PrometheusServer(
        tmp_path_factory.mktemp("prometheus"),
        yaml.safe_dump(config),
        rule_files={"rules.yaml": yaml.safe_dump({"groups": groups}, allow_unicode=True)},
    ) as server:
        yield server


def service_for(settings: Settings, clock: float, prometheus_url: str | None) -> MonitoringService:
    if prometheus_url is not None:
        settings = Settings.load(
            settings.root, metrics_backend="prometheus", prometheus_url=prometheus_url
        )
    else:
        settings = settings.model_copy(update={"database": f".ecp/sqlite-{clock}.sqlite3"})
    return MonitoringService(settings, clock=lambda: clock)


def history(end_ms: int, hours: int) -> list[dict[str, Any]]:
    """Every metric once a minute, a few minutes missing, values that move."""
    out = []
    for i in range(hours * 60):
        if i % 37 in (5, 6):
            continue  # gaps: both backends must average only what exists
        # Most 17 s past the minute; every 10th exactly on it, so on a bucket's edge.
        ts = end_ms - hours * HOUR_MS + i * 60_000 + (0 if i % 10 == 0 else 17_000)
        wave = math.sin(i / 9)
        out.append(
            {
                "timestamp": iso_z(ts),
                "metrics": {
                    "cpu_usage": round(50 + 30 * wave, 3),
                    "memory_usage": round(60 + 10 * math.cos(i / 5), 3),
                    "gpu_usage": round(40 + 20 * wave, 3),
                    "network_in": 1_000_000 + 1000 * i,
                    "network_out": 500_000 + 10 * i,
                    "storage_used": 7.5e11 + 1e6 * i,
                    "request_count": 1000 + (i % 50),
                    "response_time": round(140 + 20 * wave, 2),
                    "error_rate": round(0.01 + 0.005 * wave, 5),
                },
            }
        )
    return out


def assert_same_answer(left: dict[str, Any], right: dict[str, Any]) -> None:
    assert left["time_range"] == right["time_range"]
    assert left["metrics"].keys() == right["metrics"].keys()
    for name, points in left["metrics"].items():
        other = right["metrics"][name]
        assert [p["timestamp"] for p in points] == [p["timestamp"] for p in other], name
        for a, b in zip(points, other, strict=True):
            assert a["value"] == pytest.approx(b["value"], rel=1e-6, abs=1e-4), (name, a)
    assert left["summary"].keys() == right["summary"].keys()
    for key, value in left["summary"].items():
        assert value == pytest.approx(right["summary"][key], rel=1e-6, abs=1e-4), key


@pytest.mark.parametrize(
    ("metric_type", "interval", "hours"),
    [(None, "5m", 3), ("cpu", "1m", 2), ("network", "1h", 3), ("memory", "5m", 1)],
    ids=["all-5m", "cpu-1m", "network-1h", "memory-5m"],
)
def test_remote_written_samples_answer_like_the_sqlite_store(
    workspace: Settings,
    prometheus: PrometheusServer,
    metric_type: str | None,
    interval: str,
    hours: int,
) -> None:
    now_ms = int(time.time()) // 3600 * 3600 * 1000 - HOUR_MS  # aligned, an hour back
    batch = history(now_ms, 3)
    sqlite = service_for(workspace, now_ms / 1000, None)
    prom = service_for(workspace, now_ms / 1000, prometheus.url)
    try:
        for service in (sqlite, prom):
            service.space(False).ingest("same-tenant", batch)
        query = MonitoringQuery(metric_type=metric_type, hours=hours, interval=interval)
        expected = sqlite.space(False).query("same-tenant", query)
        answer = prom.space(False).query("same-tenant", query)
    finally:
        sqlite.close()
        prom.close()
    assert sum(len(points) for points in expected["metrics"].values()) > 0
    assert_same_answer(answer, expected)


def test_cluster_series_answer_against_the_tenants_quota(
    workspace: Settings, prometheus: PrometheusServer
) -> None:
    deadline = time.monotonic() + 30
    while True:
        service = service_for(workspace, time.time(), prometheus.url)
        try:
            answer = service.space(False).query(
                "cluster-tenant", MonitoringQuery(hours=1, interval="1m")
            )
            live = service.space(False).latest("cluster-tenant", ["cpu", "memory", "gpu"])
        finally:
            service.close()
        # irate() needs two scrapes, the summary's subquery a scrape before a 15 s mark.
        ready = all(answer["metrics"][m] for m in ("cpu", "memory", "gpu", "storage", "network_in"))
        if ready and live["metrics"]["cpu"] and answer["summary"]["max_gpu"] is not None:
            break
        assert time.monotonic() < deadline, (answer, prometheus.log()[-1500:])
        time.sleep(1)
    assert answer["metrics"]["memory"][-1]["value"] == pytest.approx(
        100 * WORKING_SET / QUOTA_BYTES
    )
    assert answer["metrics"]["gpu"][-1]["value"] == pytest.approx(sum(GPU_UTILS) / 2)
    assert live["metrics"]["memory"] == pytest.approx(25.0)
    assert live["metrics"]["gpu"] == pytest.approx(80.0)
    assert live["metrics"]["cpu"] == pytest.approx(100 * CPU_CORES_USED / QUOTA_CORES, rel=0.05)
    assert answer["summary"]["max_gpu"] == pytest.approx(80.0)
    # kubelet volume stats summed over the namespace's PVCs; cAdvisor's network counters as rates.
    assert answer["metrics"]["storage"][-1]["value"] == pytest.approx(sum(VOLUMES))
    assert answer["metrics"]["network_in"][-1]["value"] == pytest.approx(RECEIVE_RATE, rel=0.05)
    assert answer["metrics"]["network_out"][-1]["value"] == pytest.approx(TRANSMIT_RATE, rel=0.05)


def test_alerts_come_from_prometheus_evaluating_the_rendered_rules(
    workspace: Settings, prometheus: PrometheusServer
) -> None:
    deadline = time.monotonic() + 40
    while True:
        service = service_for(workspace, time.time(), prometheus.url)
        try:
            service.space(False).ingest("alert-tenant", {"metrics": {"gpu_usage": 97}})
            alerts = service.space(False).recent_alerts("alert-tenant")["alerts"]
        finally:
            service.close()
        if alerts:
            break
        assert time.monotonic() < deadline, prometheus.log()[-1500:]
        time.sleep(1)
    # Critical fired; its warning is inhibited inside Prometheus as in our engine.
    assert [(a["severity"], a["metric"], a["threshold"]) for a in alerts] == [
        ("critical", "gpu", 95.0)
    ]
    assert alerts[0]["current_value"] == 97.0
    assert alerts[0]["message"] == "GPU 사용률이 95%를 초과했습니다"
    raw = httpx.get(f"{prometheus.url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    assert {a["labels"]["alertname"] for a in raw if a["state"] == "firing"} == {
        "EcpGpuUsageCritical"
    }


def test_a_sample_prometheus_refuses_is_a_422_and_nothing_is_kept(
    workspace: Settings, prometheus: PrometheusServer
) -> None:
    now = time.time()
    service = service_for(workspace, now, prometheus.url)
    old = iso_z(int(now * 1000) - 3 * 86_400_000)  # inside our retention, past Prometheus' window
    try:
        service.space(False).ingest("same-tenant", {"metrics": {"cpu": 6}})  # the head is at now
        with pytest.raises(ValidationFailed) as caught:
            service.space(False).ingest("same-tenant", {"timestamp": old, "metrics": {"cpu": 5}})
    finally:
        service.close()
    assert caught.value.details["backend"] == "prometheus"
    assert "too old" in caught.value.details["reason"]


def test_an_unreachable_prometheus_is_monitoring_unavailable(workspace: Settings) -> None:
    service = service_for(workspace, time.time(), f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(MonitoringUnavailable) as caught:
            service.space(False).query("same-tenant", MonitoringQuery(hours=1))
        with pytest.raises(MonitoringUnavailable):
            service.space(False).ingest("same-tenant", {"metrics": {"cpu": 5}})
    finally:
        service.close()
    assert caught.value.details["backend"] == "prometheus"


def assert_close(values: tuple[Any, ...], expected: tuple[Any, ...]) -> None:
    assert len(values) == len(expected)
    for value, other in zip(values, expected, strict=True):
        assert (value is None) == (other is None), (values, expected)
        if other is not None:
            assert value == pytest.approx(other, rel=1e-9), (values, expected)


def test_own_gauges_read_raw_answer_as_promql_does_over_several_series(
    workspace: Settings, prometheus: PrometheusServer
) -> None:
    # A gauge two scrape targets export (the second missing some minutes, the first one NaN),
    # samples on and off bucket edges: the raw read bucketed here against PromQL's
    # avg(avg_over_time) and max(max_over_time) evaluated by Prometheus itself.
    now_ms = int(time.time()) // 3600 * 3600 * 1000 - HOUR_MS
    start_ms = now_ms - 2 * HOUR_MS
    gauges = {"cpu_usage": "ecp_tenant_cpu_usage_percent", "response_time": RESPONSE_GAUGE}
    series = []
    for instance, offset in (("a", 0.0), ("b", 7.5)):
        for metric, gauge in gauges.items():
            points = []
            for i in range(120):
                if instance == "b" and i % 13 == 5:
                    continue
                ts = start_ms + i * 60_000 + (0 if i % 10 == 0 else 17_000)
                value = 40 + offset + 20 * math.sin(i / 7)
                if instance == "a" and i == 42 and metric == "cpu_usage":
                    value = math.nan
                points.append((ts, value / 1000 if metric == "response_time" else value))
            labels = [("__name__", gauge), ("tenant", "multi-series"), ("instance", instance)]
            series.append(timeseries(labels, points))
    service = service_for(workspace, now_ms / 1000, prometheus.url)
    try:
        backend = service.space(False).prometheus
        assert backend is not None
        backend.client.remote_write(write_request(series))
        scope = TenantScope("multi-series", "ecp-ai-multi-series", present=frozenset())
        metrics = list(gauges)
        for interval_ms in (60_000, 300_000):
            rows, summary = backend.own_window(scope, metrics, start_ms, now_ms, interval_ms)
            expected = backend.buckets(scope, metrics, start_ms, now_ms, interval_ms)
            assert [row[0] for row in rows] == [row[0] for row in expected]
            assert any(None in row for row in rows)  # the NaN bucket: no value, as in PromQL
            for row, other in zip(rows, expected, strict=True):
                assert_close(row, other)
            promql = backend.summary(scope, metrics, start_ms, now_ms)
            assert list(summary) == list(promql)
            for metric in metrics:
                assert_close(summary[metric], promql[metric])
    finally:
        service.close()

"""GET /metrics as a real Prometheus reads it: sample timestamps, no stale or deleted tenants,
names that `promtool check metrics` accepts."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import ADMIN_TOKEN, AUTH
from prometheus_client.parser import text_string_to_metric_families
from prometheus_tools import PrometheusServer, tool
from test_monitoring_support import LiveServer, live_server, make_workspace

REAL = {"X-Demo-Mode": "false", **AUTH}
TENANTS = ("fresh-tenant", "late-tenant", "gone-tenant", "stale-tenant", "lint-tenant")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_workspace(tmp_path_factory.mktemp("exposition"), TENANTS)
    with live_server(settings) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.http, timeout=30, headers=AUTH) as http:
        yield http


def post(client: httpx.Client, tenant: str, body: Any) -> None:
    response = client.post(f"/api/v1/tenants/{tenant}/monitoring", json=body, headers=REAL)
    assert response.status_code == 201, response.text


def samples_of(client: httpx.Client, family: str) -> dict[str, tuple[float, float]]:
    """tenant -> (value, timestamp in seconds) of one gauge family (no timestamp: -1)."""
    text = client.get("/metrics").text
    for parsed in text_string_to_metric_families(text):
        if parsed.name == family:
            return {
                s.labels["tenant"]: (s.value, -1.0 if s.timestamp is None else float(s.timestamp))
                for s in parsed.samples
            }
    return {}


def test_a_gauge_carries_the_timestamp_of_its_sample(client: httpx.Client) -> None:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    post(client, "fresh-tenant", {"timestamp": stamp(moment), "metrics": {"cpu_usage": 99}})
    value, ts = samples_of(client, "ecp_tenant_cpu_usage_percent")["fresh-tenant"]
    assert value == 99
    assert ts == pytest.approx(moment.timestamp())


def test_an_older_sample_never_overwrites_a_newer_gauge(client: httpx.Client) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    post(client, "late-tenant", {"timestamp": stamp(now), "metrics": {"cpu_usage": 60}})
    earlier = now - timedelta(minutes=2)
    post(client, "late-tenant", {"timestamp": stamp(earlier), "metrics": {"cpu_usage": 10}})
    value, ts = samples_of(client, "ecp_tenant_cpu_usage_percent")["late-tenant"]
    assert value == 60
    assert ts == pytest.approx(now.timestamp())


def test_a_deleted_tenant_leaves_every_family(client: httpx.Client, server: LiveServer) -> None:
    post(client, "gone-tenant", {"metrics": {"cpu_usage": 50, "error_rate": 0.5}})
    assert 'tenant="gone-tenant"' in client.get("/metrics").text
    (server.service.settings.tenants_dir / "gone-tenant.yaml").unlink()
    assert 'tenant="gone-tenant"' not in client.get("/metrics").text


def test_promtool_check_metrics_accepts_the_exposition(client: httpx.Client) -> None:
    promtool = tool("promtool")
    every_metric = {
        "cpu_usage": 65.5,
        "memory_usage": 78.2,
        "gpu_usage": 85.0,
        "network_in": 1250000,
        "network_out": 850000,
        "storage_used": 750000000000,
        "request_count": 1250,
        "response_time": 145.8,
        "error_rate": 0.02,
    }
    post(client, "lint-tenant", {"metrics": every_metric})
    client.get("/api/v1/tenants/lint-tenant/alerts", headers=REAL)
    text = client.get("/metrics").text
    assert "ecp_tenant_reported_requests" in text
    done = subprocess.run(
        [promtool, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == ""


def test_promtool_check_metrics_would_catch_a_gauge_named_count() -> None:
    promtool = tool("promtool")
    bad = "# HELP x_request_count n\n# TYPE x_request_count gauge\nx_request_count 1\n"
    done = subprocess.run(
        [promtool, "check", "metrics"], input=bad, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0


def query(prometheus: PrometheusServer, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": expr}, timeout=10)
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def test_a_real_prometheus_stops_seeing_a_sample_older_than_its_lookback(
    client: httpx.Client, server: LiveServer, tmp_path: Path
) -> None:
    """The issue's case: one cpu 99 sent 10 minutes ago must not still be 'now' in Prometheus."""
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    post(client, "stale-tenant", {"timestamp": stamp(old), "metrics": {"cpu_usage": 99}})
    post(client, "fresh-tenant", {"metrics": {"memory_usage": 42}})
    (tmp_path / "ecp-token").write_text(ADMIN_TOKEN, "utf-8")
    config = (
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: ecp\n"
        f"    authorization: {{credentials_file: '{tmp_path / 'ecp-token'}'}}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{server.port}']}}]\n"
    )
    with PrometheusServer(tmp_path / "prom", config) as prometheus:
        deadline = time.monotonic() + 30
        while not query(prometheus, 'ecp_tenant_memory_usage_percent{tenant="fresh-tenant"}'):
            assert time.monotonic() < deadline, prometheus.log()[-2000:]
            time.sleep(0.5)
        assert query(prometheus, 'ecp_tenant_cpu_usage_percent{tenant="stale-tenant"}') == []
        # It was stored at its own time: a query at that time finds it.
        at_old = httpx.get(
            f"{prometheus.url}/api/v1/query",
            params={
                "query": 'ecp_tenant_cpu_usage_percent{tenant="stale-tenant"}',
                "time": old.timestamp() + 30,
            },
            timeout=10,
        ).json()["data"]["result"]
        assert [float(r["value"][1]) for r in at_old] == [99.0]

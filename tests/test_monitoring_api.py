"""The monitoring API over real HTTP: a uvicorn server, httpx, and the SQLite file on disk."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from api_server import AUTH
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from test_monitoring_support import LiveServer, live_server, make_workspace

from compiler.quantity import parse_cpu, parse_memory_mib
from compiler.settings import Settings

REAL = {"X-Demo-Mode": "false", **AUTH}
DEMO = {"X-Demo-Mode": "true", **AUTH}
# The reference's "Send monitoring data" body, verbatim.
REFERENCE_BODY: dict[str, Any] = {
    "timestamp": "2024-01-20T14:30:00Z",
    "metrics": {
        "cpu_usage": 65.5,
        "memory_usage": 78.2,
        "gpu_usage": 85.0,
        "network_in": 1250000,
        "network_out": 850000,
        "storage_used": 750000000000,
        "request_count": 1250,
        "response_time": 145.8,
        "error_rate": 0.02,
    },
}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def minutes_ago(n: float) -> str:
    return iso(datetime.now(UTC) - timedelta(minutes=n))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server and store of each test's own (~0.5 s in process): the tests read back "the
    latest sample", a bucket's mean or an empty series, which another test's samples to the
    same tenant would change in whichever order they ran."""
    root = tmp_path / "ws"
    root.mkdir()
    settings = make_workspace(root, ("my-ai-service", "quiet-tenant", "sla-tenant"), ("demo-shop",))
    with live_server(settings) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.http, timeout=30, headers=AUTH) as http:
        yield http


def post(
    client: httpx.Client, tenant: str, body: Any, headers: dict[str, str] = REAL
) -> httpx.Response:
    return client.post(f"/api/v1/tenants/{tenant}/monitoring", json=body, headers=headers)


def test_the_reference_body_is_accepted_and_read_back_in_the_reference_shape(
    client: httpx.Client,
) -> None:
    body = {**REFERENCE_BODY, "timestamp": minutes_ago(3)}
    response = post(client, "my-ai-service", body)
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 1

    answer = client.get(
        "/api/v1/tenants/my-ai-service/monitoring", params={"hours": 1}, headers=REAL
    ).json()
    assert set(answer) >= {"tenant_id", "time_range", "metrics", "summary"}
    assert answer["tenant_id"] == "my-ai-service"
    assert set(answer["time_range"]) == {"start", "end"}
    for name in ("cpu", "memory", "gpu"):
        assert answer["metrics"][name][-1]["value"] == REFERENCE_BODY["metrics"][f"{name}_usage"]
    assert answer["summary"]["max_cpu"] >= 65.5
    assert answer["metrics"]["cpu"][-1]["timestamp"].endswith("Z")


def test_a_batch_is_averaged_per_bucket(client: httpx.Client) -> None:
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    base -= timedelta(minutes=base.minute % 5)  # start of a 5-minute bucket
    samples = [
        {"timestamp": iso(base + timedelta(minutes=i)), "metrics": {"cpu_usage": 10.0 * (i + 1)}}
        for i in range(10)
    ]
    assert post(client, "quiet-tenant", {"samples": samples}).json()["accepted"] == 10
    answer = client.get(
        "/api/v1/tenants/quiet-tenant/monitoring",
        params={"metric_type": "cpu", "hours": 3, "interval": "5m"},
        headers=REAL,
    ).json()
    assert answer["metrics"]["cpu"] == [
        {"timestamp": iso(base), "value": 30.0},  # mean of 10..50
        {"timestamp": iso(base + timedelta(minutes=5)), "value": 80.0},  # mean of 60..100
    ]
    assert answer["summary"] == {"avg_cpu": 55.0, "max_cpu": 100.0}
    assert list(answer["metrics"]) == ["cpu"]


def test_network_queries_return_both_directions(client: httpx.Client) -> None:
    post(client, "quiet-tenant", {"metrics": {"network_in": 100, "network_out": 50}})
    answer = client.get(
        "/api/v1/tenants/quiet-tenant/monitoring", params={"metric_type": "network"}, headers=REAL
    ).json()
    assert set(answer["metrics"]) == {"network_in", "network_out"}
    assert answer["metrics"]["network_out"][-1]["value"] == 50


def test_an_empty_range_gives_empty_series_not_an_error(client: httpx.Client) -> None:
    response = client.get(
        "/api/v1/tenants/sla-tenant/monitoring", params={"metric_type": "gpu"}, headers=REAL
    )
    assert response.status_code == 200
    assert response.json()["metrics"] == {"gpu": []}
    assert response.json()["summary"] == {"avg_gpu": None, "max_gpu": None}


def test_the_sdk_examples_short_metric_names_are_accepted(client: httpx.Client) -> None:
    response = post(client, "quiet-tenant", {"metrics": {"cpu": 65.5, "memory": 78.2}})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/tenants/nobody-here/monitoring", "GET"),
        ("/api/v1/tenants/nobody-here/monitoring", "POST"),
        ("/api/v1/tenants/nobody-here/alerts", "GET"),
    ],
    ids=["query", "ingest", "alerts"],
)
def test_an_unknown_tenant_is_tenant_not_found(
    client: httpx.Client, path: str, method: str
) -> None:
    response = client.request(method, path, json=REFERENCE_BODY, headers=REAL)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "TENANT_NOT_FOUND"
    assert error["request_id"] == response.headers["X-Request-ID"]


def test_a_demo_tenant_is_not_visible_in_real_mode(client: httpx.Client) -> None:
    response = client.get("/api/v1/tenants/demo-shop/monitoring", headers=REAL)
    assert response.json()["error"]["code"] == "TENANT_NOT_FOUND"


def test_a_tenant_id_that_is_not_a_label_is_refused_before_any_path(client: httpx.Client) -> None:
    response = client.get("/api/v1/tenants/Bad_ID/monitoring", headers=REAL)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "tenant_id"


def _sample(**metrics: Any) -> dict[str, Any]:
    return {"metrics": metrics}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"metrics": {"cpu_usage": NaN}}', "metrics.cpu_usage"),
        ('{"metrics": {"gpu_usage": Infinity}}', "metrics.gpu_usage"),
        (json.dumps(_sample(cpu_usage=-1)), "metrics.cpu_usage"),
        (json.dumps(_sample(memory_usage=100.5)), "metrics.memory_usage"),
        (json.dumps(_sample(error_rate=2)), "metrics.error_rate"),
        (json.dumps(_sample(cpu_usage="80")), "metrics.cpu_usage"),
        (json.dumps(_sample(temperature=40)), "metrics.temperature"),
        (json.dumps({"metrics": {}}), "metrics"),
        (json.dumps({"timestamp": "2999-01-01T00:00:00Z", **_sample(cpu_usage=1)}), "timestamp"),
        (json.dumps({"timestamp": "1999-12-31T23:59:59Z", **_sample(cpu_usage=1)}), "timestamp"),
        (json.dumps({"timestamp": "yesterday", **_sample(cpu_usage=1)}), "timestamp"),
        (
            json.dumps({"samples": [_sample(cpu_usage=1), _sample(cpu_usage=101)]}),
            "samples[1].metrics.cpu_usage",
        ),
        (json.dumps({**_sample(cpu_usage=1), "tenant": "x"}), "tenant"),
        (json.dumps([]), "samples"),
        (json.dumps({"timestamp": "2024-01-20T14:30:00Z", **_sample(cpu_usage=1)}), "timestamp"),
        (
            json.dumps([_sample(cpu_usage=1, gpu_usage=2), _sample(memory_usage=3, gpu_usage=4)]),
            "samples[1].metrics.gpu_usage",
        ),
    ],
    ids=[
        "nan",
        "infinity",
        "negative-percent",
        "over-100",
        "error-rate-over-1",
        "string",
        "unknown-metric",
        "no-metrics",
        "future",
        "before-2000",
        "not-a-time",
        "batch-item",
        "unknown-field",
        "empty-batch",
        "older-than-retention",
        "one-metric-twice-at-one-instant",
    ],
)
def test_bad_samples_are_422_naming_the_field(client: httpx.Client, raw: str, field: str) -> None:
    response = client.post(
        "/api/v1/tenants/my-ai-service/monitoring",
        content=raw,
        headers={**REAL, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_a_bad_batch_stores_none_of_its_samples(client: httpx.Client, server: LiveServer) -> None:
    before = server.service.space(False).store.count()
    batch = [_sample(cpu_usage=1)] * 5 + [_sample(cpu_usage=-5)]
    assert post(client, "my-ai-service", batch).status_code == 422
    assert server.service.space(False).store.count() == before


def test_a_hundred_thousand_samples_in_one_request_are_refused(client: httpx.Client) -> None:
    batch = [{"metrics": {"cpu": 1}}] * 100_000
    response = post(client, "my-ai-service", batch)
    assert response.status_code == 413
    assert response.json()["error"]["details"]["field"] in ("samples", "body")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metric_type": "disk"}, "metric_type"),
        ({"interval": "2m"}, "interval"),
        ({"hours": "0"}, "query.hours"),
        ({"hours": "8760", "interval": "1m"}, "interval"),
    ],
    ids=["metric-type", "interval", "hours", "too-many-points"],
)
def test_bad_query_parameters_are_422_naming_them(
    client: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = client.get("/api/v1/tenants/my-ai-service/monitoring", params=params, headers=REAL)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == field


def test_alerts_fire_once_per_crossing_and_are_listed_with_the_reference_fields(
    client: httpx.Client,
) -> None:
    # 81 held for 2m fires; 79 and 81 hover inside the 5-point band; 74 clears; 81 held fires again.
    values = [81, 81, 81, 79, 81, 74, 81, 81, 81]
    start = datetime.now(UTC) - timedelta(minutes=30)
    batch = [
        {"timestamp": iso(start + timedelta(minutes=i)), "metrics": {"gpu_usage": v}}
        for i, v in enumerate(values)
    ]
    fired = post(client, "sla-tenant", batch).json()["alerts"]
    assert [a["current_value"] for a in fired] == [81, 81]
    assert [a["timestamp"] for a in fired] == [batch[2]["timestamp"], batch[8]["timestamp"]]
    listed = client.get("/api/v1/tenants/sla-tenant/alerts", headers=REAL).json()["alerts"]
    gpu = [a for a in listed if a["metric"] == "gpu"]
    assert len(gpu) == 2
    assert set(gpu[0]) == {
        "alert_id",
        "tenant_id",
        "severity",
        "type",
        "message",
        "metric",
        "current_value",
        "threshold",
        "timestamp",
    }
    assert gpu[0]["severity"] == "warning" and gpu[0]["threshold"] == 80.0
    assert gpu[0]["type"] == "resource_usage"


def test_response_time_alerts_use_the_tenants_sla_target(client: httpx.Client) -> None:
    # sla-tenant's spec says 200ms: 190 is fine, 250 is over the target, 450 is over twice it;
    # each must hold for the rule's 5 minutes before it fires.
    stamp = datetime.now(UTC) - timedelta(minutes=20)
    batch = [
        {"timestamp": iso(stamp + timedelta(minutes=i)), "metrics": {"response_time": v}}
        for i, v in enumerate([190] + [250] * 6 + [450] * 6)
    ]
    fired = post(client, "sla-tenant", batch).json()["alerts"]
    assert [(a["severity"], a["threshold"]) for a in fired] == [("warning", 200), ("critical", 400)]
    assert all(a["type"] == "sla" for a in fired)


def test_partial_samples_of_one_instant_in_a_batch_are_merged_not_refused(
    client: httpx.Client,
) -> None:
    stamp = minutes_ago(7)
    batch = [
        {"timestamp": stamp, "metrics": {"cpu_usage": 21.0}},
        {"timestamp": stamp, "metrics": {"memory_usage": 22.0}},
    ]
    assert post(client, "quiet-tenant", batch).status_code == 201


def test_the_metrics_endpoint_is_valid_prometheus_exposition(client: httpx.Client) -> None:
    post(client, "my-ai-service", {"metrics": {"gpu_usage": 12.5, "error_rate": 0.001}})
    response = client.get("/metrics")
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    gpu = families["ecp_tenant_gpu_usage_percent"]
    assert gpu.type == "gauge"
    assert {s.labels["tenant"]: s.value for s in gpu.samples}["my-ai-service"] == 12.5
    assert families["ecp_api_requests"].type == "counter"
    assert families["ecp_api_request_duration_seconds"].type == "histogram"


def test_the_metrics_endpoint_exposes_tenant_gauges_and_request_metrics(
    client: httpx.Client,
) -> None:
    post(client, "my-ai-service", {"metrics": {"cpu_usage": 42.5, "response_time": 150}})
    text = client.get("/metrics").text
    assert 'ecp_tenant_cpu_usage_percent{tenant="my-ai-service"} 42.5' in text
    assert 'ecp_tenant_response_time_seconds{tenant="my-ai-service"} 0.15' in text
    assert (
        'ecp_api_requests_total{method="POST",route="/api/v1/tenants/{tenant_id}/monitoring",'
        'status="2xx"}' in text
    )
    assert "ecp_api_request_duration_seconds_bucket" in text


def test_system_metrics_sum_the_compiled_quotas(client: httpx.Client, server: LiveServer) -> None:
    settings = server.service.settings
    index = {
        "compiler_version": "0.1.0",
        "kubernetes_version": "1.33",
        "tenants": {
            "my-ai-service": {
                "quota": {"cpu": "24000m", "memory": "32Gi", "gpu": 3, "storage": "1.0TB"}
            },
            "quiet-tenant": {
                "quota": {"cpu": "45000m", "memory": "64Gi", "gpu": 6, "storage": "2.0TB"}
            },
            "deleted-tenant": {
                "quota": {"cpu": "1000000m", "memory": "1Gi", "gpu": 1, "storage": "1.0TB"}
            },
        },
    }
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    (settings.output_dir / "index.json").write_text(json.dumps(index), encoding="utf-8")
    post(client, "quiet-tenant", {"metrics": {"cpu_usage": 12}})
    answer = client.get("/api/v1/monitoring/system", headers=REAL).json()
    assert answer["total_tenants"] == 3
    assert answer["active_tenants"] >= 1
    assert answer["total_resources"] == {
        "cpu": "500000m",
        "memory": "1000Gi",
        "gpu": 50,
        "storage": "50TB",
    }
    assert answer["used_resources"] == {
        "cpu": "69000m",
        "memory": "96Gi",
        "gpu": 9,
        "storage": "3TB",
    }
    assert answer["utilization"] == {"cpu": 13.8, "memory": 9.6, "gpu": 18.0, "storage": 6.0}
    assert answer["cluster_status"] == "healthy"


CLI = "from compiler.cli import main; main()"


def test_system_metrics_of_a_compiled_workspace_sum_its_resource_quotas(tmp_path: Path) -> None:
    settings = make_workspace(tmp_path, ("my-ai-service", "quiet-tenant"))
    subprocess.run(
        [sys.executable, "-c", CLI, "--root", str(tmp_path), "compile", "--all"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cpu = memory = gpu = 0
    for manifest in settings.output_dir.glob("*/manifest.yaml"):
        for doc in yaml.safe_load_all(manifest.read_text(encoding="utf-8")):
            if doc and doc["kind"] == "ResourceQuota":
                hard = doc["spec"]["hard"]
                cpu += parse_cpu(hard["requests.cpu"])
                memory += parse_memory_mib(hard["requests.memory"])
                gpu += int(hard.get("requests.nvidia.com/gpu", 0))
    assert cpu > 0
    with live_server(settings) as live, httpx.Client(base_url=live.http, headers=AUTH) as http:
        answer = http.get("/api/v1/monitoring/system", headers=REAL).json()
    used = answer["used_resources"]
    assert (parse_cpu(used["cpu"]), parse_memory_mib(used["memory"]), used["gpu"]) == (
        cpu,
        memory,
        gpu,
    )
    assert answer["utilization"]["cpu"] == round(100 * cpu / 500_000, 1)


def test_an_index_without_quotas_is_503_not_zero_use(tmp_path: Path) -> None:
    settings = make_workspace(tmp_path)
    settings.output_dir.mkdir(parents=True)
    index = {"tenants": {"my-ai-service": {"preset": "medium"}}}
    (settings.output_dir / "index.json").write_text(json.dumps(index), encoding="utf-8")
    with live_server(settings) as live, httpx.Client(base_url=live.http, headers=AUTH) as http:
        response = http.get("/api/v1/monitoring/system", headers=REAL)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "MONITORING_UNAVAILABLE"


def test_demo_tenants_get_a_generated_day_of_data(client: httpx.Client) -> None:
    answer = client.get(
        "/api/v1/tenants/demo-shop/monitoring", params={"interval": "1h"}, headers=DEMO
    ).json()
    assert len(answer["metrics"]["cpu"]) >= 24
    assert all(0 <= point["value"] <= 100 for point in answer["metrics"]["cpu"])


def test_a_locked_database_is_503_and_the_retried_batch_is_stored_once(
    client: httpx.Client, server: LiveServer
) -> None:
    store = server.service.space(False).store
    stamp = minutes_ago(1)
    body = {"timestamp": stamp, "metrics": {"cpu_usage": 33.0}}
    blocker = sqlite3.connect(store.path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        response = post(client, "quiet-tenant", body)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "MONITORING_UNAVAILABLE"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    before = store.count()
    assert post(client, "quiet-tenant", body).status_code == 201
    assert post(client, "quiet-tenant", body).status_code == 201  # a client retry: same sample
    assert store.count() == before + 1


def test_an_unwritable_database_is_503_monitoring_unavailable(tmp_path: Path) -> None:
    settings = make_workspace(tmp_path)
    (tmp_path / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    settings = Settings.load(tmp_path, database="blocker/ecp.sqlite3")
    with live_server(settings) as live, httpx.Client(base_url=live.http, headers=AUTH) as http:
        response = post(http, "my-ai-service", REFERENCE_BODY)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "MONITORING_UNAVAILABLE"
        assert http.get("/health").status_code == 200


def test_retention_keeps_the_file_bounded(client: httpx.Client, server: LiveServer) -> None:
    service = server.service
    store = service.space(False).store
    now = time.time()
    old = [
        {"timestamp": now - 3 * 86400 - 60 * i, "metrics": {"cpu_usage": 50.0}} for i in range(120)
    ]
    # Older than the 48 h raw window but inside retention: folded into hourly rows.
    assert post(client, "quiet-tenant", {"samples": old}).status_code == 201
    before = store.count()
    report = service.maintain()["real"]
    assert report["folded"] >= 120
    assert store.count() <= before - 120 + 3

"""The SDK's monitoring calls and stream helpers against a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_monitoring_support import LiveServer, held, live_server, make_workspace

from ecp_orchestrator import ECPClient, TenantNotFoundError, ValidationError


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_workspace(tmp_path_factory.mktemp("ws"), ("my-service",), ("demo-shop",))
    with live_server(settings) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[ECPClient]:
    with ECPClient(base_url=f"{server.http}/api/v1", is_demo=False) as sdk:
        yield sdk


def test_the_references_send_metrics_example_runs_unchanged(client: ECPClient) -> None:
    client.send_metrics("my-service", {
        "cpu": 65.5,
        "memory": 78.2
    })  # fmt: skip
    answer = client.get_monitoring("my-service", metric_type="memory", hours=1)
    assert answer["metrics"]["memory"][-1]["value"] == 78.2


def test_a_batch_and_the_alerts_it_raised_come_back(client: ECPClient) -> None:
    result = client.send_metrics(
        "my-service", [{"metrics": {"gpu_usage": 50}}, *held({"error_rate": 0.09})]
    )
    assert result["accepted"] == 4
    alerts = client.get_alerts("my-service")["alerts"]
    assert any(a["metric"] == "error_rate" and a["severity"] == "critical" for a in alerts)


def test_bad_metrics_raise_a_typed_validation_error(client: ECPClient) -> None:
    with pytest.raises(ValidationError) as caught:
        client.send_metrics("my-service", {"cpu": 150})
    assert caught.value.details["field"] == "metrics.cpu"
    assert caught.value.request_id


def test_system_metrics_are_reachable(client: ECPClient) -> None:
    assert client.get_system_metrics()["total_tenants"] == 1


def test_subscribe_monitoring_yields_the_latest_values(client: ECPClient) -> None:
    client.send_metrics("my-service", {"cpu": 12.5})
    stream = client.subscribe_monitoring("my-service", ["cpu"], interval_ms=250)
    first = next(stream)
    stream.close()
    assert first["tenant_id"] == "my-service" and first["metrics"] == {"cpu": 12.5}


def test_subscribe_deployment_ends_after_the_final_update(
    client: ECPClient, server: LiveServer
) -> None:
    # report() is the seam the cluster follower feeds in production (DeploymentFeed.follow hands
    # it to live_source: compiler/service/cluster_status.live_follower, from watches). Here the
    # test stands in for the follower to drive the stream; the whole path from a cluster's
    # watches is test_cluster_api's test_the_deployment_stream_follows_watches_until_running.
    server.service.deployments.report(
        {
            "deployment_id": "dep-sdk1",
            "status": "deployed",
            "progress": 100,
            "phase": "done",
            "message": "",
        }
    )
    assert [u["status"] for u in client.subscribe_deployment("dep-sdk1")] == ["deployed"]


def test_a_stream_for_an_unknown_tenant_raises_tenant_not_found(client: ECPClient) -> None:
    with pytest.raises(TenantNotFoundError) as caught:
        next(client.subscribe_alerts("nobody-here"))
    assert caught.value.status_code == 404


def test_demo_clients_stream_the_demo_sandbox(server: LiveServer) -> None:
    with ECPClient(base_url=f"{server.http}/api/v1", is_demo=True) as demo:
        update = next(demo.subscribe_monitoring("demo-shop", ["gpu"], interval_ms=250))
    assert isinstance(update["metrics"]["gpu"], float)

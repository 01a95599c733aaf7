"""The three WebSocket streams against a real uvicorn server, with the `websockets` client."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from api_server import AUTH
from test_monitoring_support import LiveServer, held, live_server, make_workspace
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from compiler.monitoring.broadcast import Hub, Overflowed

REAL = {"X-Demo-Mode": "false", **AUTH}
connect = functools.partial(ws_connect, additional_headers=AUTH)  # the test servers' admin


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("ws")
    # interval-tenant is the interval test's alone: "the latest sample" is the one it sent
    # whichever other test ran first.
    settings = make_workspace(
        root, ("my-ai-service", "alert-tenant", "quiet-tenant", "interval-tenant"), ("demo-shop",)
    )
    with live_server(settings) as live:
        yield live


def receive(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=timeout))
    assert isinstance(message, dict)
    return message


def closed_with(ws: ClientConnection) -> tuple[int | None, dict[str, Any]]:
    """The error frame the server sent and the close code that followed it."""
    frame = receive(ws)
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=10)
    assert ws.close_code is not None
    return ws.close_code, frame


def send_metrics(server: LiveServer, tenant: str, body: Any) -> httpx.Response:
    return httpx.post(
        f"{server.http}/api/v1/tenants/{tenant}/monitoring", json=body, headers=REAL, timeout=30
    )


def test_a_subscription_pushes_the_latest_metrics_at_its_interval(server: LiveServer) -> None:
    stamp = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sample = {"cpu_usage": 65.5, "memory_usage": 78.2, "gpu_usage": 85.0}
    send_metrics(server, "interval-tenant", {"timestamp": stamp, "metrics": sample})
    with connect(f"{server.ws}/ws/monitoring/interval-tenant") as ws:
        ws.send(
            json.dumps(
                {"action": "subscribe", "metrics": ["cpu", "memory", "gpu"], "interval": 250}
            )
        )
        first, second = receive(ws), receive(ws)
    assert first == {
        "timestamp": stamp,
        "tenant_id": "interval-tenant",
        "metrics": {"cpu": 65.5, "memory": 78.2, "gpu": 85.0},
    }
    assert second == first


def test_unsubscribe_stops_pushes_and_a_new_subscribe_restarts_them(server: LiveServer) -> None:
    send_metrics(server, "my-ai-service", {"metrics": {"cpu_usage": 10.0}})
    with connect(f"{server.ws}/ws/monitoring/my-ai-service") as ws:
        ws.send(json.dumps({"action": "subscribe", "metrics": ["cpu"], "interval": 250}))
        assert "metrics" in receive(ws)
        ws.send(json.dumps({"action": "unsubscribe"}))
        # Pushes already on the wire may arrive before the acknowledgement; none after it.
        while (message := receive(ws)).get("action") != "unsubscribed":
            assert "metrics" in message
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.8)
        ws.send(json.dumps({"action": "subscribe", "metrics": ["memory"], "interval": 250}))
        assert set(receive(ws)["metrics"]) == {"memory"}


def test_a_posted_sample_is_pushed_at_once_not_at_the_next_interval(server: LiveServer) -> None:
    with connect(f"{server.ws}/ws/monitoring/my-ai-service") as ws:
        # An hour between interval pushes: anything sooner was pushed by the sample itself.
        ws.send(json.dumps({"action": "subscribe", "metrics": ["cpu"], "interval": 3_600_000}))
        receive(ws)  # the subscription's first push
        ws.send(json.dumps({"action": "ping"}))  # the subscription is in place once this answers
        assert receive(ws) == {"action": "pong"}
        send_metrics(server, "quiet-tenant", {"metrics": {"cpu_usage": 11.0}})  # another tenant
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
        for value in (42.75, 43.5):
            time.sleep(1.1)  # a stamp of its own (seconds), newer than anything stored before
            send_metrics(server, "my-ai-service", {"metrics": {"cpu_usage": value}})
            assert receive(ws, timeout=5)["metrics"] == {"cpu": value}


def test_a_stream_not_subscribed_yet_is_not_pushed_samples(server: LiveServer) -> None:
    with connect(f"{server.ws}/ws/monitoring/my-ai-service") as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"action": "pong"}
        send_metrics(server, "my-ai-service", {"metrics": {"cpu_usage": 12.0}})
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)


def test_a_new_alert_reaches_every_alert_subscriber(server: LiveServer) -> None:
    with (
        connect(f"{server.ws}/ws/alerts/alert-tenant") as first,
        connect(f"{server.ws}/ws/alerts/alert-tenant") as second,
    ):
        first.send(json.dumps({"action": "ping"}))  # also proves the subscription is in place
        assert receive(first) == {"action": "pong"}
        second.send(json.dumps({"action": "ping"}))
        assert receive(second) == {"action": "pong"}
        send_metrics(server, "alert-tenant", held({"cpu_usage": 85.2}))
        for ws in (first, second):
            alert = receive(ws)
            assert alert["tenant_id"] == "alert-tenant"
            assert alert["metric"] == "cpu" and alert["severity"] == "warning"
            assert alert["message"] == "CPU 사용률이 80%를 초과했습니다"
            assert alert["current_value"] == 85.2 and alert["threshold"] == 80.0


def test_a_deployment_stream_ends_with_its_final_update_and_a_normal_close(
    server: LiveServer,
) -> None:
    # report() is the seam the cluster follower feeds in production (DeploymentFeed.follow hands
    # it to live_source: compiler/service/cluster_status.live_follower, from watches). Here the
    # test stands in for the follower to drive the stream; the whole path from a cluster's
    # watches is test_cluster_api's test_the_deployment_stream_follows_watches_until_running.
    feed = server.service.deployments
    feed.report(
        {
            "deployment_id": "dep-abc123",
            "status": "deploying",
            "progress": 10,
            "phase": "creating-namespace",
            "message": "Namespace 생성",
        }
    )
    with connect(f"{server.ws}/ws/deployment/dep-abc123") as ws:
        assert receive(ws)["progress"] == 10
        feed.report(
            {
                "deployment_id": "dep-abc123",
                "status": "deploying",
                "progress": 75,
                "phase": "scaling-services",
                "message": "Chatbot deployment 완료, Advisor deployment 시작",
            }
        )
        update = receive(ws)
        assert update == {
            "deployment_id": "dep-abc123",
            "status": "deploying",
            "progress": 75,
            "phase": "scaling-services",
            "message": "Chatbot deployment 완료, Advisor deployment 시작",
        }
        feed.report(
            {
                "deployment_id": "dep-abc123",
                "status": "completed",
                "progress": 100,
                "phase": "completed",
                "message": "done",
            }
        )
        assert receive(ws)["status"] == "completed"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 1000


def test_a_finished_deployment_sends_its_last_state_and_closes(server: LiveServer) -> None:
    # In place of the cluster follower, as above: report() is what it calls.
    server.service.deployments.report(
        {
            "deployment_id": "dep-done1",
            "status": "failed",
            "progress": 40,
            "phase": "scaling",
            "message": "x",
        }
    )
    with connect(f"{server.ws}/ws/deployment/dep-done1") as ws:
        assert receive(ws)["status"] == "failed"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 1000


@pytest.mark.parametrize(
    ("path", "code", "error_code"),
    [
        ("/ws/monitoring/nobody-here", 4404, "TENANT_NOT_FOUND"),
        ("/ws/alerts/nobody-here", 4404, "TENANT_NOT_FOUND"),
        ("/ws/monitoring/Not_A_Label", 4422, "VALIDATION_ERROR"),
        ("/ws/deployment/dep-never", 4404, "DEPLOYMENT_NOT_FOUND"),
        ("/ws/monitoring/demo-shop", 4404, "TENANT_NOT_FOUND"),
        ("/ws/monitoring/my-ai-service?demo=maybe", 4422, "VALIDATION_ERROR"),
    ],
    ids=["monitoring", "alerts", "bad-id", "deployment", "demo-tenant-in-real-mode", "bad-flag"],
)
def test_an_unknown_target_gets_an_error_frame_then_a_close(
    server: LiveServer, path: str, code: int, error_code: str
) -> None:
    with connect(f"{server.ws}{path}") as ws:
        close_code, frame = closed_with(ws)
    assert close_code == code
    assert frame["error"]["code"] == error_code
    assert set(frame["error"]) == {"code", "message", "details", "timestamp", "request_id"}


@pytest.mark.parametrize(
    ("message", "code", "field"),
    [
        ("not json", 4400, "message"),
        (json.dumps(["subscribe"]), 4422, "action"),
        (json.dumps({"action": "dance"}), 4422, "action"),
        (json.dumps({"action": "subscribe", "metrics": ["cpu", "mood"]}), 4422, "metrics"),
        (json.dumps({"action": "subscribe", "metrics": "cpu"}), 4422, "metrics"),
        (json.dumps({"action": "subscribe", "interval": 5}), 4422, "interval"),
        (json.dumps({"action": "subscribe", "interval": True}), 4422, "interval"),
        (json.dumps({"action": "subscribe", "extra": 1}), 4422, "extra"),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "unknown-action",
        "unknown-metric",
        "metrics-not-a-list",
        "interval-too-short",
        "interval-bool",
        "unknown-field",
    ],
)
def test_a_malformed_message_gets_an_error_frame_then_a_close(
    server: LiveServer, message: str, code: int, field: str
) -> None:
    with connect(f"{server.ws}/ws/monitoring/my-ai-service") as ws:
        ws.send(message)
        close_code, frame = closed_with(ws)
    assert close_code == code
    assert frame["error"]["details"]["field"] == field


def test_a_message_on_the_alert_stream_other_than_ping_is_refused(server: LiveServer) -> None:
    with connect(f"{server.ws}/ws/alerts/my-ai-service") as ws:
        ws.send(json.dumps({"action": "subscribe"}))
        close_code, frame = closed_with(ws)
    assert close_code == 4422
    assert frame["error"]["code"] == "VALIDATION_ERROR"


def test_demo_streams_run_on_generated_data(server: LiveServer) -> None:
    with connect(f"{server.ws}/ws/monitoring/demo-shop?demo=true") as ws:
        ws.send(json.dumps({"action": "subscribe", "metrics": ["cpu", "gpu"], "interval": 250}))
        update = receive(ws)
    assert update["tenant_id"] == "demo-shop"
    assert all(isinstance(v, float) for v in update["metrics"].values())


def test_a_subscriber_that_does_not_read_is_cut_off_without_holding_up_others() -> None:
    async def scenario() -> tuple[int, int]:
        hub = Hub(max_queue=8)
        slow = hub.subscribe("alerts:real:t")
        fast = hub.subscribe("alerts:real:t")
        received = 0
        for i in range(100):
            hub.publish("alerts:real:t", {"n": i})
            await fast.get()
            received += 1
        with pytest.raises(Overflowed) as caught:
            await slow.get()
        return received, caught.value.dropped

    received, dropped = asyncio.run(scenario())
    assert received == 100
    assert dropped == 100 - 8


def test_a_coalescing_subscriber_keeps_only_the_newest_wakeup_and_never_overflows() -> None:
    async def scenario() -> tuple[dict[str, Any], int]:
        hub = Hub(max_queue=2)
        wakeups = hub.subscribe("samples:real:t", coalesce=True)
        for i in range(10):
            hub.publish("samples:real:t", {"n": i})
        newest = await wakeups.get()
        return newest, wakeups.pending()

    assert asyncio.run(scenario()) == ({"n": 9}, 0)


def test_publishing_from_a_worker_thread_reaches_the_loop() -> None:
    async def scenario() -> dict[str, Any]:
        hub = Hub()
        subscription = hub.subscribe("topic")
        await asyncio.to_thread(hub.publish, "topic", {"from": "thread"})
        return await asyncio.wait_for(subscription.get(), 5)

    assert asyncio.run(scenario()) == {"from": "thread"}


@pytest.mark.parametrize(
    ("demo", "status"),
    [(False, "awaiting-sync"), (True, "deploying")],
    ids=["real-mode-reports-what-the-deploy-repo-knows", "demo-mode-simulates"],
)
def test_a_tenant_created_through_the_api_can_be_followed_by_its_deployment_id(
    server: LiveServer, demo: bool, status: str
) -> None:
    tenant_id = f"followed-{'demo' if demo else 'real'}"
    created = httpx.post(
        f"{server.http}/api/v1/tenants/",
        json={"tenant_id": tenant_id, "name": "Followed", "service_requirements": {"chatbot": 5}},
        headers={"X-Demo-Mode": "true" if demo else "false", **AUTH},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    deployment_id = created.json()["deployment_id"]
    with connect(f"{server.ws}/ws/deployment/{deployment_id}") as ws:
        update = receive(ws)
    assert update["deployment_id"] == deployment_id
    assert update["status"] == status
    assert set(update) == {"deployment_id", "status", "progress", "phase", "message"}

"""The real Kubernetes client against a local server speaking the Kubernetes API protocol.

tests/kube_standin.py serves fixture objects with chunked lists, watches (resourceVersion,
bookmarks, 410 Gone) and bearer auth; the adapter and the API read a tenant's rollout from it.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import AUTH
from conftest import run_ecp
from kube_standin import TOKEN, Cluster, fixture, kubeconfig, self_signed, standin
from test_monitoring_support import LiveServer, live_server, make_workspace
from websockets.sync.client import connect

import compiler.cluster.client as cluster_client
from compiler.cluster import ClusterReader, follow_rollout, open_cluster
from compiler.errors import KubernetesError
from compiler.service.cluster_status import LIST_STATUS_TTL_S
from compiler.settings import ClusterCapacity, Settings

REAL = {"X-Demo-Mode": "false", **AUTH}
TENANT = "shop"
NS = f"ecp-ai-{TENANT}"
# Rendering labels every object so; the fixture's own selector label (app: nginx) stays.
LABELS = {"app": "nginx", "app.kubernetes.io/managed-by": "ecp-orchestrator"}


@pytest.fixture
def api() -> Iterator[tuple[Cluster, str]]:
    with standin() as served:
        yield served


def reader_for(tmp_path: Path, url: str, **config: Any) -> ClusterReader:
    path = kubeconfig(tmp_path / "kubeconfig", url, **config)
    reader = open_cluster(ClusterCapacity(kubeconfig=str(path), context="standin", timeout_s=5))
    assert reader is not None
    return reader


def test_no_cluster_configured_means_no_reader() -> None:
    assert open_cluster(ClusterCapacity()) is None


def test_lists_are_read_in_chunks_with_the_bearer_token(
    api: tuple[Cluster, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster, url = api
    for i in range(5):
        cluster.put(fixture("deployment-available", namespace=NS, name=f"d{i}"))
    cluster.put(fixture("deployment-available", namespace="elsewhere", name="x"))
    monkeypatch.setattr(cluster_client, "LIST_CHUNK", 2)
    items, version = reader_for(tmp_path, url).deployments(NS)
    assert [i["metadata"]["name"] for i in items] == [f"d{i}" for i in range(5)]
    assert version == str(cluster.version)
    pages = [r for r in cluster.requests if r.startswith(f"/apis/apps/v1/namespaces/{NS}/")]
    assert len(pages) == 3 and "continue=" in pages[1]


def test_a_refused_token_and_an_unreachable_server_are_kubernetes_errors(
    api: tuple[Cluster, str], tmp_path: Path
) -> None:
    _, url = api
    with pytest.raises(KubernetesError) as refused:
        reader_for(tmp_path, url, token="wrong").pods(NS)
    assert "credentials refused" in refused.value.message
    assert refused.value.details["status"] == 401
    with socket_closed() as dead_url, pytest.raises(KubernetesError) as unreachable:
        reader_for(tmp_path, dead_url).pods(NS)
    assert "unreachable" in unreachable.value.message


class socket_closed:
    """A URL nothing listens on (a port bound, then released)."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        pass


def test_in_cluster_reads_with_the_service_account_token_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubernetes.config import incluster_config

    cert, key = self_signed(tmp_path)
    token = tmp_path / "token"
    token.write_text(TOKEN, encoding="utf-8")
    # What the kubelet gives a pod: the service's address in the environment, the service
    # account's token and the cluster CA in files (here in tmp_path, not /var/run/secrets).
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(cert))
    with pytest.raises(KubernetesError):  # outside a pod: said at start, not at the first read
        open_cluster(ClusterCapacity(in_cluster=True))
    with standin(tls=(cert, key)) as (cluster, url):
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", url.rsplit(":", 1)[1])
        cluster.put(fixture("namespace", name=NS))
        reader = open_cluster(ClusterCapacity(in_cluster=True, timeout_s=5))
        assert reader is not None
        try:
            assert reader.namespace(NS) is not None  # 401 without the token: KubernetesError
        finally:
            reader.close()
    assert cluster.requests == [f"/api/v1/namespaces/{NS}"]


def test_an_unknown_context_is_reported_at_start(api: tuple[Cluster, str], tmp_path: Path) -> None:
    _, url = api
    path = kubeconfig(tmp_path / "kubeconfig", url)
    with pytest.raises(KubernetesError) as caught:
        open_cluster(ClusterCapacity(kubeconfig=str(path), context="nope"))
    assert caught.value.details["context"] == "nope"


def test_a_missing_object_is_none_not_an_error(api: tuple[Cluster, str], tmp_path: Path) -> None:
    cluster, url = api
    cluster.put(fixture("namespace", name=NS))
    reader = reader_for(tmp_path, url)
    assert reader.namespace(NS) is not None
    assert reader.namespace("ecp-ai-nobody") is None


def judge_replicas(
    deployments: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    ready = sum(d["status"].get("availableReplicas", 0) for d in deployments)
    return {"available": ready, "pods": len(pods)}, ready >= 3


def test_the_follower_streams_from_watches_and_relists_after_410(
    api: tuple[Cluster, str], tmp_path: Path
) -> None:
    cluster, url = api
    progressing = fixture("deployment-progressing", namespace=NS, name="chatbot")
    cluster.put(progressing)
    seen, _stop, thread = start_follower(reader_for(tmp_path, url), seconds=2)
    wait_for(lambda: seen == [{"available": 1, "pods": 0}])
    cluster.put(fixture("pod-running", namespace=NS))  # a watch event: one more pod
    wait_for(lambda: seen[-1] == {"available": 1, "pods": 1})
    cluster.compact()  # the watched versions expire: the next watch gets 410 and re-lists

    def lists() -> int:
        return sum("watch" not in r and "/deployments" in r for r in cluster.requests)

    wait_for(lambda: lists() >= 2)  # the first list, and the re-list after 410 Gone
    two = json.loads(json.dumps(progressing))
    two["status"]["availableReplicas"] = 2
    cluster.put(two)
    wait_for(lambda: seen[-1]["available"] == 2)  # watching on from the re-list's version
    done = json.loads(json.dumps(progressing))
    done["status"]["availableReplicas"] = 3
    cluster.put(done)
    thread.join(timeout=15)
    assert not thread.is_alive()  # final: the follower ended by itself
    assert seen[-1]["available"] == 3
    assert any("allowWatchBookmarks=true" in r for r in cluster.requests)
    assert all("watch=true" not in r or "resourceVersion=" in r for r in cluster.requests)


def test_a_bookmark_moves_the_watch_on_without_a_relist_or_a_report(
    api: tuple[Cluster, str], tmp_path: Path
) -> None:
    cluster, url = api
    cluster.put(fixture("deployment-progressing", namespace=NS, name="chatbot"))
    # Watches end each second: the next starts where the last left.
    seen, stop, thread = start_follower(reader_for(tmp_path, url), seconds=1)
    try:
        wait_for(lambda: len(seen) == 1)
        # Changes elsewhere move the cluster's version; this namespace's watches see only
        # bookmarks carrying it.
        elsewhere = [
            cluster.put(fixture("pod-running", namespace="elsewhere", name=f"p{i}"))
            for i in range(3)
        ]
        moved_to = int(elsewhere[-1]["metadata"]["resourceVersion"])

        def watched_from(kind: str) -> list[int]:
            return [
                int(r.split("resourceVersion=")[1].split("&")[0])
                for r in cluster.requests
                if "watch=true" in r and f"/namespaces/{NS}/{kind}" in r
            ]

        wait_for(
            lambda: all(
                max(watched_from(k), default=0) >= moved_to for k in ("deployments", "pods")
            )
        )
    finally:
        stop.set()
        thread.join(timeout=15)
    lists = [r for r in cluster.requests if "watch" not in r and f"/namespaces/{NS}/" in r]
    assert len(lists) == 2  # one list per kind, at the start: no re-list
    assert seen == [{"available": 1, "pods": 0}]  # a bookmark is not a change


def start_follower(
    reader: ClusterReader, seconds: float
) -> tuple[list[dict[str, Any]], threading.Event, threading.Thread]:
    """follow_rollout of NS's chatbot in a daemon thread, each watch ending after `seconds`:
    the reports it makes, the event that stops it, and the thread."""
    seen: list[dict[str, Any]] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=follow_rollout,
        args=(reader, NS, judge_replicas, seen.append, stop),
        kwargs={"seconds": seconds},
        daemon=True,
    )
    thread.start()
    return seen, stop, thread


def wait_for(condition: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# -- the API reading the cluster ------------------------------------------------------------


@pytest.fixture
def published(tmp_path: Path, api: tuple[Cluster, str]) -> tuple[Settings, str]:
    """A workspace with TENANT compiled and published (its deploy commit), and ecp.toml
    pointing at the stand-in."""
    _, url = api
    root = tmp_path / "ws"
    make_workspace(root, (TENANT,))
    for args in (("compile", "--all"), ("publish",)):
        done = run_ecp(root, *args)
        assert done.code == 0, done.stderr
    path = kubeconfig(tmp_path / "kubeconfig", url)
    (root / "ecp.toml").write_text(
        f'[cluster]\nkubeconfig = "{path}"\ncontext = "standin"\ntimeout_s = 5\n', "utf-8"
    )
    commit = subprocess.run(
        ["git", "-C", str(root / ".ecp" / "deploy-repo"), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Settings.load(root), commit


def roll_out(cluster: Cluster, commit: str, deployment: str = "deployment-available") -> None:
    cluster.put(fixture("namespace", name=NS))
    app = fixture("argocd-application", name=f"ecp-{TENANT}")
    app["status"]["sync"]["revision"] = commit
    cluster.put(app)
    cluster.put(fixture(deployment, namespace=NS, name="chatbot", labels=LABELS))
    cluster.put(fixture("pod-running", namespace=NS))
    cluster.put(fixture("event", namespace=NS))
    for i, gpu_type in enumerate(("l4", "t4")):
        node = fixture("node", name=f"node-{i}")
        node["metadata"]["labels"]["ecp.ai/gpu-type"] = gpu_type
        cluster.put(node)
    cluster.put(fixture("resourcequota", namespace=NS, labels=LABELS))


@pytest.fixture
def server(published: tuple[Settings, str]) -> Iterator[LiveServer]:
    with live_server(published[0]) as live:
        yield live


def test_deployment_status_is_read_from_live_objects(
    server: LiveServer, published: tuple[Settings, str], api: tuple[Cluster, str]
) -> None:
    cluster, _ = api
    roll_out(cluster, published[1], "deployment-progressing")
    url = f"{server.http}/api/v1/tenants/{TENANT}/deployment-status"
    body = httpx.get(url, headers=REAL, timeout=30).json()
    assert (body["status"], body["phase"], body["progress"]) == (
        "deploying",
        "scaling-services",
        33,
    )
    assert body["deployment_id"] == f"dep-{published[1][:12]}"
    assert {
        "type": "Deployment",
        "name": "chatbot",
        "status": "Progressing",
        "replicas": "1/3",
    } in (body["pending_resources"])
    assert any(
        log["message"].startswith("Deployment nginx-deployment: ScalingReplicaSet")
        for log in body["logs"]
    )
    assert body["simulated"] is False and body["source"].startswith("cluster")
    cluster.put(fixture("deployment-available", namespace=NS, name="chatbot", labels=LABELS))
    done = httpx.get(url, headers=REAL, timeout=30).json()
    assert (done["status"], done["progress"]) == ("running", 100)
    time.sleep(LIST_STATUS_TTL_S)  # the list reads the cluster at most once per period
    tenants = httpx.get(f"{server.http}/api/v1/tenants/", headers=REAL, timeout=30).json()
    assert [t["status"] for t in tenants["tenants"] if t["tenant_id"] == TENANT] == ["running"]


def test_system_capacity_comes_from_nodes_and_quotas(
    server: LiveServer, published: tuple[Settings, str], api: tuple[Cluster, str]
) -> None:
    cluster, _ = api
    roll_out(cluster, published[1])
    body = httpx.get(f"{server.http}/api/v1/monitoring/system", headers=REAL, timeout=30).json()
    assert body["total_resources"]["cpu"] == f"{2 * 47810}m"
    assert body["total_resources"]["gpu"] == 8
    assert body["total_resources"]["gpu_by_type"] == {"l4": 4, "t4": 4}
    assert body["used_resources"]["cpu"] == "750m" and body["used_resources"]["gpu"] == 2
    assert body["cluster_status"] == "healthy"


def test_the_deployment_stream_follows_watches_until_running(
    server: LiveServer, published: tuple[Settings, str], api: tuple[Cluster, str]
) -> None:
    cluster, _ = api
    roll_out(cluster, published[1], "deployment-progressing")
    deployment_id = f"dep-{published[1][:12]}"
    with connect(
        f"{server.ws}/ws/deployment/{deployment_id}", open_timeout=10, additional_headers=AUTH
    ) as ws:
        first = json.loads(ws.recv(timeout=15))
        while first["status"] != "deploying":
            first = json.loads(ws.recv(timeout=15))
        assert first["progress"] == 33
        # The rollout moves on only once the stream is watching: the change must come by watch.
        wait_for(lambda: sum("watch=true" in r for r in cluster.requests) >= 2)
        cluster.put(fixture("deployment-available", namespace=NS, name="chatbot"))
        last = first
        while last["status"] == "deploying":
            last = json.loads(ws.recv(timeout=15))
        assert (last["status"], last["progress"], last["phase"]) == ("running", 100, "completed")
        with pytest.raises(Exception):  # noqa: B017 - the server closes normally after the end
            ws.recv(timeout=10)
    assert ws.close_code == 1000
    watches = [r for r in cluster.requests if "watch=true" in r]
    assert watches and all("resourceVersion=" in r for r in watches)

"""Every route and stream x every kind of caller, against a real uvicorn server (`ecp serve`).

Callers: anonymous, viewer, ingest, editor in scope, editor out of scope, admin, an expired token
and a revoked one, all made by the real `ecp token create`. Each cell asserts the status (or the
stream's close code), and every refusal asserts that nothing changed: the specs, output/, the
workspace repo and the deploy repo.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from access_support import Snapshot, create_token, revoke_token, ws_probe
from api_server import AUTH, LiveServer, make_workspace, running_server

TARGET = "my-ai-service"  # in the scope of the viewer, ingest and in-scope editor
OTHER = "shop-chat-lite"  # the out-of-scope editor's only tenant
CALLERS = (
    "anonymous",
    "viewer",
    "ingest",
    "editor-in",
    "editor-out",
    "admin",
    "expired",
    "revoked",
)
ROOMY_LIMITS = """\
[access.rate_limits.anonymous]
reads = {per_second = 1000, burst = 1000}
writes = {per_second = 1000, burst = 1000}
"""
MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: y\ndata: {}\n"


def _small(tenant_id: str) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "name": tenant_id,
        "preset": "small",
        "service_requirements": {"chatbot": 5},
        "labels": {"team": "a"},
    }


@dataclass
class World:
    server: LiveServer
    tokens: dict[str, str | None]
    deployment_id: str

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens[caller]
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return {"X-Demo-Mode": "false", **auth}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = make_workspace(tmp_path_factory.mktemp("matrix") / "ws")
    # Failed logins spend their address's anonymous budget; this matrix tests roles, not limits.
    (root / "ecp.toml").write_text(ROOMY_LIMITS, encoding="utf-8")
    tokens: dict[str, str | None] = {"anonymous": None}
    tokens["viewer"] = create_token(root, "viewer", "viewer", "--tenant", TARGET)
    tokens["ingest"] = create_token(root, "ingest", "ingest", "--tenant", TARGET)
    tokens["editor-in"] = create_token(
        root, "editor-in", "editor", "--tenant", TARGET, "--tenant-selector", "team=a"
    )
    tokens["editor-out"] = create_token(root, "editor-out", "editor", "--tenant", OTHER)
    tokens["admin"] = create_token(root, "admin", "admin")
    tokens["expired"] = create_token(root, "expired", "admin", "--expires", "1s")
    tokens["revoked"] = create_token(root, "revoked", "admin")
    revoke_token(root, "revoked")
    with running_server(root) as server:
        admin = {"X-Demo-Mode": "false", **AUTH}
        for caller in CALLERS:  # one tenant for each caller to try deleting
            created = httpx.post(
                f"{server.api}/tenants/", json=_small(f"victim-{caller}"), headers=admin, timeout=60
            )
            assert created.status_code == 201, created.text
        updated = httpx.put(
            f"{server.api}/tenants/{TARGET}", json={"description": "x"}, headers=admin, timeout=60
        )
        assert updated.status_code == 200, updated.text
        time.sleep(max(0.0, 1.2))  # the expired token's second is over
        yield World(server, tokens, str(updated.json()["deployment_id"]))


Request = Callable[[World, str], httpx.Response]


def _call(method: str, path: str, body: Callable[[str], Any] | None = None) -> Request:
    def call(world: World, caller: str) -> httpx.Response:
        url = world.server.url + path.format(caller=caller, target=TARGET)
        payload = body(caller) if body else None
        return httpx.request(method, url, json=payload, headers=world.headers(caller), timeout=60)

    return call


ROUTES: dict[str, Request] = {
    "list": _call("GET", "/api/v1/tenants/"),
    "create": _call("POST", "/api/v1/tenants/", lambda c: _small(f"made-by-{c}")),
    "calculate": _call(
        "POST",
        "/api/v1/tenants/calculate-resources",
        lambda c: {"service_requirements": {"chatbot": 10}},
    ),
    "validate": _call(
        "POST", "/api/v1/tenants/validate-manifest", lambda c: {"manifest_content": MANIFEST}
    ),
    "detail": _call("GET", "/api/v1/tenants/{target}"),
    "update": _call("PUT", "/api/v1/tenants/{target}", lambda c: {"description": f"by {c}"}),
    "delete": _call("DELETE", "/api/v1/tenants/victim-{caller}"),
    "manifest": _call("GET", "/api/v1/tenants/{target}/manifest"),
    "status": _call("GET", "/api/v1/tenants/{target}/deployment-status"),
    "monitoring_get": _call("GET", "/api/v1/tenants/{target}/monitoring"),
    "monitoring_post": _call(
        "POST", "/api/v1/tenants/{target}/monitoring", lambda c: {"metrics": {"cpu_usage": 50.0}}
    ),
    "alerts": _call("GET", "/api/v1/tenants/{target}/alerts"),
    "system": _call("GET", "/api/v1/monitoring/system"),
    "metrics": _call("GET", "/metrics"),
    "audit": _call("GET", "/api/v1/audit"),
    "history": _call("GET", "/api/v1/tenants/{target}/history"),
    "preview": _call(
        "POST", "/api/v1/tenants/{target}/preview", lambda c: {"description": f"by {c}?"}
    ),
}
OK = {"create": 201, "monitoring_post": 201}
DENIED = {"anonymous": 401, "expired": 401, "revoked": 401}
VIEWER = {
    "create": 403,
    "update": 403,
    "preview": 403,
    "delete": 403,
    "monitoring_post": 403,
    "metrics": 403,
}
INGEST_MAY = {"monitoring_post"}
EDITOR_OUT_404 = {
    "detail",
    "update",
    "preview",
    "history",
    "delete",
    "manifest",
    "status",
    "monitoring_get",
    "alerts",
}


def expected_status(route: str, caller: str) -> int:
    if caller in DENIED:
        return DENIED[caller]
    allowed = OK.get(route, 200)
    if caller == "admin":
        return allowed
    if caller == "ingest":
        return allowed if route in INGEST_MAY else 403
    if caller == "viewer":
        return VIEWER.get(route, allowed)
    if caller == "editor-in":
        return 403 if route in ("monitoring_post", "metrics") else allowed
    # editor-out: the target does not exist for it; its create lands outside its scope
    if route in EDITOR_OUT_404:
        return 404
    return 403 if route in ("create", "monitoring_post", "metrics") else allowed


CASES = [(route, caller) for route in ROUTES for caller in CALLERS]


@pytest.mark.parametrize(("route", "caller"), CASES, ids=[f"{r}-{c}" for r, c in CASES])
def test_each_route_answers_each_caller_as_its_role_and_scope_say(
    world: World, route: str, caller: str
) -> None:
    root = world.server.root
    before = Snapshot.of(root)
    answer = ROUTES[route](world, caller)
    wanted = expected_status(route, caller)
    assert answer.status_code == wanted, answer.text
    if wanted >= 400:
        assert Snapshot.of(root) == before, "a refused call changed something"
        error = answer.json()["error"]
        assert (
            error["code"]
            == {
                401: "UNAUTHORIZED",
                403: "FORBIDDEN",
                404: "TENANT_NOT_FOUND",
            }[wanted]
        )
        token = world.tokens[caller]
        assert token is None or token not in answer.text
    if wanted == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    if wanted == 403:
        assert answer.json()["error"]["details"].get("permission")
    assert "RateLimit-Remaining" in answer.headers


STREAMS = {
    "ws_monitoring": ("/ws/monitoring/{target}", {"action": "ping"}),
    "ws_alerts": ("/ws/alerts/{target}", {"action": "ping"}),
    "ws_deployment": ("/ws/deployment/{deployment}", None),
}


def expected_close(stream: str, caller: str) -> int | None:
    """None: the stream opened and answered; else the close code after the error frame."""
    if caller in DENIED:
        return 4401
    if caller == "ingest":
        return 4403
    if caller == "editor-out":
        return 4404
    return None


STREAM_CASES = [(stream, caller) for stream in STREAMS for caller in CALLERS]


@pytest.mark.parametrize(
    ("stream", "caller"), STREAM_CASES, ids=[f"{s}-{c}" for s, c in STREAM_CASES]
)
def test_each_stream_opens_only_for_callers_who_may_read_its_tenant(
    world: World, stream: str, caller: str
) -> None:
    path, command = STREAMS[stream]
    url = world.server.url.replace("http", "ws") + path.format(
        target=TARGET, deployment=world.deployment_id
    )
    token = world.tokens[caller]
    outcome = ws_probe(
        url, headers={"Authorization": f"Bearer {token}"} if token else None, send=command
    )
    wanted = expected_close(stream, caller)
    assert outcome.first is not None
    if wanted is None:
        assert "error" not in outcome.first, outcome.first
    else:
        assert outcome.close_code == wanted, outcome
        assert outcome.first["error"]["code"] in (
            "UNAUTHORIZED",
            "FORBIDDEN",
            "TENANT_NOT_FOUND",
            "DEPLOYMENT_NOT_FOUND",
        )


def test_a_scoped_list_counts_only_the_callers_tenants(world: World) -> None:
    answer = httpx.get(f"{world.server.api}/tenants/", headers=world.headers("editor-out"))
    body = answer.json()
    assert [t["tenant_id"] for t in body["tenants"]] == [OTHER]
    assert body["total_count"] == 1
    everything = httpx.get(f"{world.server.api}/tenants/", headers=world.headers("admin")).json()
    assert everything["total_count"] > 1


def test_a_scoped_system_view_sums_only_the_callers_tenants(world: World) -> None:
    mine = httpx.get(
        f"{world.server.api}/monitoring/system", headers=world.headers("editor-out")
    ).json()
    everything = httpx.get(
        f"{world.server.api}/monitoring/system", headers=world.headers("admin")
    ).json()
    assert mine["total_tenants"] == 1
    assert everything["total_tenants"] > 1
    assert mine["used_resources"] != everything["used_resources"]

"""Editor policy, label-selector scopes, the demo sandbox and auth = "none", on a real uvicorn
server (in-process, on a socket the test binds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from access_support import ws_probe
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from test_monitoring_support import LiveServer, live_server, make_workspace, write_spec

from compiler.access.roles import TenantScope
from compiler.access.tokens import TokenStore
from compiler.service.app import create_app

POLICY = """\
[access.editor]
allowed_gpu_types = ["t4", "l4"]
admin_only_fields = ["ingress_host"]
"""


def _token(root: Path, name: str, role: str, scope: TenantScope | None = None) -> dict[str, str]:
    token, _ = TokenStore(root / ".ecp" / "tokens.json").create(name, role, scope)
    return {"Authorization": f"Bearer {token}", "X-Demo-Mode": "false"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("policy")
    (root / "ecp.toml").write_text("demo_anonymous = true\n" + POLICY, encoding="utf-8")
    settings = make_workspace(root, ("team-a-svc", "team-b-svc"), ("demo-shop",))
    spec = root / "tenants" / "team-a-svc.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "labels:\n  team: a\n", encoding="utf-8")
    with live_server(settings) as live:
        yield live


def _root(server: LiveServer) -> Path:
    return Path(server.app.state.ecp.settings.root)


def test_an_editor_cannot_point_an_image_at_another_registry_and_nothing_is_written(
    server: LiveServer,
) -> None:
    root = _root(server)
    editor = _token(root, "ed-images", "editor")
    spec = root / "tenants" / "team-a-svc.yaml"
    before = spec.read_bytes()
    answer = httpx.put(
        f"{server.http}/api/v1/tenants/team-a-svc",
        json={"images": {"chatbot": "attacker.example/cryptominer:1.0"}},
        headers=editor,
        timeout=60,
    )
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "FORBIDDEN"
    assert error["details"]["field"] == "images.chatbot"
    assert error["details"]["allowed"] == ["ecp-ai"]
    assert spec.read_bytes() == before
    own = httpx.put(
        f"{server.http}/api/v1/tenants/team-a-svc",
        json={"images": {"chatbot": "ecp-ai/chatbot:1.52.0"}},
        headers=editor,
        timeout=60,
    )
    assert own.status_code == 200, own.text
    assert "ecp-ai/chatbot:1.52.0" in spec.read_text(encoding="utf-8")


def test_an_admin_may_use_any_registry(server: LiveServer) -> None:
    admin = _token(_root(server), "ad-images", "admin")
    answer = httpx.put(
        f"{server.http}/api/v1/tenants/team-b-svc",
        json={"images": {"chatbot": "registry.internal/chatbot:9"}},
        headers=admin,
        timeout=60,
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"gpu_type": "a100"}, "gpu_type"), ({"ingress_host": "evil.example.com"}, "ingress_host")],
    ids=["gpu-type-outside-the-allowed-list", "admin-only-field"],
)
def test_the_editor_policy_refuses_what_it_does_not_list_naming_the_field(
    server: LiveServer, patch: dict[str, str], field: str
) -> None:
    editor = _token(_root(server), f"ed-{field.replace('_', '-')}", "editor")
    answer = httpx.put(
        f"{server.http}/api/v1/tenants/team-a-svc", json=patch, headers=editor, timeout=60
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["details"]["field"] == field


def test_a_label_selector_scope_sees_only_matching_tenants(server: LiveServer) -> None:
    team_a = _token(_root(server), "team-a", "editor", TenantScope.parse((), ("team=a",)))
    listed = httpx.get(f"{server.http}/api/v1/tenants/", headers=team_a).json()
    assert [t["tenant_id"] for t in listed["tenants"]] == ["team-a-svc"]
    assert httpx.get(f"{server.http}/api/v1/tenants/team-a-svc", headers=team_a).status_code == 200
    hidden = httpx.get(f"{server.http}/api/v1/tenants/team-b-svc", headers=team_a)
    assert hidden.status_code == 404
    absent = httpx.get(f"{server.http}/api/v1/tenants/no-such-tenant", headers=team_a)
    assert hidden.json()["error"]["message"].replace("team-b-svc", "X") == absent.json()["error"][
        "message"
    ].replace("no-such-tenant", "X")


def test_a_create_or_relabel_outside_the_scope_is_forbidden(server: LiveServer) -> None:
    root = _root(server)
    team_a = _token(root, "team-a-writer", "editor", TenantScope.parse((), ("team=a",)))
    body = {"tenant_id": "team-c-svc", "name": "c", "service_requirements": {"chatbot": 2}}
    outside = httpx.post(
        f"{server.http}/api/v1/tenants/",
        json={**body, "labels": {"team": "c"}},
        headers=team_a,
        timeout=60,
    )
    assert outside.status_code == 403
    assert outside.json()["error"]["details"]["field"] == "labels"
    assert not (root / "tenants" / "team-c-svc.yaml").exists()
    moved = httpx.put(
        f"{server.http}/api/v1/tenants/team-a-svc",
        json={"labels": {"team": "b"}},
        headers=team_a,
        timeout=60,
    )
    assert moved.status_code == 403


def test_anonymous_callers_reach_only_the_demo_sandbox(server: LiveServer) -> None:
    demo = httpx.get(f"{server.http}/api/v1/tenants/", headers={"X-Demo-Mode": "true"})
    assert demo.status_code == 200
    assert [t["tenant_id"] for t in demo.json()["tenants"]] == ["demo-shop"]
    assert "RateLimit-Limit" in demo.headers
    real = httpx.get(f"{server.http}/api/v1/tenants/", headers={"X-Demo-Mode": "false"})
    assert real.status_code == 401
    assert real.headers["WWW-Authenticate"].startswith("Bearer")
    metrics = httpx.get(f"{server.http}/metrics")
    assert metrics.status_code == 401


def test_a_demo_stream_never_follows_a_real_deployment(server: LiveServer) -> None:
    root = _root(server)
    admin = _token(root, "ad-deploy", "admin")
    updated = httpx.put(
        f"{server.http}/api/v1/tenants/team-b-svc",
        json={"description": "real change"},
        headers=admin,
        timeout=60,
    )
    real_id = updated.json()["deployment_id"]
    base = server.ws + f"/ws/deployment/{real_id}"
    seen = ws_probe(base, headers={"Authorization": admin["Authorization"]})
    assert seen.first is not None and "error" not in seen.first
    for headers in (None, {"Authorization": admin["Authorization"]}):
        sandboxed = ws_probe(base + "?demo=true", headers=headers)
        assert sandboxed.close_code == 4404, sandboxed
    real_tenant = ws_probe(
        server.ws + "/ws/monitoring/team-b-svc?demo=true", send={"action": "ping"}
    )
    assert real_tenant.close_code == 4404


def test_anonymous_demo_callers_are_rate_limited_per_address(server: LiveServer) -> None:
    statuses = [
        httpx.post(
            f"{server.http}/api/v1/tenants/validate-manifest",
            json={"manifest_content": "kind: x\n"},
            headers={"X-Demo-Mode": "true"},
        )
        for _ in range(12)
    ]
    limited = [a for a in statuses if a.status_code == 429]
    assert limited, [a.status_code for a in statuses]
    assert limited[0].json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].headers["RateLimit-Remaining"] == "0"


def test_with_demo_access_off_an_anonymous_demo_call_is_401(tmp_path: Path) -> None:
    settings = make_workspace(tmp_path)
    with live_server(settings) as live:
        answer = httpx.get(f"{live.http}/api/v1/tenants/", headers={"X-Demo-Mode": "true"})
    assert answer.status_code == 401


def test_auth_none_lets_every_local_call_through(tmp_path: Path) -> None:
    (tmp_path / "ecp.toml").write_text('auth = "none"\n', encoding="utf-8")
    settings = make_workspace(tmp_path)
    write_spec(settings.tenants_dir, "extra")
    with live_server(settings) as live:
        answer = httpx.get(f"{live.http}/api/v1/tenants/", headers={"X-Demo-Mode": "false"})
    assert answer.status_code == 200
    assert answer.json()["total_count"] == 2


def test_a_protected_route_without_a_guard_rule_stops_the_app_from_being_built(
    tmp_path: Path,
) -> None:
    async def sneaky(request: object) -> PlainTextResponse:
        return PlainTextResponse("no guard")

    settings = make_workspace(tmp_path)
    with pytest.raises(RuntimeError, match="ROUTE_ACTIONS"):
        create_app(settings, extra_routes=[Route("/api/v1/sneaky", sneaky)])
    create_app(settings, extra_routes=[Route("/public", sneaky)])  # not protected: fine

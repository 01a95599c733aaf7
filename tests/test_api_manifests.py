"""Manifest, validate-manifest and deployment-status on a real server."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import yaml
from api_server import AUTH, LiveServer, live_server

from ecp_orchestrator import ECPClient, ManifestInvalidError, TenantNotFoundError

__all__ = ["live_server"]

REAL = {"X-Demo-Mode": "false", **AUTH}
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)
DEEP_NESTING = "x: " + "[" * 20_000 + "]" * 20_000 + "\n"


def test_the_default_manifest_is_byte_for_byte_the_compiled_output(
    live_server: LiveServer,
) -> None:
    with ECPClient(live_server.api) as client:
        manifest = client.get_manifest("my-ai-service")
    compiled = (live_server.root / "output" / "my-ai-service" / "manifest.yaml").read_text("utf-8")
    assert manifest == compiled


def test_the_manifest_options_render_through_the_pipeline(live_server: LiveServer) -> None:
    with ECPClient(live_server.api) as client:
        text = client.get_manifest("my-ai-service", include_ingress=True, namespace="custom-ns")
        as_json = json.loads(client.get_manifest("my-ai-service", format="json"))
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert any(d["kind"] == "Ingress" for d in docs)
    namespaced = [d for d in docs if d["kind"] != "Namespace" and "namespace" in d["metadata"]]
    assert namespaced and all(d["metadata"]["namespace"] == "custom-ns" for d in namespaced)
    assert as_json["kind"] == "List"
    assert as_json["items"][0]["kind"] == "Namespace"


def test_a_bad_namespace_or_format_is_a_422(live_server: LiveServer) -> None:
    for query in ({"namespace": "Not_A_Label"}, {"format": "xml"}):
        answer = httpx.get(
            f"{live_server.api}/tenants/my-ai-service/manifest", params=query, headers=REAL
        )
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "VALIDATION_ERROR"


def test_the_manifest_of_a_missing_tenant_is_tenant_not_found(live_server: LiveServer) -> None:
    with ECPClient(live_server.api) as client, pytest.raises(TenantNotFoundError):
        client.get_manifest("ghost")


def test_validate_manifest_summarises_a_compiled_manifest(live_server: LiveServer) -> None:
    compiled = (live_server.root / "output" / "my-ai-service" / "manifest.yaml").read_text("utf-8")
    with ECPClient(live_server.api) as client:
        answer = client.validate_manifest(compiled, tenant_id="my-ai-service")
    assert answer["valid"] is True
    assert answer["errors"] == []
    summary = answer["resource_summary"]
    assert summary["namespaces"] == 1
    assert summary["deployments"] >= 1
    assert summary["estimated_pods"] >= summary["deployments"]
    assert summary["total_cpu"].endswith("m")
    assert answer["estimated_cost"].endswith("/month")
    # a foreign manifest has no plan to derive the time from: the tier's figure, said to be one
    assert re.fullmatch(
        r"\d+-\d+ minutes \(nominal for the \w+ tier, not derived from this plan\)",
        answer["deployment_time"],
    )


def test_validate_manifest_reports_schema_errors_as_invalid(live_server: LiveServer) -> None:
    bad = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  colour: blue\n"
    with ECPClient(live_server.api) as client:
        answer = client.validate_manifest(bad)
    assert answer["valid"] is False
    assert answer["errors"] == [
        'line 5: doc 0 Namespace/x: metadata.colour: unknown field "colour"'
    ]


def test_the_references_own_validate_manifest_body_is_invalid_as_an_api_server_says(
    live_server: LiveServer,
) -> None:
    # the reference's example body: a Namespace with no name, which every API server rejects
    with ECPClient(live_server.api) as client:
        answer = client.validate_manifest("apiVersion: v1\nkind: Namespace\n...")
    assert answer["valid"] is False
    assert answer["errors"] == [
        "line 1: doc 0 Namespace/?: metadata.name: Required value: name or generateName is required"
    ]


@pytest.mark.parametrize("content", [ALIAS_BOMB, DEEP_NESTING], ids=["alias-bomb", "deep-nesting"])
def test_hostile_yaml_is_refused_with_422_quickly(live_server: LiveServer, content: str) -> None:
    with ECPClient(live_server.api) as client, pytest.raises(ManifestInvalidError) as caught:
        client.validate_manifest(content)
    assert caught.value.status_code == 422
    assert caught.value.code == "MANIFEST_INVALID"
    assert caught.value.details["errors"]


def test_real_deployment_status_reports_not_published_then_the_publish_and_no_progress(
    live_server: LiveServer,
) -> None:
    with ECPClient(live_server.api) as client:
        # Before any real write the compiled tenants are not published: it says so. (One test,
        # since the create below publishes them all: split, random order could run it first.)
        before = client.get_deployment_status("shop-chat-lite")
        assert before["status"] == "not-published"
        assert before["deployment_id"] is None
        assert before["progress"] == 0
        created = client.create_tenant(
            {"tenant_id": "status-probe", "name": "probe", "service_requirements": {"chatbot": 5}}
        )
        status = client.get_deployment_status("status-probe")
        carried = client.get_deployment_status("shop-chat-lite")
    assert status["deployment_id"] == created["deployment_id"]
    assert status["simulated"] is False
    assert status["status"] == "awaiting-sync"
    assert status["progress"] == 0
    assert status["created_resources"] == []
    kinds = {r["type"] for r in status["pending_resources"]}
    assert {"Namespace", "Deployment"} <= kinds
    assert status["logs"] and created["deployment_id"] in status["logs"][0]["message"]
    # A publish carries the whole compiled output, so the earlier tenant is now published too.
    assert carried["deployment_id"] == created["deployment_id"]


def test_demo_deployment_status_is_simulated_and_says_so(live_server: LiveServer) -> None:
    with ECPClient(live_server.api, is_demo=True) as demo:
        demo.create_tenant(
            {"tenant_id": "demo-probe", "name": "demo", "service_requirements": {"chatbot": 5}}
        )
        status = demo.get_deployment_status("demo-probe")
    assert status["simulated"] is True
    assert "simulation" in status["source"]
    assert 0 <= status["progress"] <= 100
    assert status["estimated_completion"].endswith("Z")
    total = len(status["created_resources"]) + len(status["pending_resources"])
    assert total > 0


def test_a_larger_alias_bomb_is_refused_without_being_expanded(live_server: LiveServer) -> None:
    answer = httpx.post(
        f"{live_server.api}/tenants/validate-manifest",
        headers=REAL,
        json={"manifest_content": ALIAS_BOMB * 50},
        timeout=30,
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "MANIFEST_INVALID"

"""The SDK: typed errors from error bodies, path safety, and the reference's own SDK example."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_server import LiveServer, live_server

from ecp_orchestrator import (
    ECPClient,
    ECPConnectionError,
    ECPError,
    InsufficientResourcesError,
    PreconditionFailedError,
    ServerError,
    TenantNotFoundError,
)
from ecp_orchestrator.errors import error_from_response

__all__ = ["live_server"]


def _body(code: str) -> dict[str, object]:
    return {
        "error": {
            "code": code,
            "message": "m",
            "details": {"tenant_id": "t"},
            "timestamp": "2024-01-20T14:30:00Z",
            "request_id": "req-xyz789",
        }
    }


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (404, "TENANT_NOT_FOUND", TenantNotFoundError),
        (422, "INSUFFICIENT_RESOURCES", InsufficientResourcesError),
        (412, "PRECONDITION_FAILED", PreconditionFailedError),
        (500, "SOMETHING_NEW", ServerError),
        (418, "SOMETHING_NEW", ECPError),
    ],
    ids=["not-found", "insufficient", "precondition", "unknown-5xx", "unknown-4xx"],
)
def test_error_bodies_become_typed_exceptions_with_code_and_request_id(
    status: int, code: str, expected: type[ECPError]
) -> None:
    error = error_from_response(status, _body(code), "req-header")
    assert type(error) is expected
    assert error.code == code
    assert error.request_id == "req-xyz789"
    assert error.details == {"tenant_id": "t"}
    assert error.status_code == status


def test_a_body_that_is_not_the_reference_shape_still_gives_an_error() -> None:
    error = error_from_response(502, "<html>bad gateway</html>", "req-1")
    assert isinstance(error, ServerError)
    assert error.request_id == "req-1"


def test_an_unreachable_server_is_a_connection_error() -> None:
    with (
        ECPClient("http://127.0.0.1:9/api/v1", timeout=2) as client,
        pytest.raises(ECPConnectionError) as caught,
    ):
        client.get_tenants()
    assert caught.value.request_id


def test_tenant_ids_cannot_steer_the_request_path(live_server: LiveServer) -> None:
    with ECPClient(live_server.api) as client, pytest.raises(ECPError) as caught:
        client.get_tenant("../../openapi.json")
    assert caught.value.status_code in (404, 422)


def test_the_references_sdk_example_runs(live_server: LiveServer, tmp_path: Path) -> None:
    client = ECPClient(base_url=live_server.api, is_demo=False)
    tenant = client.create_tenant(
        {
            "tenant_id": "my-service",
            "name": "내 서비스",
            "preset": "medium",
            "service_requirements": {"chatbot": 100},
        }
    )
    assert tenant["tenant_id"] == "my-service"
    manifest = client.get_manifest("my-service")
    out = tmp_path / "deployment.yaml"
    out.write_text(manifest, encoding="utf-8")
    assert "kind: Namespace" in out.read_text("utf-8")
    assert client.last_request_id
    client.close()


def test_preview_history_and_auth_config_reach_their_routes(live_server: LiveServer) -> None:
    manifest = live_server.root / "output" / "my-ai-service" / "manifest.yaml"
    before = manifest.read_bytes()
    with ECPClient(live_server.api) as client:
        etag = client.get_tenant_etag("my-ai-service")
        preview = client.preview_tenant_update(
            "my-ai-service", {"service_requirements": {"chatbot": 300}}, if_match=etag
        )
        assert preview["dry_run"] is True and preview["etag"] == etag
        assert '+    ecp.ai/channels: "300"' in preview["manifest_diff"].splitlines()
        assert manifest.read_bytes() == before
        with pytest.raises(PreconditionFailedError):
            client.preview_tenant_update("my-ai-service", {"name": "x"}, if_match='"gone"')
        history = client.get_tenant_history("my-ai-service", limit=1)
        assert history["count"] == 1 and history["commits"][0]["action"] == "created"
        assert client.get_auth_config() == {"token": True, "oidc": None}

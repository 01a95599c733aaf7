"""One contract, three SDKs: sdk/scenario.json run through Python, JavaScript and Go, one server.

create -> get -> update with If-Match -> calculate -> manifest -> validate -> metrics -> one
stream update -> delete, plus one error of each kind. Each SDK prints a transcript of what it
saw (values, never timestamps or ids); the three must be identical, so an SDK that drifts from
the others (a field lost in a Go struct, a class mapped differently in JS) fails here. The
Python transcript is also checked against what the API promises, so the three cannot drift
together unnoticed. The runs are sequential: each creates and deletes the same tenant.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_server import LiveServer, make_workspace, running_server
from sdk_tools import (
    ECP_BIN,
    GO_SDK,
    JS_SDK,
    SDK,
    require_js_dependencies,
    require_tool,
    tool_env,
)

from ecp_orchestrator import ECPClient, ECPError

SCENARIO = json.loads((SDK / "scenario.json").read_text(encoding="utf-8"))
RUN_TIMEOUT_S = 300


def _mint_token(root: Path) -> str | None:
    """An admin token where the CLI can make one (`ecp token create`); None before auth exists."""
    args = ["token", "create", "--name", "sdk-contract", "--role", "admin", "--format", "json"]
    done = subprocess.run(
        [ECP_BIN, "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=tool_env(),
    )
    if done.returncode != 0:
        return None
    token = json.loads(done.stdout)["token"]
    return str(token)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str | None]]:
    tenants = ("my-ai-service", "shop-chat-lite")
    root = make_workspace(tmp_path_factory.mktemp("contract") / "workspace", tenants)
    token = _mint_token(root)
    with running_server(root) as server:
        yield server, token


def _python_client(base_url: str, token: str | None) -> ECPClient:
    if token is None:
        return ECPClient(base_url=base_url, is_demo=False)
    if "token" in inspect.signature(ECPClient).parameters:
        # Through a dict: mypy must pass both before and after the SDK gains `token=` (issue 9).
        auth: dict[str, Any] = {"token": token}
        return ECPClient(base_url=base_url, is_demo=False, **auth)
    return ECPClient(base_url=base_url, is_demo=False, headers={"Authorization": f"Bearer {token}"})


def _error(exc: ECPError) -> dict[str, Any]:
    return {
        "class": type(exc).__name__,
        "code": exc.code,
        "status": exc.status_code,
        "message": exc.message,
        "details": exc.details,
        "request_id": bool(exc.request_id),
    }


def _pick(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: body[key] for key in keys}


def python_transcript(base_url: str, token: str | None) -> list[list[Any]]:
    s = SCENARIO
    out: list[list[Any]] = []
    tenant_id = s["tenant"]["tenant_id"]

    def expect_error(step: str, call: Any) -> None:
        try:
            call()
        except ECPError as exc:
            out.append([step, _error(exc)])
        else:
            out.append([step, "no error"])

    with _python_client(base_url, token) as c:
        created = c.create_tenant(s["tenant"])
        keys = ("tenant_id", "status", "estimated_resources", "estimated_cost")
        dep_id = created["deployment_id"].startswith("dep-")
        out.append(["create", {**_pick(created, *keys), "deployment_id": dep_id}])
        tenant = c.get_tenant(tenant_id)
        picked = _pick(tenant, "tenant_id", "name", "preset", "service_requirements", "resources")
        sla = _pick(tenant["sla_target"], "availability", "response_time")
        out.append(["get", {**picked, "sla_target": sla}])

        etag = c.get_tenant_etag(tenant_id)
        updated = c.update_tenant(tenant_id, s["update"], if_match=etag)
        out.append(["update", _pick(updated, *keys)])
        out.append(["get_after_update", c.get_tenant(tenant_id)["service_requirements"]])
        expect_error(
            "error:precondition_failed",
            lambda: c.update_tenant(tenant_id, s["stale_update"], if_match=etag),
        )

        estimate = c.calculate_resources(s["calculate"])
        calc = _pick(estimate, "recommended_preset", "resources", "gpu_type", "estimated_cost")
        alternatives = [a["preset"] for a in estimate["alternatives"]]
        out.append(["calculate", {**calc, "alternatives": alternatives}])

        manifest = c.get_manifest(tenant_id)
        digest = hashlib.sha256(manifest.encode("utf-8")).hexdigest()
        out.append(["manifest", {"sha256": digest, "length": len(manifest)}])
        validation = c.validate_manifest(manifest, tenant_id)
        out.append(
            [
                "validate",
                {
                    "valid": validation["valid"],
                    "errors": len(validation["errors"]),
                    "warnings": len(validation["warnings"]),
                    "resource_summary": validation["resource_summary"],
                },
            ]
        )

        accepted = c.send_metrics(tenant_id, s["metrics"])
        out.append(
            ["send_metrics", {"accepted": accepted["accepted"], "alerts": len(accepted["alerts"])}]
        )
        series = c.get_monitoring(tenant_id, metric_type="cpu", hours=1, interval="1m")
        sent = any(p["value"] == s["metrics"]["cpu"] for p in series["metrics"]["cpu"])
        out.append(["monitoring", {"has_sent_cpu": sent}])

        stream = c.subscribe_monitoring(tenant_id, s["stream_metrics"], s["stream_interval_ms"])
        update = next(stream)
        stream.close()
        out.append(["stream", _pick(update, "tenant_id", "metrics")])

        deleted = c.delete_tenant(tenant_id)
        out.append(["delete", {"deletion_id": deleted["deletion_id"].startswith("del-")}])
        expect_error("error:not_found_after_delete", lambda: c.get_tenant(tenant_id))

        existing = {**s["tenant"], "tenant_id": s["existing_tenant"]}
        expect_error("error:not_found", lambda: c.get_tenant(s["missing_tenant"]))
        expect_error("error:already_exists", lambda: c.create_tenant(existing))
        expect_error("error:validation", lambda: c.create_tenant(s["invalid_tenant"]))
        expect_error("error:insufficient_resources", lambda: c.create_tenant(s["oversized_tenant"]))
        expect_error(
            "error:manifest_invalid", lambda: c.validate_manifest(s["unreadable_manifest"])
        )
        expect_error("error:stream", lambda: next(c.subscribe_alerts(s["missing_tenant"])))
    with ECPClient(s["unreachable_base_url"], timeout=5) as dead:
        try:
            dead.get_tenants()
        except ECPError as exc:
            out.append(["error:connection", {"class": type(exc).__name__}])
    # JSON round trip: the other SDKs' transcripts arrive as JSON (tuples become lists).
    result: list[list[Any]] = json.loads(json.dumps(out))
    return result


def _external(args: list[str], cwd: Path, server: LiveServer, token: str | None) -> Any:
    env = tool_env(
        ECP_SCENARIO_BASE_URL=server.api,
        ECP_SCENARIO_TOKEN=token or "",
        ECP_SCENARIO_FILE=str(SDK / "scenario.json"),
    )
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)


def _check_against_the_api(transcript: list[list[Any]]) -> None:
    steps = dict(transcript)
    assert next(iter(steps)) == "create" and len(steps) == len(transcript)
    assert steps["create"]["deployment_id"] is True and steps["create"]["status"] == "pending"
    assert steps["get"]["service_requirements"] == SCENARIO["tenant"]["service_requirements"]
    assert steps["get_after_update"] == SCENARIO["update"]["service_requirements"]
    assert steps["validate"]["valid"] is True and steps["validate"]["errors"] == 0
    assert steps["monitoring"] == {"has_sent_cpu": True}
    assert steps["stream"]["metrics"] == SCENARIO["metrics"]
    expected = {
        "error:precondition_failed": ("PreconditionFailedError", "PRECONDITION_FAILED", 412),
        "error:not_found_after_delete": ("TenantNotFoundError", "TENANT_NOT_FOUND", 404),
        "error:not_found": ("TenantNotFoundError", "TENANT_NOT_FOUND", 404),
        "error:already_exists": ("TenantAlreadyExistsError", "TENANT_ALREADY_EXISTS", 409),
        "error:validation": ("ValidationError", "VALIDATION_ERROR", 422),
        "error:insufficient_resources": (
            "InsufficientResourcesError",
            "INSUFFICIENT_RESOURCES",
            422,
        ),
        "error:manifest_invalid": ("ManifestInvalidError", "MANIFEST_INVALID", 422),
        "error:stream": ("TenantNotFoundError", "TENANT_NOT_FOUND", 404),
    }
    for step, (cls, code, status) in expected.items():
        error = steps[step]
        assert (error["class"], error["code"], error["status"]) == (cls, code, status), step
        assert error["request_id"] is True, step
    assert steps["error:connection"] == {"class": "ECPConnectionError"}


def test_python_javascript_and_go_see_the_same_api(served: tuple[LiveServer, str | None]) -> None:
    server, token = served
    node = require_tool("node")
    require_js_dependencies()
    go = require_tool("go")

    python = python_transcript(server.api, token)
    _check_against_the_api(python)
    javascript = _external([node, "test/scenario.js"], JS_SDK, server, token)
    go_run = _external([go, "run", "./internal/scenario"], GO_SDK, server, token)
    for name, other in (("javascript", javascript), ("go", go_run)):
        for (step, value), (other_step, other_value) in zip(python, other, strict=True):
            assert step == other_step, name
            assert other_value == value, f"{name} differs from python at {step}"

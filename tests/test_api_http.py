"""HTTP behaviour of the real server: headers, the one error body, body limits, OpenAPI and docs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from api_server import AUTH, LiveServer, live_server

from compiler.spec.ids import MAX_TENANT_ID

__all__ = ["live_server"]

REAL = {"X-Demo-Mode": "false", **AUTH}
MiB = 1024 * 1024


def assert_error_body(answer: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert answer.status_code == status
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "details", "timestamp", "request_id"}
    assert error["code"] == code
    assert error["request_id"] == answer.headers["x-request-id"]
    assert error["timestamp"].endswith("Z")
    assert "Traceback" not in answer.text
    return dict(error)


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [({}, "required"), ({"X-Demo-Mode": "maybe"}, "'maybe'")],
    ids=["missing", "not-a-boolean"],
)
def test_x_demo_mode_is_required_on_api_routes(
    live_server: LiveServer, headers: dict[str, str], fragment: str
) -> None:
    answer = httpx.get(f"{live_server.api}/tenants/", headers=headers)
    error = assert_error_body(answer, 400, "BAD_REQUEST")
    assert fragment in str(error["message"])


def test_a_given_request_id_is_echoed_in_headers_and_error_bodies(live_server: LiveServer) -> None:
    headers = {**REAL, "X-Request-ID": "trace-42"}
    ok = httpx.get(f"{live_server.api}/tenants/", headers=headers)
    assert ok.headers["x-request-id"] == "trace-42"
    missing = httpx.get(f"{live_server.api}/tenants/absent-tenant", headers=headers)
    assert assert_error_body(missing, 404, "TENANT_NOT_FOUND")["request_id"] == "trace-42"


@pytest.mark.parametrize(
    "given", [None, "bad id with spaces", "x" * 300], ids=["absent", "unsafe", "too-long"]
)
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(
    live_server: LiveServer, given: str | None
) -> None:
    headers = dict(REAL) if given is None else {**REAL, "X-Request-ID": given}
    answer = httpx.get(f"{live_server.api}/tenants/", headers=headers)
    assert answer.headers["x-request-id"].startswith("req-")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/nothing-here", 404, "NOT_FOUND"),
        ("GET", "/not-api-at-all", 404, "NOT_FOUND"),
        ("PATCH", "/api/v1/tenants/my-ai-service", 405, "METHOD_NOT_ALLOWED"),
        ("DELETE", "/api/v1/tenants/calculate-resources/extra", 404, "NOT_FOUND"),
    ],
    ids=["unknown-api-route", "unknown-route", "wrong-method", "unknown-nested-route"],
)
def test_unknown_routes_and_methods_get_the_reference_error_body(
    live_server: LiveServer, method: str, path: str, status: int, code: str
) -> None:
    answer = httpx.request(method, f"{live_server.url}{path}", headers=REAL)
    assert_error_body(answer, status, code)


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "BAD_REQUEST"),
        (b"[1, 2, 3]", 422, "VALIDATION_ERROR"),
        (b"", 400, "BAD_REQUEST"),
        (b"\xff\xfe", 400, "BAD_REQUEST"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, 422, "VALIDATION_ERROR"),
        (b'{"tenant_id": "t1", "name": "x", "name": "y"}', 422, "VALIDATION_ERROR"),
    ],
    ids=["broken-json", "array-not-object", "empty", "not-utf8", "nested-5000", "duplicate-key"],
)
@pytest.mark.parametrize(
    "path", ["/tenants/", "/tenants/calculate-resources", "/tenants/my-ai-service/monitoring"]
)
def test_malformed_bodies_are_client_errors_never_500s(
    live_server: LiveServer, path: str, content: bytes, status: int, code: str
) -> None:
    answer = httpx.post(f"{live_server.api}{path}", headers=REAL, content=content)
    assert_error_body(answer, status, code)


def test_an_invalid_tenant_id_in_the_path_is_a_422(live_server: LiveServer) -> None:
    answer = httpx.get(f"{live_server.api}/tenants/UPPER_case", headers=REAL)
    assert_error_body(answer, 422, "VALIDATION_ERROR")


def test_a_body_over_1_mib_is_refused_with_413(live_server: LiveServer) -> None:
    body = b'{"name": "' + b"x" * (MiB + 10) + b'"}'
    answer = httpx.post(f"{live_server.api}/tenants/", headers=REAL, content=body)
    error = assert_error_body(answer, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"] == {"limit_bytes": MiB}


def test_a_streamed_body_without_length_is_refused_once_it_passes_the_limit(
    live_server: LiveServer,
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * (64 * 1024)  # 1.25 MiB in all, no Content-Length (chunked)
        yield b'"}'

    answer = httpx.post(
        f"{live_server.api}/tenants/calculate-resources", headers=REAL, content=chunks()
    )
    assert_error_body(answer, 413, "PAYLOAD_TOO_LARGE")


def test_validate_manifest_accepts_bodies_up_to_5_mib(live_server: LiveServer) -> None:
    padding = "# " + "x" * 1000 + "\n"
    manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: big\n" + padding * 2048
    answer = httpx.post(
        f"{live_server.api}/tenants/validate-manifest",
        headers=REAL,
        json={"manifest_content": manifest},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["resource_summary"]["namespaces"] == 1
    too_big = httpx.post(
        f"{live_server.api}/tenants/validate-manifest",
        headers=REAL,
        json={"manifest_content": padding * 5300},  # 5.07 MiB
        timeout=30,
    )
    assert_error_body(too_big, 413, "PAYLOAD_TOO_LARGE")


def test_x_debug_adds_timings_and_the_sizing_explanation(live_server: LiveServer) -> None:
    body = {"service_requirements": {"chatbot": 40}}
    plain = httpx.post(f"{live_server.api}/tenants/calculate-resources", headers=REAL, json=body)
    assert "debug" not in plain.json()
    debug = httpx.post(
        f"{live_server.api}/tenants/calculate-resources",
        headers={**REAL, "X-Debug": "true"},
        json=body,
    )
    info = debug.json()["debug"]
    assert info["timings_ms"]["total"] >= 0
    assert any("chatbot" in line for line in info["explanation"])
    assert "app;dur=" in debug.headers["server-timing"]


def test_openapi_describes_every_route_with_schemas_from_the_models(
    live_server: LiveServer,
) -> None:
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/tenants/", "get"),
        ("/api/v1/tenants/", "post"),
        ("/api/v1/tenants/{tenant_id}", "get"),
        ("/api/v1/tenants/{tenant_id}", "put"),
        ("/api/v1/tenants/{tenant_id}", "delete"),
        ("/api/v1/tenants/calculate-resources", "post"),
        ("/api/v1/tenants/validate-manifest", "post"),
        ("/api/v1/tenants/{tenant_id}/manifest", "get"),
        ("/api/v1/tenants/{tenant_id}/deployment-status", "get"),
    ]:
        assert method in paths[path], (path, method)
    schemas = spec["components"]["schemas"]
    for name in ("TenantSpec", "TenantUpdate", "CalculateRequest", "TenantList", "ErrorBody"):
        assert name in schemas
    assert "service_requirements" in schemas["TenantSpec"]["properties"]
    create = paths["/api/v1/tenants/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/TenantSpec"
    )
    demo_header = [p for p in create["parameters"] if p["name"] == "X-Demo-Mode"]
    assert demo_header and demo_header[0]["required"] is True


def test_a_wrong_method_names_every_method_the_path_serves(live_server: LiveServer) -> None:
    answer = httpx.request("PATCH", f"{live_server.api}/tenants/", headers=REAL)
    error = assert_error_body(answer, 405, "METHOD_NOT_ALLOWED")
    allowed = {m.strip() for m in answer.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert {"GET", "POST"} <= set(error["details"]["allowed"])  # type: ignore[index]


def test_openapi_describes_the_monitoring_routes_with_their_shapes(
    live_server: LiveServer,
) -> None:
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    monitoring = paths["/api/v1/tenants/{tenant_id}/monitoring"]
    assert monitoring["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("/MonitoringData")
    assert "interval" in [p["name"] for p in monitoring["get"]["parameters"]]
    assert monitoring["post"]["requestBody"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("/MetricsIngest")
    assert "201" in monitoring["post"]["responses"]
    system = paths["/api/v1/monitoring/system"]["get"]
    assert "utilization" in schemas["SystemMetrics"]["properties"]
    assert system["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SystemMetrics"
    )
    assert "AlertList" in schemas
    # WebSocket routes are not HTTP operations: they are listed apart, under x-websocket.
    assert not any(path.startswith("/ws/") for path in paths)
    ws = spec["x-websocket"]["/ws/monitoring/{tenant_id}"]
    assert [p["name"] for p in ws["parameters"]] == ["tenant_id"]
    assert ws["parameters"][0]["schema"]["pattern"].startswith("^[a-z0-9]")


def test_openapi_states_the_constraints_the_server_enforces(live_server: LiveServer) -> None:
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    detail = paths["/api/v1/tenants/{tenant_id}"]["get"]
    tenant_id = next(p for p in detail["parameters"] if p["name"] == "tenant_id")["schema"]
    assert tenant_id["maxLength"] == MAX_TENANT_ID
    assert "calculate-resources" in tenant_id["not"]["enum"]
    listing = {p["name"]: p["schema"] for p in paths["/api/v1/tenants/"]["get"]["parameters"]}
    assert (listing["limit"]["minimum"], listing["limit"]["maximum"]) == (1, 1000)
    alerts = paths["/api/v1/tenants/{tenant_id}/alerts"]["get"]["parameters"]
    hours = next(p for p in alerts if p["name"] == "hours")["schema"]
    assert (hours["minimum"], hours["maximum"]) == (1, 8760)
    some_service = schemas["TenantSpec"]["properties"]["service_requirements"]["anyOf"]
    assert {"required": ["stt"], "properties": {"stt": {"minimum": 1}}} in some_service
    manifest = paths["/api/v1/tenants/{tenant_id}/manifest"]["get"]["responses"]["200"]
    assert set(manifest["content"]) == {"application/yaml", "application/json"}
    for status in ("405", "408", "415", "500", "503"):
        assert status in detail["responses"]


def test_the_docs_page_works_offline(live_server: LiveServer) -> None:
    page = httpx.get(f"{live_server.url}/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN, no external asset

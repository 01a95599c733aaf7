"""Hostile input against the real server stays a 4xx with the error body, and answers stay bounded:
giant integers, lone surrogates, JSON under another media type, reserved tenant IDs, OPTIONS,
invented methods in the metrics, a 100,000-finding manifest, huge echoed input, server paths."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from api_server import AUTH, LiveServer, live_server

__all__ = ["live_server"]

REAL = {"X-Demo-Mode": "false", **AUTH}
HUGE = "9" * 5000
JSON = {**REAL, "Content-Type": "application/json"}


def _error(answer: httpx.Response, status: int) -> dict[str, object]:
    assert answer.status_code == status, answer.text[:300]
    error = answer.json()["error"]
    assert "Traceback" not in answer.text
    return dict(error)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/tenants/",
            f'{{"tenant_id":"x","service_requirements":{{"chatbot":{HUGE}}}}}',
            "chatbot",
        ),
        (
            "/tenants/calculate-resources",
            f'{{"service_requirements":{{"callbot":{HUGE}}}}}',
            "callbot",
        ),
        (
            "/tenants/validate-manifest",
            f'{{"manifest_content":"a: 1","tenant_id":{HUGE}}}',
            "tenant_id",
        ),
        ("/tenants/my-ai-service/monitoring", f'{{"metrics":{{"cpu_usage":{HUGE}}}}}', "cpu_usage"),
        ("/tenants/validate-manifest", '{"manifest_content":"a: \\ud800"}', "manifest_content"),
        ("/tenants/my-ai-service/monitoring", '{"metrics":{"\\ud800":1}}', "metrics"),
        ("/tenants/calculate-resources", '{"service_requirements":{"callbot":NaN}}', "callbot"),
    ],
    ids=["create", "calculate", "validate", "monitoring", "surrogate", "surrogate-key", "nan"],
)
def test_giant_integers_and_lone_surrogates_are_422s_naming_the_field(
    live_server: LiveServer, path: str, body: str, field: str
) -> None:
    answer = httpx.post(f"{live_server.api}{path}", content=body, headers=JSON, timeout=30)
    error = _error(answer, 422)
    assert field in str(error["details"]) or field in str(error["message"])
    assert len(answer.content) < 2000


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_sent_under_another_media_type_is_a_415(live_server: LiveServer, media: str) -> None:
    answer = httpx.post(
        f"{live_server.api}/tenants/calculate-resources",
        content='{"service_requirements":{"callbot":1}}',
        headers={**REAL, "Content-Type": media},
    )
    assert _error(answer, 415)["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("name", ["calculate-resources", "validate-manifest"])
def test_route_names_are_reserved_tenant_ids(live_server: LiveServer, name: str) -> None:
    body = {"tenant_id": name, "name": "x", "service_requirements": {"chatbot": 1}}
    created = httpx.post(f"{live_server.api}/tenants/", json=body, headers=REAL)
    assert "reserved" in str(_error(created, 422)["message"])
    got = httpx.get(f"{live_server.api}/tenants/{name}", headers=REAL)
    assert _error(got, 405)["details"]["allowed"] == ["POST"]  # type: ignore[index]
    assert got.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/tenants/calculate-resources", "POST, OPTIONS"),
        ("/tenants/validate-manifest", "POST, OPTIONS"),
        ("/tenants/my-ai-service", "DELETE, GET, HEAD, PUT, OPTIONS"),
        ("/tenants/", "GET, HEAD, POST, OPTIONS"),
    ],
    ids=["calculate", "validate", "tenant", "collection"],
)
def test_options_answers_the_methods_of_the_paths_own_routes(
    live_server: LiveServer, path: str, allow: str
) -> None:
    answer = httpx.options(f"{live_server.api}{path}", headers=REAL)
    assert answer.status_code == 204
    assert answer.headers["allow"] == allow


def test_invented_methods_do_not_grow_the_metrics(live_server: LiveServer) -> None:
    with httpx.Client(headers=REAL) as client:
        for number in range(30):
            client.request(f"BREW{number}", f"{live_server.api}/tenants/")
        text = client.get(f"{live_server.url}/metrics").text
    assert "BREW" not in text
    assert 'method="OTHER"' in text
    statuses = {part.split('"')[0] for part in text.split('status="')[1:]}
    assert statuses <= {"1xx", "2xx", "3xx", "4xx", "5xx"}


def test_a_hundred_thousand_findings_are_listed_up_to_a_thousand_with_the_counts(
    live_server: LiveServer,
) -> None:
    body = {"manifest_content": "---\na: 1\n" * 100_000}
    answer = httpx.post(
        f"{live_server.api}/tenants/validate-manifest", json=body, headers=REAL, timeout=120
    )
    assert answer.status_code == 200, answer.text[:300]
    result = answer.json()
    assert len(result["errors"]) + len(result["warnings"]) == 1000
    assert result["truncated"] is True
    assert result["error_count"] + result["warning_count"] >= 100_000
    assert len(answer.content) < 400_000


def test_an_error_echoes_at_most_200_characters_of_the_input(live_server: LiveServer) -> None:
    long_id = "A" * 50_000
    body = {"tenant_id": long_id, "name": "x", "service_requirements": {"chatbot": 1}}
    answer = httpx.post(f"{live_server.api}/tenants/", json=body, headers=REAL)
    _error(answer, 422)
    assert answer.text.count("A") < 500
    got = httpx.get(f"{live_server.api}/tenants/{'b' * 5000}", headers=REAL)
    _error(got, 422)
    assert got.text.count("b") < 500


def test_no_answer_names_an_absolute_server_path(live_server: LiveServer) -> None:
    # An edit in the deploy repo where the write publishes makes it fail (a 500 naming the
    # repo and its files).
    url = f"{live_server.api}/tenants/my-ai-service"
    first = httpx.put(url, json={"description": "creates the repo"}, headers=REAL, timeout=60)
    assert first.status_code == 200
    edited = (
        live_server.root / ".ecp" / "deploy-repo" / "tenants" / "my-ai-service" / "manifest.yaml"
    )
    published = edited.read_bytes()
    edited.write_bytes(published + b"# a person's edit\n")
    try:
        answer = httpx.put(
            url,
            json={"description": "path check"},
            headers=REAL,
            timeout=60,
        )
    finally:
        edited.write_bytes(published)
    assert answer.status_code >= 500
    assert str(live_server.root) not in answer.text
    assert "/tmp/" not in answer.text


def test_a_client_that_disconnects_mid_upload_is_logged_without_a_traceback(
    live_server: LiveServer,
) -> None:
    with socket.create_connection(("127.0.0.1", live_server.port)) as sock:
        sock.sendall(
            b"POST /api/v1/tenants/calculate-resources HTTP/1.1\r\nHost: x\r\n"
            b"X-Demo-Mode: false\r\nContent-Type: application/json\r\n"
            + f"Authorization: {AUTH['Authorization']}\r\n".encode()
            + b"Content-Length: 100000\r\n\r\n"
            + b"{" * 50
        )
        time.sleep(0.3)
    time.sleep(0.5)
    log = (live_server.root.parent / f"server-{live_server.port}.log").read_text("utf-8")
    assert "Traceback" not in log
    assert "internal error" not in log.lower()

"""Deployment history with compiled deltas, and the dry-run preview of an edit, against a real
`ecp serve` on a workspace repo that tracks its output/ (so every API write commits the compiled
output beside the spec). Expected numbers are read back from git by the test itself."""

from __future__ import annotations

import difflib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import AUTH, LiveServer, git, make_workspace, running_server

REAL = {"X-Demo-Mode": "false", **AUTH}
TENANT = "shop-chat-lite"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Shared by the module's tests, which run in any order: each leaves the workspace's files
    as it found them or only adds commits, and none counts the commits another made."""
    root = make_workspace(tmp_path_factory.mktemp("changes") / "workspace", track_output=True)
    with running_server(root) as live:
        yield live


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own, for a test that asserts a tenant's whole history."""
    root = make_workspace(tmp_path / "workspace", track_output=True)
    with running_server(root) as live:
        yield live


def put(server: LiveServer, body: dict[str, Any], tenant: str = TENANT) -> httpx.Response:
    return httpx.put(f"{server.api}/tenants/{tenant}", headers=REAL, json=body, timeout=120)


def history(server: LiveServer, tenant: str = TENANT, **params: Any) -> dict[str, Any]:
    answer = httpx.get(
        f"{server.api}/tenants/{tenant}/history", headers=REAL, params=params, timeout=60
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def entry_at(root: Path, ref: str, tenant: str = TENANT) -> dict[str, Any] | None:
    shown = subprocess.run(
        ["git", "show", f"{ref}:output/index.json"], cwd=root, capture_output=True, text=True
    )
    if shown.returncode != 0:
        return None
    found: dict[str, Any] | None = json.loads(shown.stdout)["tenants"].get(tenant)
    return found


def test_history_lists_each_commit_with_its_compiled_resources_and_deltas(
    fresh_server: LiveServer,
) -> None:
    server = fresh_server
    assert put(server, {"service_requirements": {"chatbot": 120}}).status_code == 200
    assert put(server, {"service_requirements": {"chatbot": 15}}).status_code == 200
    body = history(server)
    commits = body["commits"]
    shas = git(server.root, "log", "--format=%H", "--", f"tenants/{TENANT}.yaml").split()
    assert [c["commit"] for c in commits] == shas  # newest first, the seed last
    assert [c["action"] for c in commits] == ["changed", "changed", "created"]
    assert commits[0]["principal"] == "token:test-admin"
    assert commits[-1]["author"] == "test"
    for commit in commits:
        after = entry_at(server.root, commit["commit"])
        before = entry_at(server.root, commit["commit"] + "^") or {}
        assert after is not None and commit["compiled"] is True
        resources = commit["resources"]
        assert resources["monthly_cost_usd"] == after["monthly_cost_usd"]
        assert resources["cpu_millicores"] == after["totals"]["cpu_millicores"]
        assert resources["memory_mib"] == after["totals"]["memory_mib"]
        assert resources["replicas"] == after["replicas"]
        deltas = {d["field"]: d for d in commit["deltas"]}
        old_total = sum((before.get("replicas") or {}).values()) if before else None
        new_total = sum(after["replicas"].values())
        if old_total != new_total:
            moved = new_total - (old_total or 0)
            assert deltas["replicas"]["change"] == f"{moved:+d}"
        else:
            assert "replicas" not in deltas
        old_cost = before.get("monthly_cost_usd")
        if old_cost != after["monthly_cost_usd"]:
            moved_cost = after["monthly_cost_usd"] - (old_cost or 0)
            sign = "+" if moved_cost >= 0 else "-"
            assert deltas["monthly_cost_usd"]["change"] == f"{sign}${abs(moved_cost):,.2f}"
        else:
            assert "monthly_cost_usd" not in deltas
        old_cpu = (before.get("totals") or {}).get("cpu_millicores", 0)
        if old_cpu != after["totals"]["cpu_millicores"]:
            assert deltas["cpu"]["change"] == f"{after['totals']['cpu_millicores'] - old_cpu:+d}m"
    # 120 chatbot channels need more than 40 did, and 15 fewer again: the deltas say which way.
    grew, shrank = commits[1], commits[0]
    assert grew["deltas"] and shrank["deltas"]
    assert {d["field"] for d in grew["deltas"]} & {"replicas", "cpu", "monthly_cost_usd"}
    up = {d["field"]: d["change"] for d in grew["deltas"]}
    down = {d["field"]: d["change"] for d in shrank["deltas"]}
    for field in up.keys() & down.keys() - {"preset"}:
        assert up[field].startswith("+") and down[field].startswith("-"), field


def test_history_reads_the_committed_numbers_not_todays_prices(server: LiveServer) -> None:
    before = history(server)["commits"]
    prices = server.root / "presets" / "prices.yaml"
    original = prices.read_text(encoding="utf-8")
    prices.write_text(
        original.replace("cpu_core_hour: 0.031611", "cpu_core_hour: 0.5"), encoding="utf-8"
    )
    try:
        assert history(server)["commits"] == before
    finally:
        prices.write_text(original, encoding="utf-8")


def test_a_commit_without_compiled_output_says_so(server: LiveServer) -> None:
    spec = server.root / "tenants" / "my-ai-service.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "# a hand edit\n", encoding="utf-8")
    git(server.root, "add", "tenants/my-ai-service.yaml")
    git(server.root, "-c", "user.name=hand", "-c", "user.email=h@l", "commit", "-qm", "hand edit")
    # The hand commit changed the spec only: the output at that commit is the parent's, so
    # its entry is there but nothing moved.
    newest = history(server, "my-ai-service")["commits"][0]
    assert newest["subject"] == "hand edit"
    assert newest["author"] == "hand"
    assert newest["principal"] is None
    assert newest["deltas"] == []
    git(server.root, "rm", "-r", "-q", "--cached", "output")
    git(server.root, "-c", "user.name=hand", "-c", "user.email=h@l", "commit", "-qm", "untrack")
    try:
        gone = history(server, "my-ai-service")["commits"][0]
        assert gone["subject"] == "untrack"
        assert gone["compiled"] is False and gone["resources"] is None
        assert gone["deltas"] == []
    finally:
        git(server.root, "add", "output")
        git(server.root, "-c", "user.name=hand", "-c", "user.email=h@l", "commit", "-qm", "track")


def test_history_limit_truncates_and_bad_limits_are_refused(server: LiveServer) -> None:
    assert put(server, {"description": "a second commit to truncate"}).status_code == 200
    one = history(server, limit=1)
    assert one["count"] == 1 and one["truncated"] is True
    answer = httpx.get(
        f"{server.api}/tenants/{TENANT}/history", headers=REAL, params={"limit": 0}, timeout=30
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["field"] == "query.limit"
    missing = httpx.get(f"{server.api}/tenants/nobody-here/history", headers=REAL, timeout=30)
    assert missing.status_code == 404


def test_preview_shows_the_manifest_diff_and_writes_nothing(server: LiveServer) -> None:
    root = server.root
    spec = root / "tenants" / f"{TENANT}.yaml"
    manifest = root / "output" / TENANT / "manifest.yaml"
    spec_before, manifest_before = spec.read_bytes(), manifest.read_bytes()
    index_before = (root / "output" / "index.json").read_bytes()
    head = git(root, "rev-parse", "HEAD")
    body = {"service_requirements": {"chatbot": 90}, "description": "previewed"}
    answer = httpx.post(
        f"{server.api}/tenants/{TENANT}/preview", headers=REAL, json=body, timeout=120
    )
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert preview["dry_run"] is True and preview["changed"] is True
    assert spec.read_bytes() == spec_before
    assert manifest.read_bytes() == manifest_before
    assert (root / "output" / "index.json").read_bytes() == index_before
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""

    saved = put(server, body)
    assert saved.status_code == 200, saved.text
    manifest_after = manifest.read_text(encoding="utf-8")
    expected = "".join(
        difflib.unified_diff(
            manifest_before.decode().splitlines(keepends=True),
            manifest_after.splitlines(keepends=True),
            fromfile=f"a/{TENANT}/manifest.yaml",
            tofile=f"b/{TENANT}/manifest.yaml",
        )
    )
    assert expected  # the edit changes the manifest (replicas at least)
    assert preview["manifest_diff"] == expected
    detail = httpx.get(f"{server.api}/tenants/{TENANT}", headers=REAL, timeout=30).json()
    assert preview["estimated_cost"]["after"] == detail["estimated_cost"]
    assert {n: r["after"] for n, r in preview["replicas"].items()} == {
        s["service_name"]: s["replicas"] for s in detail["services"]
    }


def test_a_preview_of_no_change_has_an_empty_diff(server: LiveServer) -> None:
    current = httpx.get(f"{server.api}/tenants/{TENANT}", headers=REAL, timeout=30).json()
    body = {"service_requirements": current["service_requirements"]}
    preview = httpx.post(
        f"{server.api}/tenants/{TENANT}/preview", headers=REAL, json=body, timeout=120
    ).json()
    assert preview["changed"] is False
    assert preview["manifest_diff"] == "" and preview["deltas"] == []


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        ({"service_requirements": {"chatbot": -1}}, {}, 422, "service_requirements.chatbot"),
        ({"tenant_id": "other"}, {}, 422, "tenant_id"),
        ({"name": "x"}, {"If-Match": '"stale"'}, 412, None),
        ({"name": "x"}, {"If-Match": "W/current"}, 412, None),
    ],
    ids=["bad-channels", "rename", "stale-etag", "weak-etag-as-for-put"],
)
def test_a_bad_preview_is_refused_like_the_write(
    server: LiveServer,
    body: dict[str, Any],
    headers: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    if headers.get("If-Match") == "W/current":  # the current ETag, but weak: never a match
        current = httpx.get(f"{server.api}/tenants/{TENANT}", headers=REAL, timeout=30)
        headers = {"If-Match": "W/" + current.headers["etag"]}
    answer = httpx.post(
        f"{server.api}/tenants/{TENANT}/preview",
        headers={**REAL, **headers},
        json=body,
        timeout=120,
    )
    assert answer.status_code == status, answer.text
    if field is not None:
        error = answer.json()["error"]
        fields = [error["details"].get("field")] + [
            e.get("field") for e in error["details"].get("errors", [])
        ]
        assert field in fields, error


def test_the_new_routes_are_in_the_openapi_document(server: LiveServer) -> None:
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    history_op = spec["paths"]["/api/v1/tenants/{tenant_id}/history"]["get"]
    assert history_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/OutputHistory"
    )
    preview_op = spec["paths"]["/api/v1/tenants/{tenant_id}/preview"]["post"]
    assert preview_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/TenantUpdate"
    )
    assert "FieldDelta" in spec["components"]["schemas"]
    auth = spec["paths"]["/api/v1/auth/config"]["get"]
    assert auth["security"] == []


def test_api_answers_are_revalidated_not_served_from_a_browser_cache(server: LiveServer) -> None:
    # A tenant answer carries Last-Modified; without this a browser would show it as it was
    # before the last write (the dashboard's edit form reloading after a 412 did).
    answer = httpx.get(f"{server.api}/tenants/{TENANT}", headers=REAL, timeout=30)
    assert answer.headers["cache-control"] == "no-cache"
    config = httpx.get(f"{server.api}/auth/config", headers=REAL, timeout=30)
    assert config.headers["cache-control"] == "no-store"  # a route's own choice is kept

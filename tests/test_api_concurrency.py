"""50 clients create and update tenants at once against a real server: no accepted write is lost,
and the writes are committed in batches (group commit)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from api_server import LiveServer, git, live_server

from ecp_orchestrator import ECPClient

__all__ = ["live_server"]

CLIENTS = 50


def _create_then_update(api: str, number: int) -> tuple[str, str, str]:
    tenant_id = f"load-{number:02d}"
    with ECPClient(api, timeout=300) as client:
        created = client.create_tenant(
            {
                "tenant_id": tenant_id,
                "name": f"Load {number}",
                "service_requirements": {"chatbot": 5},
            },
            request_id=f"req-create-{number}",
        )
        updated = client.update_tenant(
            tenant_id,
            {"service_requirements": {"chatbot": 10 + number}},
            request_id=f"req-update-{number}",
        )
    return tenant_id, created["deployment_id"], updated["deployment_id"]


@pytest.mark.slow
def test_fifty_concurrent_writers_lose_nothing(live_server: LiveServer) -> None:
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        outcomes = list(pool.map(lambda n: _create_then_update(live_server.api, n), range(CLIENTS)))
    root = live_server.root
    history = git(root, "log", "--format=%B", "--", "tenants/")
    index = json.loads((root / "output" / "index.json").read_text("utf-8"))["tenants"]
    deploy_log = git(root / ".ecp" / "deploy-repo", "log", "--format=%B")
    for number, (tenant_id, create_dep, update_dep) in enumerate(outcomes):
        assert create_dep.startswith("dep-") and update_dep.startswith("dep-")
        assert f"req-create-{number}" in history and f"req-update-{number}" in history
        spec = yaml.safe_load((root / "tenants" / f"{tenant_id}.yaml").read_text("utf-8"))
        assert spec["service_requirements"] == {"chatbot": 10 + number}
        assert index[tenant_id]["service_requirements"] == {"chatbot": 10 + number}
        assert (root / "output" / tenant_id / "manifest.yaml").is_file()
        assert f"req-update-{number}" in deploy_log
        deployed = root / ".ecp" / "deploy-repo" / "tenants" / tenant_id
        assert deployed.is_dir()
    # Every write is named once in the workspace history (one Ecp-Request-Id trailer each), and
    # concurrent writes were committed in batches: fewer commits than writes.
    trailers = git(root, "log", "--format=%(trailers:key=Ecp-Request-Id,valueonly)", "--")
    named = trailers.split()
    for number in range(CLIENTS):
        assert named.count(f"req-create-{number}") == 1
        assert named.count(f"req-update-{number}") == 1
    commits = git(root, "rev-list", "--count", "HEAD", "--", "tenants/").strip()
    assert int(commits) < 2 * CLIENTS
    with ECPClient(live_server.api) as client:
        assert client.get_tenants(limit=1000)["total_count"] >= CLIENTS

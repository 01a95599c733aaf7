"""The audit trail: commits authored by the caller, and GET /api/v1/audit / `ecp audit`."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from access_support import create_token
from api_server import LiveServer, ecp, git, make_workspace, running_server


@dataclass
class Audited:
    server: LiveServer
    editor: dict[str, str]
    viewer: dict[str, str]
    admin: dict[str, str]
    request_id: str


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Demo-Mode": "false"}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audited]:
    root = make_workspace(tmp_path_factory.mktemp("audit") / "ws")
    ecp(root, "publish")  # published before the API starts, by no principal
    editor = _headers(create_token(root, "release-bot", "editor"))
    viewer = _headers(create_token(root, "shop-viewer", "viewer", "--tenant", "shop-chat-lite"))
    admin = _headers(create_token(root, "auditor", "admin"))
    with running_server(root) as server:
        answer = httpx.put(
            f"{server.api}/tenants/my-ai-service",
            json={"description": "audited change"},
            headers={**editor, "X-Request-ID": "req-audit-1"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        refused = httpx.delete(f"{server.api}/tenants/shop-chat-lite", headers=viewer)
        assert refused.status_code == 403
        yield Audited(server, editor, viewer, admin, "req-audit-1")


@pytest.mark.parametrize("repo", ["workspace", "deploy"], ids=["workspace-repo", "deploy-repo"])
def test_a_write_is_authored_by_the_caller_and_committed_by_the_orchestrator(
    audited: Audited, repo: str
) -> None:
    root = audited.server.root
    where = root if repo == "workspace" else root / ".ecp" / "deploy-repo"
    line = git(where, "log", "-1", "--format=%an <%ae>|%cn|%B").strip()
    author, committer, body = line.split("|", 2)
    assert author == "release-bot <release-bot@tokens.ecp.local>"
    assert committer == "ecp-orchestrator"
    assert "Ecp-Principal: token:release-bot" in body.splitlines()
    assert "Ecp-Request-Id: req-audit-1" in body.splitlines()


def test_the_audit_lists_changes_from_git_and_refused_attempts(audited: Audited) -> None:
    body = httpx.get(f"{audited.server.api}/audit", headers=audited.admin).json()
    change = body["changes"][0]
    assert change["principal"] == "token:release-bot"
    assert change["request_id"] == audited.request_id
    assert change["tenants"] == [{"tenant_id": "my-ai-service", "action": "changed"}]
    refused = [r for r in body["refused"] if r["principal"] == "token:shop-viewer"]
    assert refused and refused[0]["status"] == 403
    assert refused[0]["tenant_id"] == "shop-chat-lite"
    assert refused[0]["method"] == "DELETE"
    by_principal = httpx.get(
        f"{audited.server.api}/audit",
        params={"principal": "token:nobody"},
        headers=audited.admin,
    ).json()
    assert by_principal == {"changes": [], "refused": []}
    since = httpx.get(
        f"{audited.server.api}/audit",
        params={"since": "2999-01-01T00:00:00Z"},
        headers=audited.admin,
    ).json()
    assert since["changes"] == []


def test_a_scoped_viewer_sees_only_its_tenants_in_the_audit(audited: Audited) -> None:
    body = httpx.get(f"{audited.server.api}/audit", headers=audited.viewer).json()
    tenants = {t["tenant_id"] for c in body["changes"] for t in c["tenants"]}
    assert tenants <= {"shop-chat-lite"}
    assert all(r["tenant_id"] == "shop-chat-lite" for r in body["refused"])
    assert body["refused"]  # its own refused delete is its tenant's


def test_a_bad_since_is_a_422(audited: Audited) -> None:
    answer = httpx.get(
        f"{audited.server.api}/audit", params={"since": "yesterday"}, headers=audited.admin
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["field"] == "query.since"


def test_ecp_audit_shows_the_same_trail(audited: Audited) -> None:
    done = ecp(audited.server.root, "audit", "--format", "json")
    trail = json.loads(done.stdout)
    assert trail["changes"][0]["principal"] == "token:release-bot"
    assert any(r["principal"] == "token:shop-viewer" for r in trail["refused"])
    text = ecp(audited.server.root, "audit").stdout
    assert "token:release-bot" in text and "changed my-ai-service" in text


def test_the_refusal_log_is_private(audited: Audited) -> None:
    for path in (audited.server.root / ".ecp").glob("audit.sqlite3*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

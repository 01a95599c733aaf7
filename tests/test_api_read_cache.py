"""The serialised read answers (answer_cache) are never stale and never differ from a fresh build.

A real server for writes through the API and for changes made behind its back (a spec edited and
compiled by the CLI, a commit by a person); the app in process, driven through ASGI, where a test
must reach into the workspace's state (a failed publish, a delete under way, a manifest that
cannot be read) or compare a kept answer with a fresh build byte for byte.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_server import AUTH, LiveServer, ecp, git, make_workspace, running_server

from compiler.service.app import create_app
from compiler.service.state import AppState
from compiler.settings import Settings

HEADERS = {**AUTH, "X-Demo-Mode": "false"}
TENANT = "shop-chat-lite"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = make_workspace(tmp_path_factory.mktemp("read-cache") / "ws")
    with running_server(root) as live:
        yield live


def _get(client: httpx.Client, path: str) -> httpx.Response:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return answer


def _listed(client: httpx.Client, tenant_id: str) -> dict[str, object]:
    tenants = _get(client, "/tenants/").json()["tenants"]
    return next(t for t in tenants if t["tenant_id"] == tenant_id)


def test_a_write_through_the_api_is_seen_by_the_next_read(server: LiveServer) -> None:
    with httpx.Client(base_url=server.api, headers=HEADERS, timeout=60) as client:
        before = _get(client, f"/tenants/{TENANT}")
        assert _get(client, f"/tenants/{TENANT}").content == before.content  # kept, identical
        _listed(client, TENANT)
        updated = client.put(f"/tenants/{TENANT}", json={"name": "Renamed through the API"})
        assert updated.status_code == 200, updated.text
        after = _get(client, f"/tenants/{TENANT}")
        assert after.json()["name"] == "Renamed through the API"
        assert after.headers["ETag"] == updated.headers["ETag"] != before.headers["ETag"]
        assert after.json()["deployment_id"] == updated.json()["deployment_id"]
        assert _listed(client, TENANT)["name"] == "Renamed through the API"


def test_a_change_behind_the_servers_back_is_seen_by_the_next_read(server: LiveServer) -> None:
    """A person edits a spec, compiles with the CLI and commits: no API write tells the server."""
    tenant = "my-ai-service"
    spec = server.root / "tenants" / f"{tenant}.yaml"
    with httpx.Client(base_url=server.api, headers=HEADERS, timeout=60) as client:
        before = _get(client, f"/tenants/{tenant}")
        _listed(client, tenant)
        spec.write_text(
            spec.read_text(encoding="utf-8").replace(
                f"name: {before.json()['name']}", "name: Renamed by hand"
            ),
            encoding="utf-8",
        )
        assert "Renamed by hand" in spec.read_text(encoding="utf-8")
        ecp(server.root, "compile", "--all")
        edited = _get(client, f"/tenants/{tenant}")
        assert edited.json()["name"] == "Renamed by hand"
        assert edited.headers["ETag"] != before.headers["ETag"]
        assert _listed(client, tenant)["name"] == "Renamed by hand"
        time.sleep(1.1)  # git dates have whole seconds: the commit must be a later one
        git(server.root, "add", "tenants")
        git(server.root, "-c", "user.name=p", "-c", "user.email=p@l", "commit", "-qm", "by hand")
        committed = _get(client, f"/tenants/{tenant}")
        assert committed.json()["updated_at"] > edited.json()["updated_at"]
        assert committed.headers["Last-Modified"] != edited.headers["Last-Modified"]
        # On another branch: HEAD now names another ref file, which the next commit moves.
        git(server.root, "checkout", "-qb", "hand-edits")
        _get(client, f"/tenants/{tenant}")
        time.sleep(1.1)
        spec.write_text(spec.read_text(encoding="utf-8") + "# again\n", encoding="utf-8")
        git(server.root, "add", "tenants")
        git(server.root, "-c", "user.name=p", "-c", "user.email=p@l", "commit", "-qm", "again")
        branched = _get(client, f"/tenants/{tenant}")
        assert branched.json()["updated_at"] > committed.json()["updated_at"]


# -- in process ----------------------------------------------------------------------------------


def _in_process(root: Path) -> tuple[AppState, httpx.AsyncClient]:
    app = create_app(Settings.load(root))
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://t/api/v1", headers=HEADERS)
    state = app.state.ecp
    assert isinstance(state, AppState)
    return state, client


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("read-cache-local") / "ws")


def _fixed(answer: httpx.Response) -> dict[str, str]:
    """The headers that do not change per request (not its id nor the rate budget left)."""
    return {
        k: v
        for k, v in answer.headers.items()
        if k != "x-request-id" and not k.startswith("ratelimit-")
    }


def test_a_kept_answer_is_byte_identical_to_a_fresh_build(local_root: Path) -> None:
    async def run() -> None:
        state, client = _in_process(local_root)
        async with client:
            for path in (f"/tenants/{TENANT}", "/tenants/", "/tenants/?limit=1&skip=1"):
                built = await client.get(path)
                assert built.status_code == 200
                kept = await client.get(path)
                state.real.answers = type(state.real.answers)()  # forget: build again
                rebuilt = await client.get(path)
                assert kept.content == built.content == rebuilt.content, path
                assert _fixed(kept) == _fixed(built) == _fixed(rebuilt), path
                assert len(state.real.answers) == 1  # the rebuilt answer was kept

    asyncio.run(run())


def test_a_failed_publish_or_a_delete_under_way_shows_at_once(local_root: Path) -> None:
    """The workspace's failed/deleting marks are part of the kept answer's version."""

    async def run() -> None:
        state, client = _in_process(local_root)
        ws = state.real
        async with client:

            async def status() -> tuple[str, str]:
                detail = (await client.get(f"/tenants/{TENANT}")).json()["status"]
                listed = (await client.get("/tenants/")).json()["tenants"]
                return detail, next(t["status"] for t in listed if t["tenant_id"] == TENANT)

            assert await status() == ("pending", "pending")
            ws.failed[TENANT] = "the deploy repo refused the push"
            assert await status() == ("failed", "failed")
            del ws.failed[TENANT]
            assert await status() == ("pending", "pending")
            ws.deleting.add(TENANT)
            assert await status() == ("deleting", "deleting")
            ws.deleting.discard(TENANT)
            assert await status() == ("pending", "pending")

    asyncio.run(run())


def test_an_answer_built_without_its_manifest_is_not_kept(local_root: Path) -> None:
    manifest = local_root / "output" / TENANT / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")

    async def run() -> None:
        _, client = _in_process(local_root)
        async with client:
            manifest.unlink()
            try:
                missing = (await client.get(f"/tenants/{TENANT}")).json()
                assert {s["image"] for s in missing["services"]} == {None}
            finally:
                manifest.write_text(text, encoding="utf-8")
            back = (await client.get(f"/tenants/{TENANT}")).json()
            assert None not in {s["image"] for s in back["services"]}

    asyncio.run(run())

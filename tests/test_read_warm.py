"""A detail's first read parses its manifest off the event loop (read_model.warm in a worker
thread), and `ecp serve` freezes the start-up heap so later collections skip it.

On a real compiled workspace; the app's lifespan is run by hand (startup, then shutdown).
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from api_server import AUTH, make_workspace

from compiler.service.app import create_app
from compiler.service.object_views import ObjectView, object_views
from compiler.service.read_model import TenantReadModel
from compiler.settings import Settings


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("read-warm") / "ws")


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()  # what a test froze stays collectable for the rest of the run


def _views_on_disk(settings: Settings, tenant_id: str) -> list[ObjectView]:
    path = settings.output_dir / tenant_id / "manifest.yaml"
    return object_views(path.read_text(encoding="utf-8"))


def test_warm_caches_what_a_read_would_parse(root: Path) -> None:
    settings = Settings.load(root)
    read = TenantReadModel(settings)
    tenant_id, entry = next(iter(sorted(read.index().items())))
    sha = str(entry["manifest_sha256"])
    assert not read.parsed(tenant_id, sha)
    assert read.warm(tenant_id, sha)
    assert read.parsed(tenant_id, sha)
    assert read.objects(tenant_id, sha) == _views_on_disk(settings, tenant_id)


def test_warm_leaves_a_manifest_whose_bytes_do_not_match_the_index(root: Path) -> None:
    settings = Settings.load(root)
    read = TenantReadModel(settings)
    tenant_id, entry = next(iter(sorted(read.index().items())))
    data = (settings.output_dir / tenant_id / "manifest.yaml").read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["manifest_sha256"]  # the rule's premise
    stale = "0" * 64  # the index names other bytes (a rewrite landed since it was read)
    assert not read.warm(tenant_id, stale)
    assert not read.parsed(tenant_id, stale)
    assert not read.warm("no-such-tenant", stale)


def test_a_first_detail_read_parses_in_a_worker_thread(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.load(root)
    app = create_app(settings)
    read: TenantReadModel = app.state.ecp.real.read
    tenant_id, entry = next(iter(sorted(read.index().items())))
    sha = str(entry["manifest_sha256"])
    threads: list[str] = []
    original = TenantReadModel.warm

    def spy(self: TenantReadModel, tid: str, digest: str) -> bool:
        threads.append(threading.current_thread().name)
        return original(self, tid, digest)

    monkeypatch.setattr(TenantReadModel, "warm", spy)

    async def first_read() -> tuple[int, str]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                answer = await client.get(
                    f"/api/v1/tenants/{tenant_id}", headers={"X-Demo-Mode": "false", **AUTH}
                )
                return answer.status_code, threading.current_thread().name

    status, loop_thread = anyio.run(first_read)
    assert status == 200
    assert threads and all(name != loop_thread for name in threads)
    assert read.parsed(tenant_id, sha)


async def _started_and_stopped(settings: Settings, *, freeze_heap: bool) -> None:
    app = create_app(settings, freeze_heap=freeze_heap)
    async with app.router.lifespan_context(app):
        pass


def test_ecp_serve_freezes_the_start_up_heap_and_a_plain_app_does_not(
    root: Path, unfrozen: None
) -> None:
    settings = Settings.load(root)
    anyio.run(lambda: _started_and_stopped(settings, freeze_heap=False))
    assert gc.get_freeze_count() == 0
    anyio.run(lambda: _started_and_stopped(settings, freeze_heap=True))
    assert gc.get_freeze_count() > 10_000  # modules, catalogue and index at least

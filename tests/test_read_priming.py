"""The app reads every compiled manifest at start-up, off the event loop, and `ecp serve`
freezes the start-up heap so later collections skip it.

The app in process, its real lifespan run by hand (startup, then shutdown), on a real compiled
workspace: a detail's first read must not be the one that parses its manifest.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from api_server import make_workspace

from compiler.service.app import create_app
from compiler.service.read_model import ObjectView, TenantReadModel, _object_views
from compiler.service.state import AppState
from compiler.settings import Settings


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("read-priming") / "ws")


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()  # what a test froze stays collectable for the rest of the run


def _views_on_disk(settings: Settings, tenant_id: str) -> list[ObjectView]:
    path = settings.output_dir / tenant_id / "manifest.yaml"
    return _object_views(path.read_text(encoding="utf-8"))


async def _started_and_stopped(settings: Settings, *, freeze_heap: bool) -> AppState:
    """Runs the app's lifespan: startup, waits for the read model to be primed, shutdown."""
    app = create_app(settings, freeze_heap=freeze_heap)
    state = app.state.ecp
    assert isinstance(state, AppState)
    async with app.router.lifespan_context(app):
        assert await anyio.to_thread.run_sync(state.real.read.primed.wait, 60)
    return state


def test_start_up_parses_every_compiled_manifest_before_any_request(
    root: Path, unfrozen: None
) -> None:
    settings = Settings.load(root)
    state = anyio.run(lambda: _started_and_stopped(settings, freeze_heap=False))
    read: TenantReadModel = state.real.read
    index = read.index()
    assert index, "the workspace has compiled tenants"
    for tenant_id, entry in index.items():
        sha = str(entry["manifest_sha256"])
        assert read.parsed(tenant_id, sha), f"{tenant_id} was not primed"
        # What priming kept is what a read would have parsed itself.
        assert read.objects(tenant_id, sha) == _views_on_disk(settings, tenant_id)


def test_priming_stops_at_once_when_told_to_and_reports_its_progress(root: Path) -> None:
    read = TenantReadModel(Settings.load(root))
    told = threading.Event()
    told.set()
    assert read.prime(told) == 0
    assert read.primed.is_set()
    assert not any(read.parsed(t, str(e["manifest_sha256"])) for t, e in read.index().items())
    calls: list[int] = []
    parsed = read.prime(every=2, progress=lambda: calls.append(1))  # untold: every manifest
    assert parsed == len(read.index())
    assert len(calls) == parsed // 2  # app.py freezes the heap at each call


def test_ecp_serve_freezes_the_start_up_heap_and_a_plain_app_does_not(
    root: Path, unfrozen: None
) -> None:
    settings = Settings.load(root)
    anyio.run(lambda: _started_and_stopped(settings, freeze_heap=False))
    assert gc.get_freeze_count() == 0
    anyio.run(lambda: _started_and_stopped(settings, freeze_heap=True))
    # The read model's parsed manifests are among the frozen: thousands of objects at least.
    assert gc.get_freeze_count() > 10_000

"""The API's in-memory view of one workspace (real or demo): specs, compiled index, spec dates.

Input: the files the compiler and the spec writer leave (tenants/*.yaml, output/index.json,
output/<id>/manifest.yaml) and the workspace's git history. Output: cheap lookups for the read
endpoints. It is a cache, never a second truth: each file is re-read when its mtime or size
changes. While a batch of writes runs, the writer `hold`s it: readers keep seeing the last
committed state, and `release` switches them to the new one in one step. No sizing, no rendering.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.catalogue import PRESET_FILES, Catalogue, load_catalogue
from compiler.service.object_views import ObjectView, object_views
from compiler.service.workspace_git import SpecDates, git_dir, git_spec_dates
from compiler.settings import Settings
from compiler.spec.ids import tenant_id_problem

# Every read checks a dozen files' stats: os.stat and open on strings built once, since
# building pathlib objects per call cost more than the stat calls themselves (bench_api).
# ruff: noqa: PTH116, PTH118, PTH123
_FileKey = tuple[int, int]  # (mtime_ns, size)


@dataclass(frozen=True)
class SpecFile:
    text: str
    etag: str  # quoted sha256 of the bytes, as an HTTP ETag
    key: _FileKey


def etag_of(data: bytes) -> str:
    return f'"{hashlib.sha256(data).hexdigest()}"'


def _key(stat: os.stat_result) -> _FileKey:
    return (stat.st_mtime_ns, stat.st_size)


def _stat_key(path: str) -> _FileKey:
    try:
        return _key(os.stat(path))
    except OSError:
        return (0, 0)


class _HeadWatch:
    """workspace_git.head_key for one repo, cheaply: every read asks it, so the paths are
    built once and HEAD's text is re-read only when HEAD's own stat moved."""

    def __init__(self, repo: Path) -> None:
        self.git = str(repo)
        self.head = os.path.join(self.git, "HEAD")
        self.packed = os.path.join(self.git, "packed-refs")
        self._seen: _FileKey | None = None
        self._ref: str | None = None

    def key(self) -> tuple[_FileKey, ...]:
        head = _stat_key(self.head)
        if head != self._seen:
            try:
                with open(self.head, encoding="utf-8") as file:
                    text = file.read().strip()
            except OSError:
                text = ""
            ref = text.removeprefix("ref: ") if text.startswith("ref: ") else None
            self._ref = None if ref is None else os.path.join(self.git, ref)
            self._seen = head
        keys = [head, _stat_key(self.packed)]
        if self._ref is not None:
            keys.append(_stat_key(self._ref))
        return tuple(keys)


@dataclass(frozen=True)
class CommittedBatch:
    """What a finished batch changed, read by the writer thread, swapped in by `release`."""

    specs: Mapping[str, SpecFile | None]  # None: the spec was removed
    index: Mapping[str, Mapping[str, Any]] | None  # output/index.json after the batch
    index_key: _FileKey | None
    objects: Mapping[str, tuple[str, list[ObjectView]]]
    committed_at: str | None  # the workspace commit's date (None: no git)


class TenantReadModel:
    """Cached reads of one workspace; safe to call from the event loop and worker threads.

    A reader that needs several facts of one state (an ETag with its body) takes `snapshot()`;
    the writer's `hold` and `release` take the same lock, so a reader sees one state throughout.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        # Tenants a running batch is writing: their specs, the index and the folder listing are
        # answered from the cache until `release` (None: no batch running).
        self._held: dict[str, SpecFile | None] | None = None
        self._held_manifests: dict[str, str] = {}
        self._index_key: _FileKey | None = None
        self._index: dict[str, Mapping[str, Any]] = {}
        self._dir_key: _FileKey | None = None
        self._spec_mtimes: dict[str, float] = {}
        self._specs: dict[str, SpecFile] = {}
        self._dates: dict[str, SpecDates] | None = None
        self._dates_key: tuple[tuple[int, int], ...] = ()
        self._git_dir: Path | None = None
        self._git_checked = False
        self._objects: dict[str, tuple[str, list[ObjectView]]] = {}
        self._catalogue: tuple[tuple[_FileKey, ...], Catalogue] | None = None
        self._forgotten = 0  # bumped by every forget(): dates and cached specs changed
        self._head: _HeadWatch | None = None
        # Every read stats these: built once as strings (pathlib costs more than the stat).
        self._preset_paths = [str(settings.presets_dir / name) for name in PRESET_FILES]
        self._index_path = str(settings.output_dir / "index.json")
        self._tenants_path = str(settings.tenants_dir)

    # --- presets ----------------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        """presets/ as a Catalogue, re-loaded only when one of its files changed."""
        keys = []
        for path in self._preset_paths:
            try:
                keys.append(_key(os.stat(path)))
            except FileNotFoundError:
                keys.append((0, 0))
        cached = self._catalogue
        if cached is not None and cached[0] == tuple(keys):
            return cached[1]
        catalogue = load_catalogue(self.settings.presets_dir)
        self._catalogue = (tuple(keys), catalogue)
        return catalogue

    # --- compiled index ---------------------------------------------------------------------

    def index(self) -> Mapping[str, Mapping[str, Any]]:
        """output/index.json's tenants, re-read only when the file changed."""
        if self._held is not None:
            return self._index
        path = self._index_path
        try:
            key = _key(os.stat(path))
        except FileNotFoundError:
            return {}
        if key != self._index_key:
            try:
                with open(path, "rb") as file:
                    data = json.loads(file.read())
                tenants = data.get("tenants", {}) if isinstance(data, dict) else {}
            except (OSError, ValueError):
                return self._index  # mid-replace or broken: keep the last good view
            with self._lock:
                self._index, self._index_key = dict(tenants), key
        return self._index

    def objects(self, tenant_id: str, manifest_sha256: str) -> list[ObjectView]:
        """The compiled manifest's documents, parsed once per manifest_sha256."""
        cached = self._objects.get(tenant_id)
        if cached is not None and cached[0] == manifest_sha256:
            return cached[1]
        held_text = self._held_manifests.get(tenant_id) if self._held is not None else None
        path = self.settings.output_dir / tenant_id / "manifest.yaml"
        try:
            # While its batch runs, the manifest as it was when the batch began.
            text = held_text if held_text is not None else path.read_text(encoding="utf-8")
            views = object_views(text)
        except (OSError, yaml.YAMLError):
            return []
        self._objects[tenant_id] = (manifest_sha256, views)
        return views

    def parsed(self, tenant_id: str, manifest_sha256: str) -> bool:
        """Whether `objects` answers from a parsed manifest (not [] for an unreadable file)."""
        cached = self._objects.get(tenant_id)
        return cached is not None and cached[0] == manifest_sha256

    # --- specs ------------------------------------------------------------------------------

    def spec_ids(self) -> list[str]:
        """Tenant IDs with a spec file, sorted; the folder is rescanned only when it changed."""
        folder = self._tenants_path
        if self._held is not None:
            return list(self._spec_mtimes)
        try:
            key = _key(os.stat(folder))
        except FileNotFoundError:
            return []
        if key != self._dir_key:
            mtimes: dict[str, float] = {}
            with os.scandir(folder) as entries:
                for entry in entries:
                    stem = entry.name[: -len(".yaml")]
                    if entry.name.endswith(".yaml") and tenant_id_problem(stem) is None:
                        mtimes[stem] = entry.stat().st_mtime
            with self._lock:
                self._spec_mtimes = dict(sorted(mtimes.items()))
                self._dir_key = key
        return list(self._spec_mtimes)

    def spec_file(self, tenant_id: str) -> SpecFile | None:
        held = self._held
        if held is not None and tenant_id in held:
            return held[tenant_id]
        path = f"{self._tenants_path}/{tenant_id}.yaml"
        try:
            key = _key(os.stat(path))
        except FileNotFoundError:
            return None
        cached = self._specs.get(tenant_id)
        if cached is not None and cached.key == key:
            return cached
        try:
            with open(path, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            return None
        spec = SpecFile(text=data.decode("utf-8", errors="replace"), etag=etag_of(data), key=key)
        self._specs[tenant_id] = spec
        return spec

    # --- dates ---------------------------------------------------------------------------------

    def _repo(self) -> Path | None:
        if not self._git_checked:
            self._git_dir, self._git_checked = git_dir(self.settings), True
            self._head = None if self._git_dir is None else _HeadWatch(self._git_dir)
        return self._git_dir

    def _head_key(self) -> tuple[_FileKey, ...]:
        """head_key(repo): changes with every commit (call after `_repo()` found one)."""
        assert self._head is not None
        return self._head.key()

    def is_git(self) -> bool:
        return self._repo() is not None

    def dates(self, tenant_id: str) -> SpecDates | None:
        """created_at / updated_at from the workspace repo's history (None outside a git repo),
        re-read when a commit moved HEAD, whoever made it."""
        repo = self._repo()
        if repo is None:
            return None
        if self._held is not None and self._dates is not None:
            return self._dates.get(tenant_id)
        key = self._head_key()
        if self._dates is None or key != self._dates_key:
            loaded = git_spec_dates(self.settings)
            with self._lock:
                self._dates, self._dates_key = loaded, key
        return self._dates.get(tenant_id)

    def version(self) -> tuple[Any, ...]:
        """A token that changes whenever anything the list answer reads may have changed:
        the index, the spec folder, presets and the dates (refreshing each first)."""
        self.index()
        self.spec_ids()
        self.catalogue()
        presets = self._catalogue[0] if self._catalogue is not None else None
        repo = self._repo()
        commits = self._head_key() if repo is not None and self._held is None else ()
        # The presets' file stats, not id(catalogue): a reloaded catalogue may reuse a freed id.
        return (self._index_key, self._dir_key, presets, self._forgotten, commits)

    def warm(self, tenant_id: str, manifest_sha256: str) -> bool:
        """Parse `tenant_id`'s compiled manifest into the cache ahead of `objects`, in a worker
        thread (tenant_routes.py): a first read's parse (10-50 ms for a 33 KB manifest) then
        holds only its own request, never the event loop. The file is taken only when its bytes
        hash to `manifest_sha256`: one rewritten since the index was read is left for
        `objects` to read as its snapshot says. Returns whether the cache now holds it."""
        if self.parsed(tenant_id, manifest_sha256):
            return True
        if self._held is not None and tenant_id in self._held_manifests:
            return False  # a batch holds it: objects() answers from the held text
        path = self.settings.output_dir / tenant_id / "manifest.yaml"
        try:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != manifest_sha256:
                return False
            views = object_views(data.decode("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return False
        self._objects[tenant_id] = (manifest_sha256, views)
        return True

    # --- the writer's side ---------------------------------------------------------------------

    def snapshot(self) -> threading.RLock:
        """Hold it around a read answer that combines several facts (`with read.snapshot():`)."""
        return self._lock

    def hold(self, tenant_ids: list[str]) -> None:
        """Before a batch touches any file: pin the committed state the readers will see."""
        with self._lock:
            self.index()
            self.spec_ids()
            if self._repo() is not None and self._dates is None:
                self.dates("")
            # Their manifests' bytes (parsed only if a reader asks while the batch runs).
            self._held_manifests = {}
            for tenant_id in tenant_ids:
                cached = self._objects.get(tenant_id)
                entry = self._index.get(tenant_id)
                if entry is None or (cached and cached[0] == entry.get("manifest_sha256")):
                    continue
                path = self.settings.output_dir / tenant_id / "manifest.yaml"
                with contextlib.suppress(OSError):
                    self._held_manifests[tenant_id] = path.read_text(encoding="utf-8")
            self._held = {t: self.spec_file(t) for t in tenant_ids}

    def release(self, batch: CommittedBatch | None, on_switch: Callable[[], None]) -> None:
        """After a batch: switch readers to its state at once (`on_switch` switches the other
        caches, the deployment ledger's, inside the same step); None just lets go."""
        with self._lock:
            held, self._held = self._held or {}, None
            self._forgotten += 1
            on_switch()
            if batch is None:
                for tenant_id in held:
                    self._specs.pop(tenant_id, None)
                self._index_key = self._dir_key = None
                return
            self._apply(batch)

    def _apply(self, batch: CommittedBatch) -> None:
        # Updates keep the sorted order; only a new tenant needs a re-sort (at 10,000 tenants a
        # sort under the readers' lock is felt by every read waiting on it).
        added = any(
            t not in self._spec_mtimes for t, spec in batch.specs.items() if spec is not None
        )
        for tenant_id, spec in batch.specs.items():
            if spec is None:
                self._specs.pop(tenant_id, None)
                self._spec_mtimes.pop(tenant_id, None)
            else:
                self._specs[tenant_id] = spec
                self._spec_mtimes[tenant_id] = spec.key[0] / 1e9
        if added:
            self._spec_mtimes = dict(sorted(self._spec_mtimes.items()))
        try:
            self._dir_key = _key(self.settings.tenants_dir.stat())
        except FileNotFoundError:
            self._dir_key = None
        if batch.index is not None:
            self._index, self._index_key = dict(batch.index), batch.index_key
        else:
            self._index_key = None
        self._objects.update(batch.objects)
        repo = self._repo()
        if self._dates is None or batch.committed_at is None or repo is None:
            return
        at = batch.committed_at
        for tenant_id, spec in batch.specs.items():
            old = self._dates.pop(tenant_id, None)
            if spec is not None:
                created = old.created_at if old else at
                self._dates[tenant_id] = SpecDates(created_at=created, updated_at=at)
        self._dates_key = self._head_key()


def read_committed(
    settings: Settings,
    tenant_ids: list[str],
    committed_at: str | None,
    index: Mapping[str, Mapping[str, Any]] | None = None,
) -> CommittedBatch:
    """The writer thread's read of what its batch left on disk (off the readers' path);
    `index`, when the writer knows it, is output/index.json's tenants (not parsed again)."""
    specs: dict[str, SpecFile | None] = {}
    for tenant_id in tenant_ids:
        path = settings.tenants_dir / f"{tenant_id}.yaml"
        try:
            data = path.read_bytes()
            key = _key(path.stat())
        except FileNotFoundError:
            specs[tenant_id] = None
            continue
        specs[tenant_id] = SpecFile(
            text=data.decode("utf-8", errors="replace"), etag=etag_of(data), key=key
        )
    index_path = settings.output_dir / "index.json"
    index_key = None
    try:
        index_key = _key(index_path.stat())
        if index is None:
            data = json.loads(index_path.read_bytes())
            index = dict(data.get("tenants", {})) if isinstance(data, dict) else None
    except (OSError, ValueError):
        index, index_key = None, None
    # Manifests are parsed when first read (a detail answer), not here: most are not read soon.
    objects: dict[str, tuple[str, list[ObjectView]]] = {}
    return CommittedBatch(specs, index, index_key, objects, committed_at)

"""The latest deployment record per tenant, read from the deploy repo and cached until it moves.

Input: Settings (which deploy repo and branch). Output: DeploymentRecord or None, from
compiler.publishing's list_deployments / find_deployment. One `git log` fills the map for every
tenant; it is re-read when the branch's ref file (or packed-refs) changes, so a publish from
anywhere, the CLI included, is seen on the next read. The API's own publishes update it in place.
"""

from __future__ import annotations

import os
import threading
import time

from compiler.publishing import (
    DeploymentRecord,
    deployment_at,
    find_deployment,
    list_deployments,
)
from compiler.service.workspace_git import SpecDates
from compiler.settings import Settings

_RefKey = tuple[tuple[int, int], ...] | float
# When the deploy repo is a URL (no local ref files to watch), records are re-read this often.
_REMOTE_TTL_SECONDS = 5.0
# One scan reads this many publish commits; tenants not seen in them are looked up one by one.
_SCAN_LIMIT = 20_000


class DeploymentLedger:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._key: _RefKey | None = None
        self._latest: dict[str, DeploymentRecord] = {}
        self._dates: dict[str, SpecDates] = {}
        self._complete = False  # the scan saw the whole history: absent means never published
        self._held = False  # a batch is publishing: answer from the cache until it is applied
        self._ref_paths: tuple[str, ...] | None = None

    def ref_key(self) -> _RefKey:
        """Stats of the branch's ref file and packed-refs (every read asks: the two paths are
        built once, as strings); a time bucket for a remote deploy repo."""
        if self._ref_paths is None:
            repo = self.settings.deploy_repo_path
            self._ref_paths = (
                ()
                if repo is None
                else (
                    str(repo / ".git" / "refs" / "heads" / self.settings.deploy_branch),
                    str(repo / ".git" / "packed-refs"),
                )
            )
        if not self._ref_paths:
            return time.monotonic() // _REMOTE_TTL_SECONDS
        keys = []
        for path in self._ref_paths:
            try:
                stat = os.stat(path)  # noqa: PTH116 - a string built once (see above)
                keys.append((stat.st_mtime_ns, stat.st_size))
            except (FileNotFoundError, NotADirectoryError):
                keys.append((0, 0))
        return tuple(keys)

    def _scan(self, key: _RefKey) -> None:
        records = list_deployments(self.settings, limit=_SCAN_LIMIT)
        latest: dict[str, DeploymentRecord] = {}
        created: dict[str, str] = {}
        added: set[str] = set()  # tenants whose latest "added" record has been seen
        for record in records:  # newest first: the first record naming a tenant is its latest
            for change in record.tenants:
                latest.setdefault(change.tenant_id, record)
                if change.tenant_id not in added:
                    created[change.tenant_id] = record.timestamp
                    if change.action == "added":
                        added.add(change.tenant_id)
        dates = {t: SpecDates(created[t], r.timestamp) for t, r in latest.items()}
        with self._lock:
            self._latest, self._dates, self._key = latest, dates, key
            self._complete = len(records) < _SCAN_LIMIT

    def latest(self, tenant_id: str) -> DeploymentRecord | None:
        """The newest publish that changed `tenant_id`, or None when it was never published."""
        if not (self._held and self._key is not None):
            key = self.ref_key()
            if key != self._key:
                self._scan(key)
        record = self._latest.get(tenant_id)
        if record is not None or self._complete:
            return record
        found = list_deployments(self.settings, tenant_id, limit=1)
        return found[0] if found else None

    def dates(self, tenant_id: str) -> SpecDates | None:
        """When the tenant was first published (since it was last added) and last published:
        the history of a workspace whose specs are not in git (the demo sandbox)."""
        self.latest(tenant_id)  # refreshes the scan when the deploy repo moved
        return self._dates.get(tenant_id)

    def refresh(self) -> None:
        """Read the records now if the deploy repo moved (the writer's start does it, so the
        first write or read does not)."""
        key = self.ref_key()
        if key != self._key:
            self._scan(key)

    def hold(self) -> None:
        """Before a batch publishes: keep answering the state before it until `apply`."""
        self.refresh()
        self._held = True

    def is_fresh(self) -> bool:
        """True when the cache matches the deploy repo now (call it just before publishing)."""
        return self._key is not None and self._key == self.ref_key()

    def fetch(
        self, deployment_id: str | None, commit: str | None = None
    ) -> DeploymentRecord | None:
        """The record of the API's own publish, read back from its commit (by its full SHA
        when known: one git call)."""
        if deployment_id and commit:
            return deployment_at(self.settings, commit)
        return find_deployment(self.settings, deployment_id) if deployment_id else None

    def apply(self, record: DeploymentRecord | None, was_fresh: bool) -> None:
        """After the API's own publish: add its record without re-reading the whole history."""
        key = self.ref_key()
        with self._lock:
            self._held = False
            if not was_fresh:
                self._key = None  # unknown: the next read scans again
                return
            if record is not None:
                self._add(record)
            self._key = key

    def _add(self, record: DeploymentRecord) -> None:
        for change in record.tenants:
            self._latest[change.tenant_id] = record
            old = self._dates.get(change.tenant_id)
            keep = old is not None and change.action != "added"
            created = old.created_at if old is not None and keep else record.timestamp
            self._dates[change.tenant_id] = SpecDates(created, record.timestamp)

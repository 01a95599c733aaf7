"""The latest deployment record per tenant, read from the deploy repo and cached until it moves.

Input: Settings (which deploy repo and branch). Output: DeploymentRecord or None, from
compiler.publishing.list_deployments. The cache is dropped whenever the branch's ref file (or
packed-refs) changes, so a publish from anywhere, the CLI included, is seen on the next read.
"""

from __future__ import annotations

import threading
import time

from compiler.publishing import DeploymentRecord, list_deployments
from compiler.settings import Settings

_RefKey = tuple[tuple[int, int], ...]
# When the deploy repo is a URL (no local ref files to watch), records are re-read this often.
_REMOTE_TTL_SECONDS = 5.0


class DeploymentLedger:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._key: _RefKey | float | None = None
        self._latest: dict[str, DeploymentRecord | None] = {}

    def _ref_key(self) -> _RefKey | float:
        repo = self.settings.deploy_repo_path
        if repo is None:
            return time.monotonic() // _REMOTE_TTL_SECONDS
        keys = []
        for path in (
            repo / ".git" / "refs" / "heads" / self.settings.deploy_branch,
            repo / ".git" / "packed-refs",
        ):
            try:
                stat = path.stat()
                keys.append((stat.st_mtime_ns, stat.st_size))
            except (FileNotFoundError, NotADirectoryError):
                keys.append((0, 0))
        return tuple(keys)

    def latest(self, tenant_id: str) -> DeploymentRecord | None:
        """The newest publish that changed `tenant_id`, or None when it was never published."""
        key = self._ref_key()
        with self._lock:
            if key != self._key:
                self._latest.clear()
                self._key = key
            if tenant_id in self._latest:
                return self._latest[tenant_id]
        records = list_deployments(self.settings, tenant_id, limit=1)
        record = records[0] if records else None
        with self._lock:
            if self._key == key:
                self._latest[tenant_id] = record
        return record

    def forget(self) -> None:
        with self._lock:
            self._latest.clear()
            self._key = None

"""Stat proofs: what an earlier full compile read and hashed, keyed by the files' stat.

A tenant's proof holds the stat (inode, size, mtime in ns) its spec, manifest and kustomization
had when they were last hashed or written, with the spec's input hash and the manifest's SHA-256
under one workspace salt. A full compile whose files still stat the same takes the hashes from
the proof instead of reading and hashing every spec and manifest (1,000 tenants: ~100 ms).
Git's racy rule: a file whose mtime is not older than the proofs file itself may have changed in
the same clock tick after it was statted, so its proof is never used. Only this module's load and
save touch the proofs file; a missing or unreadable one only costs the hashing.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

PROOFS_FILE = "compile-proofs.json"
_VERSION = 1

Stat = tuple[int, int, int]  # inode, size, mtime_ns
Stats = tuple[Stat, Stat, Stat]  # the spec's, the manifest's, the kustomization's
Hashes = tuple[str, str]  # the spec's input hash, the manifest's SHA-256
# As saved: the three stats' nine numbers, then the two hashes (lists: JSON's own shape).
_Row = list[int | str]


def stat_of(path: str) -> Stat | None:
    """The file's (inode, size, mtime_ns), None when it cannot be statted or is no file."""
    try:
        found = os.stat(path)  # noqa: PTH116 - a plain string: the loop runs once per tenant
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


class Proofs:
    """The proofs one full compile loaded and the ones it leaves for the next."""

    def __init__(self, salt: str, known: dict[str, _Row], trusted_before: int) -> None:
        self.salt = salt
        self._known = known
        self._trusted_before = trusted_before
        self._fresh: dict[str, _Row] = {}

    @classmethod
    def load(cls, cache_dir: Path, salt: str) -> Proofs:
        """The proofs saved under `salt` (none when the file is missing, stale or unreadable)."""
        path = cache_dir / PROOFS_FILE
        try:
            trusted_before = path.stat().st_mtime_ns
            data = json.loads(path.read_bytes())
            if data["version"] != _VERSION or data["salt"] != salt:
                return cls(salt, {}, 0)
            known = data["tenants"]
            if not isinstance(known, dict):
                return cls(salt, {}, 0)
        except (OSError, ValueError, KeyError, TypeError):
            return cls(salt, {}, 0)
        return cls(salt, known, trusted_before)

    def hashes(self, tenant_id: str, stats: Stats) -> Hashes | None:
        """The hashes proved for the tenant's files when they stat as recorded, none is racy
        (mtime not older than the proofs file) and the row is well formed."""
        row = self._known.get(tenant_id)
        if type(row) is not list or len(row) != 11:
            return None
        spec, manifest, kustomization = stats
        if row[:9] != [*spec, *manifest, *kustomization]:
            return None
        if max(spec[2], manifest[2], kustomization[2]) >= self._trusted_before:
            return None
        input_hash, manifest_sha = row[9], row[10]
        if type(input_hash) is not str or type(manifest_sha) is not str:
            return None
        return input_hash, manifest_sha

    def record(self, tenant_id: str, stats: Stats, hashes: Hashes) -> None:
        """What this compile proved (hashed, wrote, or found proved) for the next one."""
        self._fresh[tenant_id] = [*stats[0], *stats[1], *stats[2], *hashes]

    def save(self, cache_dir: Path) -> None:
        """Write this compile's proofs when they differ from the loaded ones."""
        if self._fresh == self._known:
            return
        data = {
            "version": _VERSION,
            "salt": self.salt,
            "tenants": dict(sorted(self._fresh.items())),
        }
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache_dir / f".{PROOFS_FILE}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            tmp.replace(cache_dir / PROOFS_FILE)
        except OSError:
            return  # proofs only save time

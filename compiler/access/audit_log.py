"""The bounded log of refused attempts (401, 403, 429), in its own SQLite file under `.ecp/`.

Input: one refusal (when, who, what, why). Output: rows newest first, filtered by tenant, time and
principal. Keeps the newest `size` rows; never stores a credential (the caller passes names only).
Who changed what is not here: that is git history (see history.py).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS refusals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at REAL NOT NULL,
  status INTEGER NOT NULL,
  code TEXT NOT NULL,
  principal TEXT NOT NULL,
  client TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  tenant_id TEXT,
  reason TEXT NOT NULL,
  request_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refusals_at ON refusals(at);
"""
_TRIM_EVERY = 100
# A flood of the same refusal (a client retrying in a loop, a password-guessing script) is
# recorded once per caller and code per this many seconds: the log stays useful and cheap.
REPEAT_S = 1.0


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    principal: str
    client: str
    method: str
    path: str
    tenant_id: str | None
    reason: str
    request_id: str


class AuditLog:
    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._writes = 0
        self._last: dict[tuple[str, str, str], float] = {}

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Who tried what from where is for admins: private, like the token file (SQLite
            # gives its -wal and -shm files the database file's mode).
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def record(self, refusal: Refusal, at: float | None = None) -> None:
        now = time.time() if at is None else at
        key = (refusal.principal, refusal.client, refusal.code)
        with self._lock:
            if now - self._last.get(key, -REPEAT_S) < REPEAT_S:
                return
            if len(self._last) > 10_000:
                self._last.clear()
            self._last[key] = now
            db = self._conn()
            db.execute(
                "INSERT INTO refusals (at, status, code, principal, client, method, path,"
                " tenant_id, reason, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    refusal.status,
                    refusal.code,
                    refusal.principal,
                    refusal.client,
                    refusal.method,
                    refusal.path[:300],
                    refusal.tenant_id,
                    refusal.reason[:300],
                    refusal.request_id,
                ),
            )
            self._writes += 1
            if self._writes % _TRIM_EVERY == 0:
                db.execute(
                    "DELETE FROM refusals WHERE id <= (SELECT MAX(id) FROM refusals) - ?",
                    (self.size,),
                )

    def refusals(
        self,
        *,
        since: float | None = None,
        principal: str | None = None,
        tenant_ids: set[str] | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Newest first; `tenant_ids` (a scope) keeps only refusals naming those tenants."""
        query = "SELECT * FROM refusals WHERE at >= ?"
        args: list[Any] = [since or 0.0]
        if principal:
            query += " AND principal = ?"
            args.append(principal)
        query += " ORDER BY id DESC LIMIT ?"
        args.append(min(limit, self.size))
        with self._lock:
            db = self._conn()
            db.row_factory = sqlite3.Row
            rows = [dict(row) for row in db.execute(query, args)]
        if tenant_ids is not None:
            rows = [r for r in rows if r["tenant_id"] in tenant_ids]
        return rows

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

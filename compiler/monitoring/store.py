"""The embedded metrics store: one SQLite file in WAL mode, no server.

Input: Sample rows and alert records. Output: bucketed averages, summaries, latest values, recent
alerts; retention and hourly downsampling keep the file bounded. Every sqlite3 failure becomes
MonitoringUnavailable (503) and a failed batch is rolled back whole, so nothing is half-accepted.
Knows nothing of HTTP, tenants' specs or alert rules.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.alerting import METRIC_NAMES
from compiler.errors import MonitoringUnavailable
from compiler.monitoring.samples import Sample

HOUR_MS = 3_600_000
# Reader connections: a few cover the API's concurrent reads (each read is milliseconds); more
# readers wait for one. An idle reader is closed after IDLE_SECONDS.
READERS = 4
IDLE_SECONDS = 60.0
_COLUMNS = ", ".join(METRIC_NAMES)
# A second sample for the same tenant and instant fills in the metrics the first lacked and
# replaces the ones it repeats: a client retrying a batch after a 503 never double counts.
_MERGE = ", ".join(f"{n} = coalesce(excluded.{n}, {n})" for n in METRIC_NAMES)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS samples (
    tenant TEXT NOT NULL,
    ts INTEGER NOT NULL,
    {", ".join(f"{n} REAL" for n in METRIC_NAMES)},
    resolution_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    ts INTEGER NOT NULL,
    severity TEXT NOT NULL,
    type TEXT NOT NULL,
    metric TEXT NOT NULL,
    message TEXT NOT NULL,
    current_value REAL NOT NULL,
    threshold REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_tenant ON alerts (tenant, ts);
CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS deployments (
    deployment_id TEXT PRIMARY KEY,
    ts INTEGER NOT NULL,
    body TEXT NOT NULL
);
"""
ALERT_FIELDS = (
    "alert_id",
    "tenant_id",
    "timestamp_ms",
    "severity",
    "type",
    "metric",
    "message",
    "current_value",
    "threshold",
)


@dataclass(frozen=True)
class AlertRecord:
    alert_id: str
    tenant_id: str
    timestamp_ms: int
    severity: str
    type: str
    metric: str
    message: str
    current_value: float
    threshold: float


class MetricsStore:
    """One database file. Writes go through one connection under a lock (SQLite has one writer
    anyway); reads borrow one of at most `readers` connections, which WAL lets run beside the
    writer. A connection idle for `idle_s` is closed, and one that failed is replaced, so a burst
    of readers leaves no descriptors behind and a disk that becomes writable again is used again
    without a restart."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = 2000,
        readers: int = READERS,
        idle_s: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._write_lock = threading.Lock()
        self._idle_s = idle_s
        self._clock = clock
        self._slots = threading.BoundedSemaphore(readers)
        self._pool_lock = threading.Lock()
        self._idle: list[tuple[float, sqlite3.Connection]] = []  # (returned at, connection)
        self._open_readers = 0
        self._writer: sqlite3.Connection | None = None
        with self._failures("open"):
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = self._connect()
            # auto_vacuum must be chosen before the first table exists; later it is a no-op.
            writer.execute("PRAGMA auto_vacuum = INCREMENTAL")
            writer.execute("PRAGMA journal_mode = WAL")
            writer.executescript(_SCHEMA)
            self._writer = writer

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_ms / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
        # NORMAL is durable across process crashes in WAL mode; only a power cut can lose the
        # last transactions, which is acceptable for metrics and keeps ingest fast.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        return conn

    @property
    def open_connections(self) -> int:
        """Connections open now: the writer (when open) and the readers (pooled or lent)."""
        return (self._writer is not None) + self._open_readers

    def _close_idle(self, now: float) -> None:
        with self._pool_lock:
            keep: list[tuple[float, sqlite3.Connection]] = []
            stale: list[tuple[float, sqlite3.Connection]] = []
            for returned, conn in self._idle:
                (stale if now - returned >= self._idle_s else keep).append((returned, conn))
            self._idle = keep
            self._open_readers -= len(stale)
        for _, conn in stale:
            conn.close()

    def close_idle(self) -> None:
        """Close the reader connections idle past `idle_s` (also done on every borrow)."""
        self._close_idle(self._clock())

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """Borrow a reader connection (waiting when all `readers` are lent out)."""
        self._close_idle(self._clock())
        with self._slots:
            with self._pool_lock:
                conn = self._idle.pop()[1] if self._idle else None
                if conn is None:
                    self._open_readers += 1
            try:
                if conn is None:
                    conn = self._connect()
            except BaseException:
                with self._pool_lock:
                    self._open_readers -= 1
                raise
            healthy = False
            try:
                yield conn
                healthy = True
            finally:
                if healthy:
                    with self._pool_lock:
                        self._idle.append((self._clock(), conn))
                else:  # it may be the broken one: a fresh connection next time
                    with self._pool_lock:
                        self._open_readers -= 1
                    conn.close()

    @contextmanager
    def _failures(self, action: str) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            # The message says locked/readonly/missing; the file's path stays in the log.
            raise MonitoringUnavailable(
                f"monitoring store cannot {action}: {exc}",
                details={"database": self.path.name, "reason": str(exc)},
            ) from exc

    @contextmanager
    def _writing(self, action: str) -> Iterator[sqlite3.Connection]:
        """The writer connection, under the write lock. One that met a read-only or vanished
        file keeps failing after the disk recovers: it is dropped, and the next write opens a
        fresh one."""
        with self._failures(action), self._write_lock:
            if self._writer is None:
                self._writer = self._connect()
            conn = self._writer
            try:
                yield conn
            except sqlite3.Error:
                self._writer = None
                conn.close()
                raise

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._writing(action) as conn:
            # IMMEDIATE takes the write lock up front: a locked database fails here, before
            # anything of the batch is written.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def check(self) -> None:
        """Readiness: a read and a real (one-row) write; MonitoringUnavailable if either fails.
        An empty transaction would not touch the file, so it could not tell a refusing disk."""
        with self._transaction("write") as conn:
            conn.execute("INSERT OR REPLACE INTO probe VALUES (1, ?)", (time.time(),))
        with self._failures("read"), self._reader() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        with self._pool_lock:
            idle, self._idle = self._idle, []
            self._open_readers -= len(idle)
        for _, conn in idle:
            conn.close()

    # -- writes ---------------------------------------------------------------------------------

    def write(
        self, tenant: str, samples: Sequence[Sample], alerts: Sequence[AlertRecord] = ()
    ) -> None:
        """Samples and the alerts they raised, in one transaction: all of them or none."""
        placeholders = ", ".join("?" * (len(METRIC_NAMES) + 2))
        rows = [(tenant, s.ts_ms, *s.values) for s in samples]
        with self._transaction("write samples") as conn:
            conn.executemany(
                f"INSERT INTO samples (tenant, ts, {_COLUMNS}) VALUES ({placeholders}) "  # noqa: S608 - fixed column names
                f"ON CONFLICT (tenant, ts) DO UPDATE SET {_MERGE}",
                rows,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [tuple(getattr(a, f) for f in ALERT_FIELDS) for a in alerts],
            )

    def save_deployment(self, deployment_id: str, ts_ms: int, body: str) -> None:
        with self._transaction("record deployment") as conn:
            conn.execute(
                "INSERT INTO deployments VALUES (?, ?, ?) ON CONFLICT (deployment_id) "
                "DO UPDATE SET ts = excluded.ts, body = excluded.body",
                (deployment_id, ts_ms, body),
            )

    def maintain(self, now_ms: int, *, retention_ms: int, raw_ms: int) -> dict[str, int]:
        """Drop rows past retention; fold raw samples older than raw_ms into hourly averages."""
        keep_from = now_ms - retention_ms
        raw_from = (now_ms - raw_ms) // HOUR_MS * HOUR_MS  # whole hours only
        averages = ", ".join(f"avg({n})" for n in METRIC_NAMES)
        with self._transaction("maintain") as conn:
            dropped = conn.execute("DELETE FROM samples WHERE ts < ?", (keep_from,)).rowcount
            conn.execute("DELETE FROM alerts WHERE ts < ?", (keep_from,))
            conn.execute("DELETE FROM deployments WHERE ts < ?", (keep_from,))
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS folded AS SELECT * FROM samples WHERE 0")
            conn.execute("DELETE FROM folded")
            conn.execute(
                f"INSERT INTO folded (tenant, ts, {_COLUMNS}, resolution_ms) "  # noqa: S608
                f"SELECT tenant, ts / {HOUR_MS} * {HOUR_MS}, {averages}, {HOUR_MS} FROM samples "
                "WHERE ts < ? AND resolution_ms = 0 GROUP BY tenant, ts / ?",
                (raw_from, HOUR_MS),
            )
            folded = conn.execute(
                "DELETE FROM samples WHERE ts < ? AND resolution_ms = 0", (raw_from,)
            ).rowcount
            conn.execute(
                f"INSERT INTO samples SELECT * FROM folded WHERE 1 "  # noqa: S608
                f"ON CONFLICT (tenant, ts) DO UPDATE SET {_MERGE}, resolution_ms = {HOUR_MS}"
            )
        with self._writing("vacuum") as conn:
            conn.execute("PRAGMA incremental_vacuum")
        return {"dropped": dropped, "folded": folded}

    # -- reads ----------------------------------------------------------------------------------

    def buckets(
        self, tenant: str, metrics: Sequence[str], start_ms: int, end_ms: int, interval_ms: int
    ) -> list[tuple[Any, ...]]:
        """(bucket_start_ms, avg per metric...) for every bucket holding a sample, in time order."""
        columns = ", ".join(f"avg({_checked(m)})" for m in metrics)
        with self._failures("read samples"), self._reader() as conn:
            return conn.execute(
                f"SELECT ts / ? * ? AS bucket, {columns} FROM samples "  # noqa: S608
                "WHERE tenant = ? AND ts >= ? AND ts < ? GROUP BY bucket ORDER BY bucket",
                (interval_ms, interval_ms, tenant, start_ms, end_ms),
            ).fetchall()

    def summary(
        self, tenant: str, metrics: Sequence[str], start_ms: int, end_ms: int
    ) -> dict[str, tuple[float | None, float | None]]:
        columns = ", ".join(f"avg({_checked(m)}), max({m})" for m in metrics)
        with self._failures("read samples"), self._reader() as conn:
            row = conn.execute(
                f"SELECT {columns} FROM samples WHERE tenant = ? AND ts >= ? AND ts < ?",  # noqa: S608
                (tenant, start_ms, end_ms),
            ).fetchone()
        return {m: (row[2 * i], row[2 * i + 1]) for i, m in enumerate(metrics)}

    def latest(self, tenant: str, metrics: Sequence[str]) -> dict[str, tuple[int, float]]:
        """The newest value of each metric (metrics may arrive in separate partial samples)."""
        out: dict[str, tuple[int, float]] = {}
        with self._failures("read samples"), self._reader() as conn:
            for name in metrics:
                row = conn.execute(
                    f"SELECT ts, {_checked(name)} FROM samples WHERE tenant = ? "  # noqa: S608
                    f"AND {name} IS NOT NULL ORDER BY ts DESC LIMIT 1",
                    (tenant,),
                ).fetchone()
                if row is not None:
                    out[name] = (row[0], row[1])
        return out

    def latest_ts(self, tenant: str) -> int | None:
        with self._failures("read samples"), self._reader() as conn:
            row = conn.execute("SELECT max(ts) FROM samples WHERE tenant = ?", (tenant,)).fetchone()
        return None if row is None else row[0]

    def reporting_tenants(self, since_ms: int) -> set[str]:
        with self._failures("read samples"), self._reader() as conn:
            rows = conn.execute(
                "SELECT DISTINCT tenant FROM samples WHERE ts >= ?", (since_ms,)
            ).fetchall()
        return {r[0] for r in rows}

    def recent_alerts(self, tenant: str, limit: int, since_ms: int = 0) -> list[AlertRecord]:
        with self._failures("read alerts"), self._reader() as conn:
            rows = conn.execute(
                "SELECT * FROM alerts WHERE tenant = ? AND ts >= ? ORDER BY ts DESC, alert_id "
                "LIMIT ?",
                (tenant, since_ms, limit),
            ).fetchall()
        return [AlertRecord(*row) for row in rows]

    def deployment(self, deployment_id: str) -> str | None:
        with self._failures("read deployments"), self._reader() as conn:
            row = conn.execute(
                "SELECT body FROM deployments WHERE deployment_id = ?", (deployment_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def count(self, table: str = "samples") -> int:
        if table not in ("samples", "alerts"):
            raise ValueError(table)
        with self._failures("count"), self._reader() as conn:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        return int(row[0])


def _checked(name: str) -> str:
    # Column names are spliced into SQL: only the catalogue's own names may pass.
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown metric column {name!r}")
    return name

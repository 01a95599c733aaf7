"""The embedded metrics store: one SQLite file in WAL mode, no server.

Input: Sample rows and alert records. Output: bucketed averages, summaries, latest values, recent
alerts; retention and hourly downsampling keep the file bounded. Every sqlite3 failure becomes
MonitoringUnavailable (503) and a failed batch is rolled back whole, so nothing is half-accepted.
Knows nothing of HTTP, tenants' specs or alert rules.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.alerting import METRIC_NAMES
from compiler.errors import MonitoringUnavailable
from compiler.monitoring.samples import Sample

HOUR_MS = 3_600_000
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
    anyway); each reading thread gets its own connection, which WAL lets run beside the writer."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 2000) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        with self._failures("open"):
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
            # auto_vacuum must be chosen before the first table exists; later it is a no-op.
            self._writer.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self._writer.execute("PRAGMA journal_mode = WAL")
            self._writer.executescript(_SCHEMA)

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
        self._connections.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _failures(self, action: str) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            # The path is ours (settings), not a secret; the message says locked/readonly/missing.
            raise MonitoringUnavailable(
                f"monitoring store cannot {action}: {exc}",
                details={"database": str(self.path), "reason": str(exc)},
            ) from exc

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._failures(action), self._write_lock:
            conn = self._writer
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

    def close(self) -> None:
        for conn in self._connections:
            conn.close()
        self._connections.clear()

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
        with self._failures("vacuum"), self._write_lock:
            self._writer.execute("PRAGMA incremental_vacuum")
        return {"dropped": dropped, "folded": folded}

    # -- reads ----------------------------------------------------------------------------------

    def buckets(
        self, tenant: str, metrics: Sequence[str], start_ms: int, end_ms: int, interval_ms: int
    ) -> list[tuple[Any, ...]]:
        """(bucket_start_ms, avg per metric...) for every bucket holding a sample, in time order."""
        columns = ", ".join(f"avg({_checked(m)})" for m in metrics)
        with self._failures("read samples"):
            return (
                self._reader()
                .execute(
                    f"SELECT ts / ? * ? AS bucket, {columns} FROM samples "  # noqa: S608
                    "WHERE tenant = ? AND ts >= ? AND ts < ? GROUP BY bucket ORDER BY bucket",
                    (interval_ms, interval_ms, tenant, start_ms, end_ms),
                )
                .fetchall()
            )

    def summary(
        self, tenant: str, metrics: Sequence[str], start_ms: int, end_ms: int
    ) -> dict[str, tuple[float | None, float | None]]:
        columns = ", ".join(f"avg({_checked(m)}), max({m})" for m in metrics)
        with self._failures("read samples"):
            row = (
                self._reader()
                .execute(
                    f"SELECT {columns} FROM samples WHERE tenant = ? AND ts >= ? AND ts < ?",  # noqa: S608
                    (tenant, start_ms, end_ms),
                )
                .fetchone()
            )
        return {m: (row[2 * i], row[2 * i + 1]) for i, m in enumerate(metrics)}

    def latest(self, tenant: str, metrics: Sequence[str]) -> dict[str, tuple[int, float]]:
        """The newest value of each metric (metrics may arrive in separate partial samples)."""
        out: dict[str, tuple[int, float]] = {}
        with self._failures("read samples"):
            conn = self._reader()
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
        with self._failures("read samples"):
            row = (
                self._reader()
                .execute("SELECT max(ts) FROM samples WHERE tenant = ?", (tenant,))
                .fetchone()
            )
        return None if row is None else row[0]

    def reporting_tenants(self, since_ms: int) -> set[str]:
        with self._failures("read samples"):
            rows = (
                self._reader()
                .execute("SELECT DISTINCT tenant FROM samples WHERE ts >= ?", (since_ms,))
                .fetchall()
            )
        return {r[0] for r in rows}

    def recent_alerts(self, tenant: str, limit: int, since_ms: int = 0) -> list[AlertRecord]:
        with self._failures("read alerts"):
            rows = (
                self._reader()
                .execute(
                    "SELECT * FROM alerts WHERE tenant = ? AND ts >= ? ORDER BY ts DESC, alert_id "
                    "LIMIT ?",
                    (tenant, since_ms, limit),
                )
                .fetchall()
            )
        return [AlertRecord(*row) for row in rows]

    def deployment(self, deployment_id: str) -> str | None:
        with self._failures("read deployments"):
            row = (
                self._reader()
                .execute("SELECT body FROM deployments WHERE deployment_id = ?", (deployment_id,))
                .fetchone()
            )
        return None if row is None else str(row[0])

    def count(self, table: str = "samples") -> int:
        if table not in ("samples", "alerts"):
            raise ValueError(table)
        with self._failures("count"):
            row = self._reader().execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        return int(row[0])


def _checked(name: str) -> str:
    # Column names are spliced into SQL: only the catalogue's own names may pass.
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown metric column {name!r}")
    return name

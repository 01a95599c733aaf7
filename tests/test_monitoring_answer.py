"""The GET monitoring answer's points: one list per metric, in time order, each value rounded to
four decimals, with the bucket's start as its timestamp (SQLite backend, in process)."""

from __future__ import annotations

from pathlib import Path

from test_monitoring_support import make_workspace

from compiler.monitoring import MonitoringQuery, MonitoringService
from compiler.monitoring.samples import iso_z

NOW_MS = 1_800_000_000_000  # a whole minute
MINUTE = 60_000


def test_points_are_per_metric_in_time_order_rounded_to_four_decimals(tmp_path: Path) -> None:
    settings = make_workspace(tmp_path, tenants=("my-ai-service",))
    service = MonitoringService(settings, clock=lambda: NOW_MS / 1000)
    try:
        space = service.space(False)
        sent = [  # minutes ago, cpu, memory (None: not sent in that sample)
            (30, 12.345678, 40.0),
            (20, 99.99996, None),
            (10, 0.000049, 55.55556),
        ]
        body = [
            {
                "timestamp": iso_z(NOW_MS - ago * MINUTE),
                "metrics": {"cpu_usage": cpu, **({"memory_usage": mem} if mem else {})},
            }
            for ago, cpu, mem in sent
        ]
        assert space.ingest("my-ai-service", body)["accepted"] == 3
        answer = space.query("my-ai-service", MonitoringQuery(hours=1, interval="1m"))
    finally:
        service.close()
    assert list(answer["metrics"]) == ["cpu", "memory", *list(answer["metrics"])[2:]]
    assert answer["metrics"]["cpu"] == [
        {"timestamp": iso_z(NOW_MS - 30 * MINUTE), "value": 12.3457},
        {"timestamp": iso_z(NOW_MS - 20 * MINUTE), "value": 100.0},
        {"timestamp": iso_z(NOW_MS - 10 * MINUTE), "value": 0.0},
    ]
    assert answer["metrics"]["memory"] == [
        {"timestamp": iso_z(NOW_MS - 30 * MINUTE), "value": 40.0},
        {"timestamp": iso_z(NOW_MS - 10 * MINUTE), "value": 55.5556},
    ]
    assert all(
        points == [] for name, points in answer["metrics"].items() if name not in ("cpu", "memory")
    )

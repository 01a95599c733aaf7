"""The SQLite store and the demo generator, with a real database file in a temp dir."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.alerting import METRIC_NAMES, load_alert_rules
from compiler.monitoring.alerts import AlertEngine
from compiler.monitoring.demo import demo_sample, demo_samples, in_spike
from compiler.monitoring.samples import Sample, parse_samples
from compiler.monitoring.store import HOUR_MS, MetricsStore

PRESETS = Path(__file__).resolve().parent.parent / "presets"
T0 = 1_800_000_000_000 // HOUR_MS * HOUR_MS  # a whole hour
DAY_MS = 24 * HOUR_MS


def cpu(ts_ms: int, value: float) -> Sample:
    values: list[float | None] = [None] * len(METRIC_NAMES)
    values[METRIC_NAMES.index("cpu_usage")] = value
    return Sample(ts_ms, tuple(values))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetricsStore]:
    opened = MetricsStore(tmp_path / "nested" / "metrics.sqlite3")
    yield opened
    opened.close()


def test_the_store_is_one_wal_file_created_on_demand(store: MetricsStore) -> None:
    store.write("t", [cpu(T0, 1.0)])
    assert store.path.is_file()
    assert store.path.with_name("metrics.sqlite3-wal").exists()


def test_partial_samples_at_one_instant_merge_into_one_row(store: MetricsStore) -> None:
    first = parse_samples({"timestamp": T0 / 1000, "metrics": {"cpu": 10}}, T0)
    second = parse_samples({"timestamp": T0 / 1000, "metrics": {"gpu_usage": 20}}, T0)
    store.write("t", first)
    store.write("t", second)
    assert store.count() == 1
    assert store.latest("t", ["cpu_usage", "gpu_usage"]) == {
        "cpu_usage": (T0, 10.0),
        "gpu_usage": (T0, 20.0),
    }


def test_buckets_average_within_each_interval_and_skip_empty_ones(store: MetricsStore) -> None:
    store.write("t", [cpu(T0 + i * 60_000, float(i)) for i in range(10)])
    store.write("t", [cpu(T0 + 30 * 60_000, 99.0)])
    rows = store.buckets("t", ["cpu_usage"], T0, T0 + HOUR_MS, 300_000)
    assert rows == [(T0, 2.0), (T0 + 300_000, 7.0), (T0 + 1_800_000, 99.0)]
    average, peak = store.summary("t", ["cpu_usage"], T0, T0 + HOUR_MS)["cpu_usage"]
    assert average == pytest.approx(144 / 11)
    assert peak == 99.0


def test_tenants_do_not_see_each_others_samples(store: MetricsStore) -> None:
    store.write("a", [cpu(T0, 1.0)])
    store.write("b", [cpu(T0, 2.0)])
    assert store.buckets("a", ["cpu_usage"], T0, T0 + 1, 60_000) == [(T0, 1.0)]


def test_maintenance_drops_expired_rows_and_folds_old_ones_into_hours(store: MetricsStore) -> None:
    now = T0 + 40 * DAY_MS
    expired = [cpu(T0 + i * 60_000, 50.0) for i in range(60)]  # 40 days old
    old = [cpu(T0 + 35 * DAY_MS + i * 60_000, float(i % 2) * 10) for i in range(120)]  # 5 days
    fresh = [cpu(now - i * 60_000, 5.0) for i in range(1, 61)]
    store.write("t", expired + old + fresh)
    report = store.maintain(now, retention_ms=30 * DAY_MS, raw_ms=2 * DAY_MS)
    assert report == {"dropped": 60, "folded": 120}
    assert store.count() == 2 + 60  # two hourly rows + the raw last hour
    hourly = store.buckets("t", ["cpu_usage"], T0 + 35 * DAY_MS, T0 + 36 * DAY_MS, HOUR_MS)
    assert hourly == [(T0 + 35 * DAY_MS, 5.0), (T0 + 35 * DAY_MS + HOUR_MS, 5.0)]
    # Running it again changes nothing: folded rows are not folded twice.
    assert store.maintain(now, retention_ms=30 * DAY_MS, raw_ms=2 * DAY_MS)["folded"] == 0
    assert store.count() == 62


def test_concurrent_writers_lose_nothing(store: MetricsStore) -> None:
    def writer(n: int) -> None:
        for batch in range(10):
            base = T0 + (n * 10 + batch) * 100 * 60_000
            store.write(f"tenant-{n}", [cpu(base + i * 60_000, 1.0) for i in range(100)])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 6 * 10 * 100


def test_the_demo_generator_is_deterministic() -> None:
    assert demo_sample("demo-shop", T0 + 123_456) == demo_sample("demo-shop", T0 + 123_456)
    assert demo_sample("demo-shop", T0) != demo_sample("other-shop", T0)


def test_demo_values_always_pass_the_ingest_checks() -> None:
    week = demo_samples("demo-shop", T0, T0 + 7 * DAY_MS)
    body = [
        {"timestamp": s.ts_ms / 1000, "metrics": dict(zip(METRIC_NAMES, s.values, strict=True))}
        for s in week
    ]
    assert len(parse_samples(body[:10_000], T0 + 8 * DAY_MS)) == min(10_000, len(week))


def test_demo_load_follows_a_daily_cycle() -> None:
    day_start = T0 // DAY_MS * DAY_MS + DAY_MS
    day = demo_samples("demo-shop", day_start, day_start + DAY_MS - 1)
    index = METRIC_NAMES.index("request_count")
    night = sum(s.values[index] or 0 for s in day[120:240])  # 02:00-04:00 UTC
    afternoon = sum(s.values[index] or 0 for s in day[840:960])  # 14:00-16:00 UTC
    assert afternoon > 2 * night


def test_a_demo_spike_fires_a_critical_alert() -> None:
    start = T0
    week = demo_samples("demo-shop", start, start + 7 * DAY_MS)
    assert any(in_spike("demo-shop", s.ts_ms) for s in week)
    engine = AlertEngine(load_alert_rules(PRESETS))
    evaluation = engine.evaluate("demo-shop", week, 200)
    critical = [a for a in evaluation.alerts if a.severity == "critical"]
    assert critical
    assert all(in_spike("demo-shop", a.timestamp_ms) for a in critical)

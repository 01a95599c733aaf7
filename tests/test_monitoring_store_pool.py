"""The metrics store's connections stay bounded and it heals by itself: a burst of readers uses a
fixed pool that closes when idle, and a store whose disk refused writes works again once the disk
accepts them (a real SQLite file; the disk is made to refuse with `chattr +i`)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from required_tools import missing, require_tool

from compiler.alerting import METRIC_NAMES
from compiler.errors import MonitoringUnavailable
from compiler.monitoring.samples import Sample
from compiler.monitoring.store import READERS, MetricsStore

BURST = 60


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sample(ts_ms: int) -> Sample:
    values: list[float | None] = [None] * len(METRIC_NAMES)
    values[METRIC_NAMES.index("cpu_usage")] = 50.0
    return Sample(ts_ms, tuple(values))


def open_fds(folder: Path) -> int:
    """This process's descriptors open on files in `folder`."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder))
        except OSError:
            continue  # the listing's own descriptor, closed by now
    return count


def test_a_burst_of_readers_shares_a_fixed_pool_that_closes_when_idle(tmp_path: Path) -> None:
    clock = Clock()
    store = MetricsStore(tmp_path / "m.sqlite3", idle_s=60, clock=clock)
    store.write("acme", [sample(1_700_000_000_000)])
    before = open_fds(tmp_path)
    after: list[int] = []
    for _ in range(3):
        with ThreadPoolExecutor(BURST) as pool:
            counts = list(pool.map(lambda _: store.count(), range(BURST * 4)))
        assert counts == [1] * (BURST * 4)
        assert store.open_connections <= 1 + READERS
        assert open_fds(tmp_path) - before <= 3 * READERS  # db + WAL + shm per reader at most
        clock.now += 61
        store.close_idle()
        assert store.open_connections == 1  # the writer only
        # SQLite keeps some of a closed connection's descriptors while another connection holds
        # locks on the file (POSIX locks would be lost otherwise): a few, never one per thread.
        after.append(open_fds(tmp_path))
    assert max(after) <= before + 3 * READERS < BURST
    store.close()


def _chattr(flag: str, path: Path) -> None:
    subprocess.run(["chattr", flag, str(path)], check=True, capture_output=True)


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths to make immutable (refusing writes even to root); always made mutable again."""
    chattr = require_tool("chattr")
    probe = tmp_path / "probe"
    probe.touch()
    if subprocess.run([chattr, "+i", str(probe)], capture_output=True).returncode != 0:
        missing(f"{tmp_path}'s filesystem or this user cannot set the immutable attribute (root)")
    _chattr("-i", probe)
    held: list[Path] = []
    yield held
    for path in held:  # a WAL file is gone once its last connection closes
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


def test_a_store_whose_disk_refused_writes_works_again_without_a_restart(
    tmp_path: Path, immutable: list[Path]
) -> None:
    store = MetricsStore(tmp_path / "m.sqlite3")
    store.write("acme", [sample(1_700_000_000_000)])
    wal = tmp_path / "m.sqlite3-wal"
    assert wal.exists()
    _chattr("+i", wal)
    immutable.append(wal)
    with pytest.raises(MonitoringUnavailable):
        store.write("acme", [sample(1_700_000_060_000)])
    with pytest.raises(MonitoringUnavailable):
        store.check()
    _chattr("-i", wal)
    store.write("acme", [sample(1_700_000_120_000)])
    store.check()
    assert store.count() == 2
    store.close()


def test_a_store_that_could_not_open_opens_on_a_later_call(
    tmp_path: Path, immutable: list[Path]
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    _chattr("+i", folder)
    immutable.append(folder)
    with pytest.raises(MonitoringUnavailable) as refused:
        MetricsStore(folder / "m.sqlite3")
    assert str(tmp_path) not in str(refused.value.details)
    _chattr("-i", folder)
    store = MetricsStore(folder / "m.sqlite3")
    store.check()
    store.close()

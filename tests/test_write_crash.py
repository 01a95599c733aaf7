"""SIGKILL a real server in the middle of writes, at each named step and at random moments.

After every restart: the journal is empty, every acknowledged write is present, a tenant holds
either its last acknowledged value or the one write that was in flight when the server died,
the workspace (which tracks output/) is clean at HEAD and `ecp compile --check` passes there, the
deploy repo holds exactly the compiled output, and both repos pass `git fsck`.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml
from api_server import AUTH, LiveServer, ecp, free_port, git, make_workspace

from compiler.journal.wal import CRASH_AT_ENV, PHASES

HEADERS = {"X-Demo-Mode": "false", **AUTH}
TENANTS = ("crash-0", "crash-1", "crash-2")
RANDOM_KILLS = 20
SEED = 1010


@dataclass(frozen=True)
class KillableServer(LiveServer):
    pid: int = 0


@contextmanager
def server_process(root: Path, env: dict[str, str] | None = None) -> Iterator[KillableServer]:
    """`ecp serve` as its own process, so the test can SIGKILL it (and it may die by itself)."""
    port = free_port()
    log = (root.parent / f"server-{port}.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [
            *(sys.executable, "-c", "from compiler.cli import main; main()", "--root", str(root)),
            *("serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    server = KillableServer(root, port, process.pid)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"server exited with {process.returncode}"
            assert time.monotonic() < deadline, "server did not start"
            try:
                if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace that tracks output/, with the crash tenants created through the API."""
    root = make_workspace(tmp_path_factory.mktemp("crash") / "ws", tenants=("shop-chat-lite",))
    (root / ".gitignore").write_text(".ecp/\n", encoding="utf-8")
    git(root, "add", "--all")
    git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "track output")
    with server_process(root) as live, httpx.Client(headers=HEADERS, timeout=60) as client:
        for tenant_id in TENANTS:
            body = {"tenant_id": tenant_id, "name": "v0", "service_requirements": {"chatbot": 2}}
            assert client.post(f"{live.api}/tenants/", json=body).status_code == 201
    return root


def _name_at_head(root: Path, tenant_id: str) -> str | None:
    shown = subprocess.run(
        ["git", "show", f"HEAD:tenants/{tenant_id}.yaml"], cwd=root, capture_output=True, text=True
    )
    return yaml.safe_load(shown.stdout)["name"] if shown.returncode == 0 else None


def check_consistent(root: Path) -> None:
    """HEAD, output/ and the deploy repo agree; no journal left; both repos fsck clean."""
    assert list((root / ".ecp" / "journal").glob("*")) == []
    assert git(root, "status", "--porcelain", "--", "tenants", "output") == ""
    ecp(root, "compile", "--check")  # raises when output/ is stale against the specs
    deploy = root / ".ecp" / "deploy-repo"
    assert git(deploy, "status", "--porcelain") == ""
    deployed = sorted(p.name for p in (deploy / "tenants").iterdir() if p.is_dir())
    compiled = sorted(p.name for p in (root / "output").iterdir() if p.is_dir())
    assert deployed == compiled
    for tenant_id in compiled:
        ours = (root / "output" / tenant_id / "manifest.yaml").read_bytes()
        assert (deploy / "tenants" / tenant_id / "manifest.yaml").read_bytes() == ours
    for repo in (root, deploy):
        fsck = subprocess.run(["git", "fsck", "--strict"], cwd=repo, capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stderr


@pytest.mark.slow
@pytest.mark.parametrize("phase", [p for p in PHASES if p != "intent"], ids=str)
def test_a_write_killed_at_each_named_step_is_rolled_back_before_its_commit_and_completed_after(
    root: Path, phase: str
) -> None:
    tenant_id = TENANTS[0]
    before = _name_at_head(root, tenant_id)
    wanted = f"at-{phase}"
    with server_process(root, {CRASH_AT_ENV: phase}) as live, pytest.raises(httpx.TransportError):
        httpx.put(
            f"{live.api}/tenants/{tenant_id}",
            json={"name": wanted, "service_requirements": {"chatbot": 3 + len(phase)}},
            headers=HEADERS,
            timeout=60,
        )
    with server_process(root) as live:
        check_consistent(root)
        got = httpx.get(f"{live.api}/tenants/{tenant_id}", headers=HEADERS).json()
    committed = PHASES.index(phase) >= PHASES.index("committed")
    assert _name_at_head(root, tenant_id) == (wanted if committed else before)
    assert got["name"] == (wanted if committed else before)


@dataclass
class Ledger:
    """Per tenant: the last acknowledged name and the one sent but not answered."""

    acked: dict[str, str | None] = field(default_factory=dict)
    in_flight: dict[str, str] = field(default_factory=dict)
    count: int = 0
    serial: Iterator[int] = field(default_factory=itertools.count)


def _writer(api: str, tenant_id: str, ledger: Ledger, stop: threading.Event) -> None:
    with httpx.Client(headers=HEADERS, timeout=30) as client:
        while not stop.is_set():
            number = next(ledger.serial)
            name = f"{tenant_id}-v{number}"
            ledger.in_flight[tenant_id] = name
            try:
                answer = client.put(
                    f"{api}/tenants/{tenant_id}",
                    json={"name": name, "service_requirements": {"chatbot": 2 + number % 5}},
                )
            except httpx.TransportError:
                return  # the server died with this write in flight
            assert answer.status_code == 200, answer.text
            ledger.acked[tenant_id] = name
            del ledger.in_flight[tenant_id]
            ledger.count += 1


@pytest.mark.slow
def test_twenty_random_kills_lose_no_acknowledged_write_and_publish_nothing_unacknowledged(
    root: Path,
) -> None:
    rng = random.Random(SEED)
    ledger = Ledger(acked={t: _name_at_head(root, t) for t in TENANTS})
    for kill in range(RANDOM_KILLS + 1):
        with server_process(root) as live:
            # Restarted (recovery done): each tenant holds its last acknowledged name or the one
            # in flight at the kill, in the workspace and (check_consistent) the deploy repo.
            check_consistent(root)
            for tenant_id in TENANTS:
                allowed = {ledger.acked.get(tenant_id), ledger.in_flight.pop(tenant_id, None)}
                now = _name_at_head(root, tenant_id)
                assert now in allowed, f"kill {kill}, {tenant_id}: {now!r} not in {allowed}"
                ledger.acked[tenant_id] = now
            if kill == RANDOM_KILLS:
                break
            stop = threading.Event()
            writers = [
                threading.Thread(target=_writer, args=(live.api, t, ledger, stop)) for t in TENANTS
            ]
            acked_before = ledger.count
            for thread in writers:
                thread.start()
            # Kill at a random point after the round's first acknowledged write, so each round
            # tests recovery with acknowledged writes behind it, however slow the machine is.
            deadline = time.monotonic() + 120
            while ledger.count == acked_before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 1.0))
            os.kill(live.pid, signal.SIGKILL)
            stop.set()
            for thread in writers:
                thread.join(timeout=60)
    assert ledger.count >= RANDOM_KILLS  # writes did get acknowledged between the kills

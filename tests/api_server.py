"""A real API server for the tests: a temp workspace (git repo) and `ecp serve` in a subprocess.

`make_workspace` copies the repo's presets/ and a few shipped tenants into a fresh folder, commits
them and compiles; `running_server` starts uvicorn through the real CLI on a free loopback port and
stops it afterwards. Test modules import the fixtures they need from here.

Every server these helpers start knows ADMIN_TOKEN (one random admin token per test run), and
AUTH is its header: the suite's clients send it by default (the SDK through ECP_TOKEN, set in
conftest.py), so only the access-control tests deal in other tokens.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from compiler.access.tokens import TokenStore

REPO = Path(__file__).resolve().parent.parent
SHIPPED_TENANTS = ("my-ai-service", "shop-chat-lite")
# Generous: with -n 2 on a shared 2-core machine (load 18 seen) `ecp serve` took over 30 s to
# import and answer /health; a server that exits is reported at once, not after the wait.
STARTUP_TIMEOUT_S = 120.0
ADMIN_TOKEN = "ecp_" + "".join(
    secrets.choice(string.ascii_letters + string.digits) for _ in range(48)
)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def install_admin_token(root: Path) -> None:
    """Let ADMIN_TOKEN in to the server of workspace `root` (idempotent)."""
    store = TokenStore(root / ".ecp" / "tokens.json")
    if store.lookup(ADMIN_TOKEN) is None:
        store.create("test-admin", "admin", secret=ADMIN_TOKEN)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout


def make_workspace(
    root: Path, tenants: tuple[str, ...] = SHIPPED_TENANTS, *, track_output: bool = False
) -> Path:
    """presets/ and `tenants` from this repo in a new git repo at `root`, compiled. With
    `track_output` the compiled output/ is committed too (as this repository does), so each API
    write commits its output and the tenant history has numbers."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "presets", root / "presets")
    (root / "tenants").mkdir()
    for tenant_id in tenants:
        shutil.copy(REPO / "tenants" / f"{tenant_id}.yaml", root / "tenants")
    ignored = ".ecp/\n" if track_output else "output/\n.ecp/\n"
    (root / ".gitignore").write_text(ignored, encoding="utf-8")
    git(root, "init", "--quiet", "--initial-branch=main")
    if track_output:
        ecp(root, "compile", "--all")
    git(root, "add", "--all")
    git(root, "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", "seed")
    if not track_output:
        ecp(root, "compile", "--all")
    install_admin_token(root)
    return root


def ecp(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from compiler.cli import main; main()", "--root", str(root), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"


@contextmanager
def running_server(root: Path) -> Iterator[LiveServer]:
    """`ecp --root ROOT serve` on a free port, until the block ends."""
    install_admin_token(root)
    port = free_port()
    log = (root.parent / f"server-{port}.log").open("w", encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from compiler.cli import main; main()",
            "--root",
            str(root),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    server = LiveServer(root, port)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def _wait_until_up(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see its log")
        try:
            if httpx.get(f"{server.url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer /health within {STARTUP_TIMEOUT_S:.0f} s")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per test module, on its own workspace."""
    root = make_workspace(tmp_path_factory.mktemp("api") / "workspace")
    with running_server(root) as server:
        yield server

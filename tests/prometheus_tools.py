"""The real Prometheus and promtool (Debian's `prometheus` package, 2.42) for tests.

`tool(name)` finds the binary; without it a test is skipped on a developer's machine and FAILS
under CI=true (CI installs the package in .ci/run, so a missing binary there is a broken setup,
not a reason to pass: tests/required_tools.py). `PrometheusServer` runs one on a free loopback
port with a temp TSDB and the remote-write receiver, and stops it (only that process) when done.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import httpx
from required_tools import require_tool


def tool(name: str) -> str:
    return require_tool(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrometheusServer:
    """`prometheus` on 127.0.0.1:<free port>; config is the YAML text of prometheus.yml."""

    def __init__(self, workdir: Path, config: str, *, rule_files: dict[str, str] | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        for name, text in (rule_files or {}).items():
            (workdir / name).write_text(text, encoding="utf-8")
        (workdir / "prometheus.yml").write_text(config, encoding="utf-8")
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    def __enter__(self) -> PrometheusServer:
        log = self._log = (self.workdir / "prometheus.log").open("wb")
        self._process = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={self.workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-remote-write-receiver",
                "--web.enable-lifecycle",
                # Old samples (a day of history written at once) land in the head block.
                "--storage.tsdb.retention.time=30d",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"prometheus did not become ready: {self.log()[-2000:]}")

    def log(self) -> str:
        return (self.workdir / "prometheus.log").read_text(encoding="utf-8", errors="replace")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()

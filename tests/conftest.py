"""Shared fixtures: a real temp workspace (the repo's presets/ and tenants/) and the real `ecp` CLI.

Tests that need the CLI run the installed console script as a subprocess, so exit codes, stderr
and the absence of tracebacks are checked exactly as a user or CI job would see them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_server import ADMIN_TOKEN
from golden_update import PROPERTY, review_message, updating

from compiler.settings import Settings

REPO = Path(__file__).resolve().parent.parent
ECP = Path(sys.executable).parent / "ecp"


@dataclass(frozen=True)
class EcpRun:
    """One finished `ecp` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error: ")]


EcpRunner = Callable[..., EcpRun]


def _clean_env() -> dict[str, str]:
    # ECP_* variables from the developer's shell would change Settings; the tests pin defaults.
    return {k: v for k, v in os.environ.items() if not k.startswith("ECP_")}


def run_ecp(root: Path, *args: str, stdin: str | None = None) -> EcpRun:
    done = subprocess.run(
        [str(ECP), "--root", str(root), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=root,
        timeout=120,
        check=False,
    )
    return EcpRun(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session", autouse=True)
def sdk_token() -> Iterator[str]:
    """The SDK's clients send the test servers' admin token unless given another (ECP_TOKEN);
    `ecp` subprocesses never see it (run_ecp drops ECP_* variables)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECP_TOKEN", ADMIN_TOKEN)
        yield ADMIN_TOKEN


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace holding copies of the repo's presets/ and tenants/ (no output/ yet)."""
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copytree(REPO / "presets", root / "presets")
    shutil.copytree(REPO / "tenants", root / "tenants")
    return root


@pytest.fixture
def bare_workspace(tmp_path: Path) -> Path:
    """A workspace with the repo's presets/ and an empty tenants/ folder."""
    root = tmp_path / "bare"
    root.mkdir()
    shutil.copytree(REPO / "presets", root / "presets")
    (root / "tenants").mkdir()
    return root


@pytest.fixture
def settings(workspace: Path) -> Settings:
    return Settings(root=workspace)


@pytest.fixture
def ecp(workspace: Path) -> EcpRunner:
    """Run `ecp --root <workspace> ARGS...`; pass root= to aim at another workspace."""

    def run(*args: str, root: Path = workspace, stdin: str | None = None) -> EcpRun:
        return run_ecp(root, *args, stdin=stdin)

    return run


# Expected files the golden tests rewrote under ECP_UPDATE_GOLDEN=1, from every test report (so
# from every xdist worker too).
_rewritten: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _rewritten.update(str(value) for key, value in report.user_properties if key == PROPERTY)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """An update run never passes: it ends for review (tests/golden_update.py)."""
    if updating() and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if updating() and not hasattr(config, "workerinput"):
        terminalreporter.write_line(review_message(sorted(_rewritten)), red=True, bold=True)
    # pytest-randomly shuffles every run; its header line is hidden by -q, so the seed is
    # repeated here, where a failed run's reader looks.
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(
            f"random order: replay it with -p randomly --randomly-seed={seed}"
        )


def shipped_tenants() -> list[str]:
    return sorted(p.stem for p in (REPO / "tenants").glob("*.yaml"))

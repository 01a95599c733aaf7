"""Spec history in the workspace's own git repo: commit one spec change, read spec dates.

Input: Settings and a tenant spec path. Output: a commit (only that file, its message naming the
tenant and request id) or ISO-8601 dates from `git log`. The deploy repo is publishing's business,
not this module's. git runs with argument lists only; nothing here builds a shell string.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from compiler.errors import OrchestratorError
from compiler.settings import Settings

_GIT_TIMEOUT = 60


@dataclass(frozen=True)
class SpecDates:
    created_at: str
    updated_at: str


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT,
        env=env,
        check=False,
    )
    if check and result.returncode != 0:
        # An operator-side failure (a 500): the spec write it belonged to is rolled back.
        raise OrchestratorError(
            f"git {args[0]} failed in the workspace repo: {result.stderr.strip()[:500]}",
            details={"git_command": args[0]},
        )
    return result


def is_git_workspace(settings: Settings) -> bool:
    """True when the tenants folder sits inside a git work tree (and is not the demo sandbox)."""
    if settings.demo:
        return False
    folder = settings.tenants_dir
    if not folder.is_dir():
        return False
    result = _git(folder, "rev-parse", "--is-inside-work-tree", check=False)
    return result.returncode == 0 and result.stdout.strip() == "true"


def commit_spec(settings: Settings, path: Path, message: str) -> str | None:
    """Commit exactly `path` (added, changed or removed); the new commit, or None if unchanged."""
    cwd = path.parent
    _git(cwd, "add", "--all", "--", path.name)
    staged = _git(cwd, "diff", "--cached", "--quiet", "--", path.name, check=False)
    if staged.returncode == 0:
        return None
    _git(
        cwd,
        "-c",
        f"user.name={settings.git_author_name}",
        "-c",
        f"user.email={settings.git_author_email}",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        message,
        "--",
        path.name,
    )
    return _git(cwd, "rev-parse", "HEAD").stdout.strip()


def _iso(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def git_spec_dates(settings: Settings) -> dict[str, SpecDates]:
    """First and last commit date of every tenants/<id>.yaml, from one `git log` pass."""
    folder = settings.tenants_dir
    result = _git(
        folder,
        "log",
        "--format=%x00%cI",
        "--name-only",
        "--relative",
        "--no-renames",
        "--",
        ".",
        check=False,
    )
    if result.returncode != 0:
        return {}
    newest: dict[str, str] = {}
    oldest: dict[str, str] = {}
    date = ""
    for line in result.stdout.splitlines():
        if line.startswith("\x00"):
            date = _iso(line[1:])
        elif line.endswith(".yaml") and "/" not in line:
            tenant_id = line[: -len(".yaml")]
            newest.setdefault(tenant_id, date)
            oldest[tenant_id] = date
    return {t: SpecDates(created_at=oldest[t], updated_at=newest[t]) for t in newest}


def file_dates(path: Path) -> SpecDates | None:
    """Dates for a workspace that is not a git repo: the file's modification time, for both."""
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    stamp = datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return SpecDates(created_at=stamp, updated_at=stamp)

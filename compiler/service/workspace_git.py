"""Spec history in the workspace's own git repo: commit one spec change, read spec dates.

Input: Settings and a tenant spec path. Output: a commit (only that file, its message naming the
tenant and request id), ISO-8601 dates from `git log`, and a key that moves with every commit.
The deploy repo is publishing's business. git runs with argument lists only, never a shell string.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from compiler.errors import OrchestratorError
from compiler.publishing import CommitAuthor
from compiler.settings import Settings

_GIT_TIMEOUT = 60


@dataclass(frozen=True)
class SpecDates:
    created_at: str
    updated_at: str


def _git(
    cwd: Path,
    *args: str,
    check: bool = True,
    date: str | None = None,
    author: CommitAuthor | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    if date is not None:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    if author is not None:  # who asked; the committer stays the orchestrator (user.name)
        env |= {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}
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


def _committable(cwd: Path, rel: str) -> bool:
    """A path git can stage here: present or tracked (a removal), and not ignored."""
    if not (cwd / rel).exists() and not _git(cwd, "ls-files", "--", rel).stdout.strip():
        return False
    return _git(cwd, "check-ignore", "-q", "--", rel, check=False).returncode != 0


def commit_paths(
    settings: Settings,
    paths: list[Path],
    message: str,
    date: str,
    author: CommitAuthor | None = None,
) -> str | None:
    """Commit exactly `paths` (added, changed or removed; ignored ones skipped) dated `date`
    (ISO-8601): the spec and, where the workspace tracks it, its compiled output, so the
    workspace's own `ecp compile --check` passes on the commit. The new commit, or None."""
    cwd = settings.root
    rel = [os.path.relpath(path, cwd) for path in paths]
    keep = [r for r in rel if _committable(cwd, r)]
    if not keep:
        return None
    _git(cwd, "add", "--all", "--", *keep)
    staged = _git(cwd, "diff", "--cached", "--quiet", "--", *keep, check=False)
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
        *keep,
        date=date,
        author=author,
    )
    return _git(cwd, "rev-parse", "HEAD").stdout.strip()


def unstage(settings: Settings, paths: list[Path]) -> None:
    """Undo `git add` of `paths` after a failed commit (best effort: the files are restored)."""
    rel = [os.path.relpath(path, settings.root) for path in paths]
    _git(settings.root, "reset", "--quiet", "--", *rel, check=False)


def _iso(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def git_spec_dates(settings: Settings) -> dict[str, SpecDates]:
    """Dates of every tenants/<id>.yaml from one `git log` pass: updated_at is its last commit,
    created_at the commit that added it last (a tenant deleted and created again is new)."""
    folder = settings.tenants_dir
    result = _git(
        folder,
        "log",
        "--format=%x00%cI",
        "--name-status",
        "--relative",
        "--no-renames",
        "--",
        ".",
        check=False,
    )
    if result.returncode != 0:
        return {}
    newest: dict[str, str] = {}
    created: dict[str, str] = {}
    added: set[str] = set()  # tenants whose latest creation has been seen (log is newest first)
    date = ""
    for line in result.stdout.splitlines():
        if line.startswith("\x00"):
            date = _iso(line[1:])
            continue
        status, _, name = line.partition("\t")
        if not name.endswith(".yaml") or "/" in name:
            continue
        tenant_id = name[: -len(".yaml")]
        newest.setdefault(tenant_id, date)
        if tenant_id not in added:
            created[tenant_id] = date
            if status.startswith("A"):
                added.add(tenant_id)
    return {t: SpecDates(created_at=created[t], updated_at=newest[t]) for t in newest}


def git_dir(settings: Settings) -> Path | None:
    """The workspace repo's git directory; None when the tenants folder is not in a git work
    tree, or is the demo sandbox (whose history is its own deploy repo's)."""
    folder = settings.tenants_dir
    if settings.demo or not folder.is_dir():
        return None
    result = _git(folder, "rev-parse", "--is-inside-work-tree", "--absolute-git-dir", check=False)
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) != 2 or lines[0] != "true":
        return None
    return Path(lines[1])


def head_key(repo_git_dir: Path) -> tuple[tuple[int, int], ...]:
    """Stats of HEAD, its branch ref and packed-refs: they change with every commit, so a key
    built from them tells cached dates that someone (the API or a person) committed."""
    paths = [repo_git_dir / "HEAD", repo_git_dir / "packed-refs"]
    try:
        head = paths[0].read_text(encoding="utf-8").strip()
    except OSError:
        head = ""
    if head.startswith("ref: "):
        paths.append(repo_git_dir / head.removeprefix("ref: "))
    keys = []
    for path in paths:
        try:
            stat = path.stat()
            keys.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            keys.append((0, 0))
    return tuple(keys)

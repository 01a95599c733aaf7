"""Where a publish goes: the deploy repo's local path, its remote and branch, from Settings.

Input: Settings and the CLI/API overrides (--repo, --branch). Output: a RepoTarget, with branch
names and remote URLs checked before git sees them (no option-like or `ext::` values). Also keeps a
deploy repo created inside the workspace out of the workspace's own git. Touches no deploy repo.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from compiler.errors import UsageError
from compiler.settings import SCP_LIKE_URL, Settings, is_remote_url

_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")
# Transports git may use for a deploy remote; anything else (ext::, fd::, "-option") is refused.
_URL = re.compile(r"(https?|ssh|git|file)://[^\s]+")
_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")
CLONES_PATH = ".ecp/deploy-clones"


@dataclass(frozen=True)
class RepoTarget:
    """Where to publish. `create` is true for the configured path and for clones of a URL;
    `workspace` is the root whose git must not pick up a repo created inside it."""

    path: Path
    branch: str
    remote_url: str | None
    create: bool
    workspace: Path | None = None


def redact(text: str) -> str:
    """Drop credentials (user:token@) from any URL inside `text` before it reaches a person."""
    return _CREDENTIALS.sub(r"\1***@", text)


def check_remote_url(url: str, setting: str) -> str:
    """`url` when git may push to it; a UsageError (credentials redacted) otherwise."""
    if _URL.fullmatch(url) or SCP_LIKE_URL.fullmatch(url) or Path(url).is_absolute():
        return url
    raise UsageError(
        f"{setting} {redact(url)!r} is not a git remote this tool uses; give an https://, "
        "ssh://, git:// or file:// URL, user@host:path, or an absolute path",
        details={"setting": setting},
    )


def resolve_target(settings: Settings, repo: str | None, branch: str | None) -> RepoTarget:
    """The configured repo (created when absent), an explicit existing one, or a clone of a URL."""
    branch = branch or settings.deploy_branch
    if not _BRANCH.fullmatch(branch) or ".." in branch:
        raise UsageError(f"branch {branch!r} is not a usable git branch name")
    location = repo if repo is not None else settings.deploy_repo
    setting = "--repo" if repo is not None else "deploy_repo"
    if is_remote_url(location):
        check_remote_url(location, setting)
        digest = hashlib.sha256(location.encode()).hexdigest()[:16]
        clone = settings.resolve(CLONES_PATH) / digest
        return RepoTarget(clone, branch, location, create=True, workspace=settings.root)
    remote = settings.deploy_remote or None
    if remote is not None:
        check_remote_url(remote, "deploy_remote")
    path = settings.resolve(location)
    if repo is not None:
        return RepoTarget(path, branch, remote, create=False)
    return RepoTarget(path, branch, remote, create=True, workspace=settings.root)


def keep_out_of_workspace_git(target: RepoTarget) -> None:
    """Make the workspace's git ignore a deploy repo we are creating inside the workspace.

    Without this, `git add -A` in the workspace records the deploy repo as an embedded repository.
    A tool-owned folder (the default `.ecp/`) ignores itself wholesale, as a virtualenv does; a repo
    placed directly in the workspace root gets its own lines in the root's .gitignore.
    """
    if target.workspace is None:
        return
    root, path = target.workspace.resolve(), target.path.resolve()
    if not path.is_relative_to(root) or path == root:
        return
    top = root / path.relative_to(root).parts[0]
    if top != path:
        ignore = top / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Written by `ecp publish`: local state, never committed.\n*\n")
        return
    ignore = root / ".gitignore"
    wanted = [f"/{path.name}/", f"/.{path.name}.ecp-init.lock"]
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing = [line for line in wanted if line not in lines]
    if missing:
        text = "".join(f"{line}\n" for line in [*lines, *missing])
        ignore.write_text(text, encoding="utf-8")

"""Reading deployment records back from the deploy repo's history (git trailers on publish commits).

Input: Settings (which deploy repo and branch), optionally a tenant ID or a deployment ID.
Output: DeploymentRecord models, newest first. Read-only and lock-free: git's refs change
atomically, so a concurrent publish is seen whole or not at all. The configured repo before its
first publish has no records; an explicit path that is not a repo is an error.
"""

from __future__ import annotations

import git

from compiler.errors import DeployRepoError
from compiler.publishing.deploy_repo import run_git
from compiler.publishing.records import (
    TENANT_TRAILER,
    DeploymentRecord,
    commit_prefix_of,
    parse_record,
)
from compiler.publishing.target import resolve_target
from compiler.settings import Settings
from compiler.spec.ids import check_tenant_id

_FIELD = "\x1f"
_RECORD = "\x1e"
_FORMAT = f"--format=%H{_FIELD}%ct{_FIELD}%B{_RECORD}"


def list_deployments(
    settings: Settings,
    tenant_id: str | None = None,
    *,
    limit: int = 50,
    repo: str | None = None,
    branch: str | None = None,
) -> list[DeploymentRecord]:
    """Publish commits that changed tenants (only `tenant_id`'s when given), newest first."""
    if tenant_id is not None:
        check_tenant_id(tenant_id)
    opened = _open(settings, repo, branch)
    if opened is None:
        return []
    git_repo, ref = opened
    # With a tenant, the trailing space keeps "acme" from matching "acme-eu"'s trailers.
    grep = f"^{TENANT_TRAILER}: " + (f"{tenant_id} " if tenant_id is not None else "")
    paths = ["--", f"tenants/{tenant_id}"] if tenant_id is not None else []
    args = ["log", f"--max-count={max(1, limit)}", "-E", f"--grep={grep}", _FORMAT, ref, *paths]
    records = _parse_log(run_git(git_repo, *args))
    if tenant_id is not None:
        records = [r for r in records if r.change_for(tenant_id) is not None]
    return records


def find_deployment(
    settings: Settings,
    deployment_id: str,
    *,
    repo: str | None = None,
    branch: str | None = None,
) -> DeploymentRecord | None:
    """The record of one deployment ID ("dep-" + commit SHA prefix), or None when unknown."""
    prefix = commit_prefix_of(deployment_id)
    opened = _open(settings, repo, branch) if prefix is not None else None
    if opened is None or prefix is None:
        return None
    git_repo, _ref = opened
    try:
        sha = run_git(git_repo, "rev-parse", "--verify", "--quiet", f"{prefix}^{{commit}}").strip()
    except DeployRepoError:
        return None  # unknown or ambiguous prefix
    records = _parse_log(run_git(git_repo, "log", "--max-count=1", _FORMAT, sha))
    return records[0] if records else None


def deployment_at(settings: Settings, commit: str) -> DeploymentRecord | None:
    """The record of the publish commit `commit` (a full SHA a publish just returned): one
    `git log`, where find_deployment resolves a prefix first (the writer's every batch)."""
    if len(commit) != 40 or any(c not in "0123456789abcdef" for c in commit):
        return None
    target = resolve_target(settings, None, None)
    try:
        git_repo = git.Repo(target.path)
        out = run_git(git_repo, "log", "--max-count=1", _FORMAT, commit)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, DeployRepoError):
        return None
    records = _parse_log(out)
    return records[0] if records else None


def _open(settings: Settings, repo: str | None, branch: str | None) -> tuple[git.Repo, str] | None:
    target = resolve_target(settings, repo, branch)
    if not (target.path / ".git").exists():
        if target.create:
            return None  # the configured repo before its first publish: no records yet
        # An explicit path that is not a repo is a typo, not an empty history.
        raise DeployRepoError(
            f"deploy repo {target.path} does not exist or is not a git repository",
            details={"repo": str(target.path)},
        )
    try:
        git_repo = git.Repo(target.path)
    except git.InvalidGitRepositoryError as exc:
        raise DeployRepoError(f"deploy repo {target.path} has a broken .git: {exc}") from exc
    ref = f"refs/heads/{target.branch}"
    try:
        git_repo.git.execute(["git", "rev-parse", "--verify", "--quiet", ref])
    except git.GitCommandError:
        return None  # nothing published on this branch yet
    return git_repo, ref


def _parse_log(out: str) -> list[DeploymentRecord]:
    records = []
    for chunk in out.split(_RECORD):
        parts = chunk.strip("\n").split(_FIELD, 2)
        if len(parts) != 3:
            continue
        record = parse_record(parts[0], int(parts[1]), parts[2])
        if record is not None:
            records.append(record)
    return records

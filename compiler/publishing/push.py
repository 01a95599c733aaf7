"""Pushing the deploy repo's branch to its remote without ever losing the local commit.

Input: a locked, clean repo whose branch holds the new commit. Output: the remote branch at our
commit (rebased onto the remote when the remote moved). Network failures are retried with backoff;
a real conflict aborts the rebase, leaves the local commit and the remote as they were, and says
which files collide.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from compiler.errors import DeploymentFailed, DeployRepoError, UsageError
from compiler.publishing.deploy_repo import (
    LockedRepo,
    clear_inflight,
    head_sha,
    mark_inflight,
)
from compiler.publishing.target import redact

REMOTE = "origin"
NETWORK_TIMEOUT_S = 120.0
# What git prints on stderr when the remote branch moved under us (as opposed to a network error).
_REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "Updates were rejected")


def ensure_remote(locked: LockedRepo, remote_url: str | None) -> str:
    """Point `origin` at the configured remote; without one configured, use the existing origin."""
    repo = locked.repo
    existing = {remote.name: remote for remote in repo.remotes}
    if remote_url:
        if REMOTE not in existing:
            locked.run("remote", "add", REMOTE, remote_url)
        elif list(existing[REMOTE].urls) != [remote_url]:
            locked.run("remote", "set-url", REMOTE, remote_url)
        return remote_url
    if REMOTE in existing:
        return str(next(iter(existing[REMOTE].urls)))
    raise UsageError(
        "--push needs a remote: set deploy_remote in ecp.toml (or ECP_DEPLOY_REMOTE), "
        f"or add an 'origin' remote to {repo.working_dir}"
    )


def push_branch(
    locked: LockedRepo,
    branch: str,
    *,
    identity: dict[str, str],
    attempts: int = 4,
    base_delay_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Push `branch` to origin; returns the pushed commit SHA (new after a rebase).

    A rejected push (the remote moved) fetches and rebases, then tries again at once; any other
    failure waits base_delay_s * 2**n first. The local commit survives every outcome.
    """
    repo = locked.repo
    last_error = ""
    for attempt in range(attempts):
        try:
            locked.run("push", REMOTE, f"HEAD:refs/heads/{branch}", timeout=NETWORK_TIMEOUT_S)
            sha = head_sha(repo)
            assert sha is not None  # we only push after a commit exists
            return sha
        except DeployRepoError as exc:
            last_error = exc.message
        if any(marker in last_error for marker in _REJECTED):
            rebase_onto_remote(locked, branch, identity=identity)
            continue
        if attempt + 1 < attempts:
            sleep(base_delay_s * 2**attempt)
    url = redact(str(next(iter(repo.remote(REMOTE).urls), "")))
    raise DeploymentFailed(
        f"push to {url} failed after {attempts} attempts; the local commit "
        f"{(head_sha(repo) or '')[:12]} is kept and the next `ecp publish --push` sends it. "
        f"Last error: {last_error}",
        details={"remote": url, "attempts": attempts},
    )


def rebase_onto_remote(locked: LockedRepo, branch: str, *, identity: dict[str, str]) -> None:
    """Fetch the remote branch and replay our commits on it; on conflict, undo and explain."""
    repo = locked.repo
    locked.run("fetch", "--quiet", REMOTE, branch, timeout=NETWORK_TIMEOUT_S)
    upstream = f"refs/remotes/{REMOTE}/{branch}"
    locked.run("update-ref", upstream, "FETCH_HEAD")
    # The marker makes a crash mid-rebase recoverable: the next publish aborts the rebase.
    mark_inflight(repo, "rebase")
    try:
        locked.run("-c", "commit.gpgsign=false", "rebase", "--quiet", upstream, env=identity)
    except DeployRepoError as exc:
        conflicts = locked.run("diff", "--name-only", "--diff-filter=U").split()
        locked.run("rebase", "--abort")
        clear_inflight(repo)
        raise DeployRepoError(
            f"the remote branch {branch!r} has changes that conflict with this publish "
            f"({', '.join(conflicts) or 'see git status'}); was the deploy repo edited by hand? "
            f"Nothing was pushed and the local commit is kept in {repo.working_dir}; resolve it "
            "there (or reset the remote edit) and publish again",
            details={"state": "conflict", "paths": conflicts},
        ) from exc
    clear_inflight(repo)

"""publish(): copy compiled output into the deploy repo and commit what changed, as one record.

Input: Settings (output_dir, deploy repo, branch, consumers, git author) and optional overrides.
Output: a PublishResult naming the deployment ID, commit and tenants added/changed/removed. The
work tree is written only under the publish lock and our in-flight marker, then exactly the changed
paths are staged and committed, so a kill at any moment leaves the last good commit recoverable.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Collection, Sequence
from pathlib import Path

import git
from pydantic import BaseModel, ConfigDict

from compiler.errors import UsageError
from compiler.publishing.compiled import read_compiled_entries, read_compiled_output
from compiler.publishing.consumers import ConsumerConfig
from compiler.publishing.deploy_repo import (
    OWNED_PATHS,
    LockedRepo,
    check_clean,
    clear_inflight,
    head_sha,
    identity_env,
    locked_repo,
    mark_inflight,
    stage_and_commit,
)
from compiler.publishing.plan import PublishPlan, plan_publish
from compiler.publishing.push import ensure_remote, push_branch
from compiler.publishing.records import (
    CommitAuthor,
    TenantChange,
    commit_message,
    deployment_id_for,
)
from compiler.publishing.state import StateMemo, load_state, save_state
from compiler.publishing.target import RepoTarget, redact, resolve_target
from compiler.settings import Settings

# Past this many paths one pathspec per top-level folder is shorter and stages the same set.
MAX_LISTED_PATHS = 200


class PublishResult(BaseModel):
    """What one publish did. `deployment_id` is None when no tenant changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    deployment_id: str | None
    commit: str | None
    previous_commit: str | None
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changes: tuple[TenantChange, ...] = ()
    pushed: bool = False
    repo: str
    branch: str
    recovered_from_crash: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def committed(self) -> bool:
        return self.commit != self.previous_commit


NO_CONSUMER_URL = (
    "GitOps consumer files (argocd/, flux/) not written: no https:// or ssh:// repo URL for "
    "Argo CD and Flux to sync from; set repo_url_for_consumers, or a deploy_remote of that form, "
    "in ecp.toml (or ECP_REPO_URL_FOR_CONSUMERS)"
)
# What both Argo CD and Flux's GitRepository (its schema: ^(http|https|ssh)://) can clone.
_CLONEABLE = re.compile(r"^(https?|ssh)://[^\s]+$")


def consumer_repo_url(settings: Settings, remote_url: str | None) -> str | None:
    """The URL the consumer files name: repo_url_for_consumers, else the remote publish pushes
    to (deploy_remote, or deploy_repo when it is a URL) when a cluster can clone it; None when
    neither is known, so that no placeholder is ever written for a cluster to sync."""
    explicit = settings.repo_url_for_consumers
    if explicit:
        if not _CLONEABLE.fullmatch(explicit):
            raise UsageError(
                f"repo_url_for_consumers {redact(explicit)!r} is not an https:// or ssh:// URL "
                "that Argo CD and Flux can clone",
                details={"setting": "repo_url_for_consumers"},
            )
        return explicit
    if remote_url is not None and _CLONEABLE.fullmatch(remote_url):
        return remote_url
    return None


def publish(
    settings: Settings,
    *,
    repo: str | None = None,
    branch: str | None = None,
    push: bool = False,
    request_id: str | None = None,
    author: CommitAuthor | None = None,
    trailers: Sequence[tuple[str, str]] = (),
    only: Collection[str] | None = None,
    memo: StateMemo | None = None,
) -> PublishResult:
    """Publish settings.output_dir into the deploy repo; commit only when something changed.

    `repo` overrides the configured deploy repo (a path, relative to settings.root, or a URL) and
    must already exist; `branch` overrides settings.deploy_branch. With `push`, the branch is
    pushed to the remote (settings.deploy_remote or the repo's origin). `author` (who asked)
    authors the commit and names it in an `Ecp-Principal:` trailer; `trailers` are added to the
    message (a batch of API writes: one principal and request id each). Raises DeployRepoError for
    a dirty, detached, mid-rebase or conflicting repo and DeploymentFailed for a failed push.

    `only` names the tenants that may have changed since the last publish (the API's batch):
    the others' index lines, files and git status are not read, and only edits in the paths
    this publish writes (or staged ones) stop it. A publish that must regenerate every consumer
    file ignores `only`. `memo` keeps the published state in memory between publishes.
    """
    target = resolve_target(settings, repo, branch)
    config, warnings = _consumer_config(settings, target)
    identity = identity_env(settings.git_author_name, settings.git_author_email)
    with locked_repo(target, whole_tree=only is None) as locked:
        git_repo = locked.repo
        previous = head_sha(git_repo)
        state = (
            memo.load(git_repo, previous) if memo is not None else load_state(git_repo, previous)
        )
        if only is not None and state.consumers_digest != config.digest():
            only = None  # every consumer file is regenerated: plan (and check) the whole tree
            check_clean(locked, None)
        # Read under the lock, so a publish that waited publishes the newest compiled output.
        if only is None:
            compiled = read_compiled_output(settings.output_dir)
        else:
            compiled = read_compiled_entries(settings.output_dir, only)
        plan = plan_publish(
            compiled, settings.output_dir, state, config, _work_tree(git_repo), only
        )
        if only is not None:
            check_clean(locked, sorted({*plan.writes, *plan.deletes}))
        commit = previous
        if plan.touches_files:
            commit = _commit_plan(
                locked,
                plan,
                request_id=request_id,
                identity=_authored(identity, author),
                author=author,
                trailers=trailers,
            )
        save_state(git_repo, plan.new_state.model_copy(update={"head": commit}), memo)
        pushed = False
        if push:
            ensure_remote(locked, target.remote_url)
            commit = push_branch(locked, target.branch, identity=identity)
            pushed = True
    committed_tenants = bool(plan.changes) and commit != previous
    return PublishResult(
        deployment_id=deployment_id_for(commit) if committed_tenants and commit else None,
        commit=commit,
        previous_commit=previous,
        added=plan.ids("added"),
        changed=plan.ids("changed"),
        removed=plan.ids("removed"),
        changes=plan.changes,
        pushed=pushed,
        repo=str(target.path),
        branch=target.branch,
        recovered_from_crash=locked.recovered,
        warnings=warnings,
    )


def _consumer_config(
    settings: Settings, target: RepoTarget
) -> tuple[ConsumerConfig, tuple[str, ...]]:
    repo_url = consumer_repo_url(settings, target.remote_url)
    warnings: tuple[str, ...] = ()
    if repo_url is None and settings.consumers:
        warnings = (NO_CONSUMER_URL,)
    config = ConsumerConfig(
        consumers=tuple(settings.consumers) if repo_url is not None else (),
        repo_url=repo_url or "",
        branch=target.branch,
    )
    return config, warnings


def unpublished(settings: Settings, memo: StateMemo) -> bool:
    """True when a publish of the configured deploy repo would commit something (or that cannot
    be told without trying): output/ holds what the repo lacks. Plans every tenant, writes
    nothing, reads no tenant's deploy-repo files and runs no whole-tree `git status`, and leaves
    the published state in `memo`, so that the next publish need not read it. For a long-lived
    publisher's start: while this says False, naming the changed tenants (`only`) publishes
    everything."""
    target = resolve_target(settings, None, None)
    if not (target.path / ".git").exists():
        return True
    config, _ = _consumer_config(settings, target)
    # Not the whole tree's `git status` (seconds at 10,000 tenants on a cold disk cache, and the
    # first write after start waited for it): what is published is HEAD's, which the state
    # names; an edit left in the work tree stops only a publish that writes its paths.
    with locked_repo(target, whole_tree=False) as locked:
        git_repo = locked.repo
        state = memo.load(git_repo, head_sha(git_repo), keep=True)
        if state.consumers_digest != config.digest():
            return True
        compiled = read_compiled_output(settings.output_dir)
        plan = plan_publish(compiled, settings.output_dir, state, config, _work_tree(git_repo))
        return plan.touches_files or bool(plan.changes)


def _work_tree(repo: git.Repo) -> Path:
    return Path(str(repo.working_dir))


def _authored(identity: dict[str, str], author: CommitAuthor | None) -> dict[str, str]:
    """The principal as git author; the committer stays the orchestrator."""
    if author is None:
        return identity
    return {**identity, "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}


def _commit_plan(
    locked: LockedRepo,
    plan: PublishPlan,
    *,
    request_id: str | None,
    identity: dict[str, str],
    author: CommitAuthor | None = None,
    trailers: Sequence[tuple[str, str]] = (),
) -> str:
    repo = locked.repo
    work = _work_tree(repo)
    mark_inflight(repo, "write")
    for rel in plan.deletes:
        target = work / rel
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    for rel, data in plan.writes.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    paths = sorted({*plan.writes, *plan.deletes})
    if len(paths) > MAX_LISTED_PATHS:
        tracked = {p.split("/", 1)[0] for p in paths}
        paths = [p for p in OWNED_PATHS if p in tracked]
    if plan.changes:
        message = commit_message(
            plan.changes,
            previous=plan.previous_totals,
            request_id=request_id,
            author=author,
            trailers=trailers,
        )
    else:
        message = "ecp publish: regenerate GitOps consumer files\n"
    sha = stage_and_commit(locked, paths, message, identity=identity)
    clear_inflight(repo)
    return sha

"""The deploy repo on disk: find or create it, lock it, recover it, refuse it when it is unsafe.

Input: a RepoTarget (local path, optional remote, branch). Output: an open, locked git.Repo on the
branch with a clean work tree. Only this module decides that a work tree may be reset, and only when
our own in-flight marker proves the dirt is ours; a human's edits are reported, never discarded.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from compiler.errors import DeployRepoError
from compiler.publishing.records import clean_message
from compiler.publishing.target import RepoTarget, keep_out_of_workspace_git, redact

LOCK_FILE = "ecp-publish.lock"
INFLIGHT_FILE = "ecp-publish-inflight.json"
MESSAGE_FILE = "ECP_PUBLISH_MSG"
# The only top-level paths publishing writes; recovery cleans nothing else.
OWNED_PATHS = ("tenants", "argocd", "flux")
_IN_PROGRESS = {
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase",
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
}
# Never let git wait for a password on a terminal nobody is watching.
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}


def run_git(
    repo: git.Repo,
    *args: str,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    keep_fd: int | None = None,
) -> str:
    """Run `git <args>` in the repo (argument list, never a shell); failures become errors.

    `keep_fd` (the publish lock) is inherited by git, so a git that outlives a killed publisher
    keeps the lock until it exits and the next publish cannot start recovery underneath it.
    """
    try:
        out = repo.git.execute(
            ["git", *args],
            env={**GIT_ENV, **(env or {})},
            kill_after_timeout=timeout,
            strip_newline_in_stdout=False,
            pass_fds=() if keep_fd is None else (keep_fd,),
        )
    except git.GitCommandError as exc:
        raise DeployRepoError(
            f"git {args[0]} failed in {repo.working_dir}: {_stderr(exc)}",
            details={"command": ["git", *args[:3]], "repo": str(repo.working_dir)},
        ) from exc
    return str(out)


def _stderr(exc: git.GitCommandError) -> str:
    text = exc.stderr if isinstance(exc.stderr, str) else str(exc.stderr or "")
    text = text.strip().removeprefix("stderr:").strip().strip("'").strip()
    return redact(text or f"exit status {exc.status}")


@dataclass(frozen=True)
class LockedRepo:
    """An open repo whose publish lock we hold; run git through `run` so git inherits the lock."""

    repo: git.Repo
    lock_fd: int
    recovered: bool = False  # a killed publish's half-done work was undone first

    def run(
        self, *args: str, timeout: float | None = None, env: dict[str, str] | None = None
    ) -> str:
        return run_git(self.repo, *args, timeout=timeout, env=env, keep_fd=self.lock_fd)


@contextmanager
def locked_repo(target: RepoTarget, *, whole_tree: bool = True) -> Iterator[LockedRepo]:
    """Open (or create) the repo, hold its publish lock, recover our own crash, check its state.
    `whole_tree` False leaves the check for uncommitted edits to the caller (`check_clean` of
    the paths it is about to write), so that check does not walk every tenant's files.

    flock locks belong to an open file description, so each call opening the lock file itself
    serialises threads of one process as well as separate processes, with no shared state here.
    """
    repo = _open_or_create(target)
    lock_path = Path(repo.git_dir) / LOCK_FILE
    with lock_path.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            locked = LockedRepo(repo=repo, lock_fd=handle.fileno())
            recovered = recover_interrupted(locked)
            check_usable(locked, target.branch, whole_tree=whole_tree)
            yield LockedRepo(repo=repo, lock_fd=handle.fileno(), recovered=recovered)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _open_or_create(target: RepoTarget) -> git.Repo:
    if not target.create:
        return _open_or_init(target)
    # Creating happens before the repo (and so its lock file) exists: serialise it beside the
    # repo, or a second publish would open a .git that the first is still initialising.
    target.path.parent.mkdir(parents=True, exist_ok=True)
    init_lock = target.path.parent / f".{target.path.name}.ecp-init.lock"
    with init_lock.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            return _open_or_init(target)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _open_or_init(target: RepoTarget) -> git.Repo:
    path = target.path
    if (path / ".git").exists():
        try:
            return git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise DeployRepoError(
                f"deploy repo {path} has a broken .git: {exc}", details={"file": str(path)}
            ) from exc
    if path.exists() and any(path.iterdir()):
        raise DeployRepoError(
            f"deploy repo {path} exists but is not a git repository; "
            "refusing to publish into a folder git does not track",
            details={"file": str(path)},
        )
    if not target.create and not path.exists():
        raise DeployRepoError(
            f"deploy repo {path} does not exist; create it with `git init` or publish without "
            "--repo to use the configured one",
            details={"file": str(path)},
        )
    path.mkdir(parents=True, exist_ok=True)
    keep_out_of_workspace_git(target)
    if target.remote_url:
        return _clone(target)
    return git.Repo.init(path, initial_branch=target.branch)


def _clone(target: RepoTarget) -> git.Repo:
    assert target.remote_url is not None  # the caller checked
    try:
        return git.Repo.clone_from(target.remote_url, target.path, env=GIT_ENV)
    except git.GitCommandError as exc:
        raise DeployRepoError(
            f"cannot clone the deploy repo from {redact(target.remote_url)}: {_stderr(exc)}",
            details={"file": str(target.path)},
        ) from exc


def head_sha(repo: git.Repo) -> str | None:
    """The commit HEAD points at, or None on an unborn branch (a brand-new repo)."""
    try:
        return str(repo.head.commit.hexsha)
    except ValueError:
        return None


def mark_inflight(repo: git.Repo, phase: str) -> None:
    """Record that we are about to touch the work tree, so a crash can be told from a human."""
    marker = Path(repo.git_dir) / INFLIGHT_FILE
    marker.write_text(json.dumps({"pid": os.getpid(), "phase": phase, "head": head_sha(repo)}))


def clear_inflight(repo: git.Repo) -> None:
    (Path(repo.git_dir) / INFLIGHT_FILE).unlink(missing_ok=True)
    (Path(repo.git_dir) / MESSAGE_FILE).unlink(missing_ok=True)


def recover_interrupted(locked: LockedRepo) -> bool:
    """Undo the half-done work of a publish that was killed; True when there was some.

    Git writes objects and refs through lock files and renames, so HEAD is always the old commit
    or the new one; only the work tree, the index and stale *.lock files need putting back.
    """
    repo = locked.repo
    git_dir = Path(repo.git_dir)
    if not (git_dir / INFLIGHT_FILE).exists():
        return False
    # We hold the publish lock, so a *.lock left in .git is from our killed git, not a live one.
    for stale in [*git_dir.glob("*.lock"), *(git_dir / "refs").rglob("*.lock")]:
        if stale.name != LOCK_FILE:
            stale.unlink(missing_ok=True)
    if (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists():
        locked.run("rebase", "--abort")
    if head_sha(repo) is None:
        locked.run("read-tree", "--empty")
    else:
        locked.run("reset", "--quiet", "--hard", "HEAD")
    locked.run("clean", "-fdq", "--", *OWNED_PATHS)
    clear_inflight(repo)
    return True


def check_usable(locked: LockedRepo, branch: str, *, whole_tree: bool = True) -> None:
    """Refuse a repo we cannot publish into safely: mid-operation, detached, or (`whole_tree`)
    dirty anywhere."""
    repo = locked.repo
    git_dir = Path(repo.git_dir)
    for name, what in _IN_PROGRESS.items():
        if (git_dir / name).exists():
            raise DeployRepoError(
                f"deploy repo {repo.working_dir} is in the middle of {what}; "
                "finish or abort it first",
                details={"state": name},
            )
    if repo.head.is_detached:
        raise DeployRepoError(
            f"deploy repo {repo.working_dir} has a detached HEAD at "
            f"{repo.head.commit.hexsha[:12]}; check out {branch!r} first",
            details={"state": "detached"},
        )
    if whole_tree:
        check_clean(locked, None)
    if repo.head.ref.name != branch:
        _switch_branch(locked, branch)


def check_clean(locked: LockedRepo, paths: Sequence[str] | None) -> None:
    """Refuse uncommitted edits: anywhere (`paths` None), or in `paths` and anything staged.
    Edits elsewhere are then left as they are: publish stages and commits `paths` only."""
    repo = locked.repo
    dirty = dirty_paths(locked, paths)
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise DeployRepoError(
            f"deploy repo {repo.working_dir} has uncommitted changes ({shown}); "
            "commit or discard them - publish never overwrites them",
            details={"state": "dirty", "paths": dirty[:100]},
        )


def dirty_paths(locked: LockedRepo, paths: Sequence[str] | None = None) -> list[str]:
    """Uncommitted paths: of the whole tree, or of `paths` plus whatever is staged (a staged
    edit would ride along in the next commit wherever it is; finding it reads the index only)."""
    status = ["-c", "core.untrackedCache=true", "status", "--porcelain=v1", "-z"]
    if paths is None:
        # The untracked cache saves most of the directory walk on a 3,000-file work tree.
        out = locked.run(*status, "--untracked-files=all")
        return [entry[3:] for entry in out.split("\0") if len(entry) > 3]
    dirty: list[str] = []
    if paths:
        out = locked.run(*status, "--untracked-files=all", "--", *paths)
        dirty = [entry[3:] for entry in out.split("\0") if len(entry) > 3]
    if head_sha(locked.repo) is not None:
        staged = locked.run("diff", "--cached", "--name-only", "-z", "--no-renames")
        dirty += [name for name in staged.split("\0") if name and name not in dirty]
    return dirty


def _switch_branch(locked: LockedRepo, branch: str) -> None:
    # The tree is clean, so switching loses nothing; a branch that does not exist yet starts here.
    locked.run("check-ref-format", "--branch", branch)
    if head_sha(locked.repo) is None:
        locked.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")
    elif branch in locked.repo.heads:
        locked.run("checkout", "--quiet", branch)
    else:
        locked.run("checkout", "--quiet", "-b", branch)


# `git commit` runs `git gc --auto` after itself; commit-tree does not, so every this many
# commits it is asked here (inline: a detached gc would race the next publish).
_GC_EVERY = 100
_commits_since_gc: dict[str, int] = {}


def _maybe_gc(locked: LockedRepo) -> None:
    key = str(locked.repo.git_dir)
    count = _commits_since_gc.get(key, 0) + 1
    _commits_since_gc[key] = count % _GC_EVERY
    if count >= _GC_EVERY:
        locked.run("-c", "gc.autoDetach=false", "gc", "--auto", "--quiet")


def identity_env(name: str, email: str) -> dict[str, str]:
    """Author and committer from config, whatever the machine's git config says."""
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def stage_and_commit(
    locked: LockedRepo, paths: Sequence[str], message: str, *, identity: dict[str, str]
) -> str:
    """Stage exactly `paths` (additions, edits, deletions) and commit; returns the new SHA.

    The git CLI stages only what changed (GitPython's index.add of 1,000 paths costs ~1.4 s), and
    the message goes through a file because a 1,000-tenant message outgrows one argv string.
    """
    repo = locked.repo
    message_file = Path(repo.git_dir) / MESSAGE_FILE
    parent = head_sha(repo)
    # commit-tree stores the message as given; git commit would have cleaned it up.
    message_file.write_text(clean_message(message) if parent else message, encoding="utf-8")
    locked.run("add", "--all", "--", *paths)
    if parent is not None:
        # The caller checked that nothing but `paths` is staged, so the index is the commit's
        # tree: plumbing, not `git commit`, which stats every file of the work tree first.
        tree = locked.run("write-tree").strip()
        if tree == locked.run("rev-parse", f"{parent}^{{tree}}").strip():
            raise DeployRepoError(
                f"git commit failed in {repo.working_dir}: nothing to commit",
                details={"command": ["git", "commit"], "repo": str(repo.working_dir)},
            )
        sha = locked.run(
            "commit-tree", tree, "-p", parent, "-F", str(message_file), env=identity
        ).strip()
        subject = message.split("\n", 1)[0]
        locked.run("update-ref", "-m", f"commit: {subject}", "HEAD", sha, parent)
        _maybe_gc(locked)
        return sha
    # A detached auto-gc would outlive a killed publish and race the next one; run it inline.
    locked.run(
        "-c", "gc.autoDetach=false",
        "-c", "commit.gpgsign=false",
        "commit", "--quiet", "--no-verify", "--file", str(message_file),
        env=identity,
    )  # fmt: skip
    made = head_sha(repo)
    assert made is not None  # a commit just succeeded
    return made

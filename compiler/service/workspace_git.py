"""Spec history in the workspace's own git repo: commit a batch of spec changes, read spec dates.

Input: Settings and the paths a batch wrote. Output: one commit of exactly those paths (its
message naming each write), ISO-8601 dates from `git log`, and a key that moves with every commit.
The deploy repo is publishing's business. git runs with argument lists only, never a shell string.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from compiler.errors import OrchestratorError
from compiler.publishing import CommitAuthor, clean_message
from compiler.settings import Settings

_GIT_TIMEOUT = 60
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpecDates:
    created_at: str
    updated_at: str


def _git(
    cwd: Path,
    *args: str,
    check: bool = True,
    date: str | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    author: CommitAuthor | None = None,
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    if date is not None:
        full_env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    if author is not None:  # who asked; the committer stays the orchestrator (user.name)
        full_env |= {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT,
        env=full_env,
        check=False,
        input=stdin,
    )
    if check and result.returncode != 0:
        # An operator-side failure (a 500): the write it belonged to is rolled back. git's
        # stderr names server paths, so it goes to the log, not into the answer.
        logger.error("git %s failed in the workspace repo: %s", args[0], result.stderr.strip())
        raise OrchestratorError(
            f"git {args[0]} failed in the workspace repo", details={"git_command": args[0]}
        )
    return result


def _committable(cwd: Path, rel: list[str]) -> list[str]:
    """The paths git can stage here: present or tracked (a removal), and not ignored; three git
    calls for the whole list, whatever its length."""
    present = [r for r in rel if (cwd / r).exists()]
    gone = [r for r in rel if r not in present]
    tracked: set[str] = set()
    if gone:
        listed = _git(cwd, "ls-files", "-z", "--", *gone).stdout.split("\0")
        tracked = {r for r in gone if any(f == r or f.startswith(r + "/") for f in listed if f)}
    candidates = [r for r in rel if r in present or r in tracked]
    if not candidates:
        return []
    ignored = _git(
        cwd, "check-ignore", "--stdin", "-z", check=False, stdin="\0".join(candidates) + "\0"
    ).stdout.split("\0")
    return [r for r in candidates if r not in ignored]


def commit_paths(
    settings: Settings,
    paths: list[Path],
    message: str,
    date: str,
    author: CommitAuthor | None = None,
    staged: Callable[[], None] | None = None,
) -> str | None:
    """Commit exactly `paths` (added, changed or removed; ignored ones skipped) dated `date`
    (ISO-8601): the specs and, where the workspace tracks it, their compiled output, so the
    workspace's own `ecp compile --check` passes on the commit. `author` (name, email) defaults
    to the orchestrator, who is always the committer; `staged` runs between `git add` and the
    commit (the journal records the step). The new commit, or None."""
    cwd = settings.root
    keep = _committable(cwd, [os.path.relpath(path, cwd) for path in paths])
    if not keep:
        return None
    # zlib's fastest level for the loose objects (gc repacks them anyway): output/index.json
    # is ~9 MB at 10,000 tenants and a new blob of it every batch; level 1 costs ~40 % less.
    _git(cwd, "-c", "core.looseCompression=1", "add", "--all", "--", *keep)
    if staged is not None:
        staged()
    head = head_commit(settings)
    staged_now = _staged(cwd) if head is not None else None
    if staged_now is not None and not staged_now & _under(keep, staged_now):
        return None  # the paths are as HEAD has them: nothing to commit
    if head is None or staged_now is None or staged_now - _under(keep, staged_now):
        # A first commit, or someone else's changes staged beside ours: `git commit -- paths`
        # commits ours alone (it builds a second index from HEAD, which costs a full refresh).
        return _commit_only(settings, keep, message, date, author)
    # The index is HEAD plus our paths: its tree is the commit's. Plumbing, not `git commit`,
    # which stats every file of the work tree (~0.2 s at 1,000 tenants, growing with them).
    identity = {
        "GIT_COMMITTER_NAME": settings.git_author_name,
        "GIT_COMMITTER_EMAIL": settings.git_author_email,
        "GIT_AUTHOR_NAME": settings.git_author_name,
        "GIT_AUTHOR_EMAIL": settings.git_author_email,
    }
    tree = _git(cwd, "write-tree").stdout.strip()
    commit = _git(
        cwd,
        "commit-tree",
        tree,
        "-p",
        head,
        date=date,
        author=author,
        env=identity,
        stdin=clean_message(message),
    ).stdout.strip()
    subject = message.split("\n", 1)[0]
    _git(cwd, "update-ref", "-m", f"commit: {subject}", "HEAD", commit, head)
    _maybe_gc(cwd)
    return commit


def _staged(cwd: Path) -> set[str] | None:
    """Every path whose index entry differs from HEAD, relative to `cwd` (one git call);
    None when git cannot say (the caller then commits the slow, safe way)."""
    prefix = _prefixes.get(cwd)
    if prefix is None:
        shown = _git(cwd, "rev-parse", "--show-prefix", check=False)
        if shown.returncode != 0:
            return None
        prefix = _prefixes[cwd] = shown.stdout.strip()
    listed = _git(cwd, "diff-index", "--cached", "--name-only", "-z", "HEAD", check=False)
    if listed.returncode != 0:
        return None
    names = [name for name in listed.stdout.split("\0") if name]
    if any(not name.startswith(prefix) for name in names):
        return None  # staged outside the workspace's folder: not ours to judge
    return {name.removeprefix(prefix) for name in names}


_prefixes: dict[Path, str] = {}


def _under(keep: list[str], paths: set[str]) -> set[str]:
    """The members of `paths` that are one of `keep` or inside one (a folder)."""
    folders = tuple(f"{k}/" for k in keep)
    wanted = set(keep)
    return {p for p in paths if p in wanted or p.startswith(folders)}


# git commit runs `git gc --auto` after itself; the plumbing above does not, so every this many
# commits it is asked (a no-op until loose objects pile up).
_GC_EVERY = 100
_commits_since_gc: dict[Path, int] = {}


def _maybe_gc(cwd: Path) -> None:
    count = _commits_since_gc.get(cwd, 0) + 1
    _commits_since_gc[cwd] = count % _GC_EVERY
    if count >= _GC_EVERY:
        _git(cwd, "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet", check=False)


def _commit_only(
    settings: Settings, keep: list[str], message: str, date: str, author: CommitAuthor | None
) -> str | None:
    cwd = settings.root
    done = _git(
        cwd,
        "-c",
        f"user.name={settings.git_author_name}",
        "-c",
        f"user.email={settings.git_author_email}",
        "-c",
        "gc.autoDetach=false",
        "commit",
        "--quiet",
        "--no-verify",
        "--file=-",
        "--",
        *keep,
        date=date,
        author=author,
        stdin=message,
        check=False,
    )
    if done.returncode != 0:
        unchanged = _git(cwd, "diff", "--cached", "--quiet", "--", *keep, check=False)
        if unchanged.returncode == 0:
            return None
        logger.error("git commit failed in the workspace repo: %s", done.stderr.strip())
        raise OrchestratorError(
            "git commit failed in the workspace repo", details={"git_command": "commit"}
        )
    return head_commit(settings)


def head_commit(settings: Settings) -> str | None:
    """The workspace repo's HEAD commit, or None on an unborn branch."""
    known = _head_from_files(settings.root / ".git")
    if known is not None:
        return known or None
    result = _git(settings.root, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    return result.stdout.strip() or None


_SHA = frozenset("0123456789abcdef")


def _head_from_files(dot_git: Path) -> str | None:
    """HEAD read from .git's files as git writes them (a branch ref, loose or packed): a git
    call reads the whole index, ~40 ms at 10,000 tenants, twice a batch. "" means an unborn
    branch; None anything unusual (a worktree, a detached or symbolic oddity): ask git."""
    try:
        head = (dot_git / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not head.startswith("ref: refs/heads/"):
        return None
    ref = head.removeprefix("ref: ")
    sha: str | None
    try:
        sha = (dot_git / ref).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        sha = _packed(dot_git, ref)
    except OSError:
        return None
    if sha is None or (sha and (len(sha) != 40 or not set(sha) <= _SHA)):
        return None
    return sha


def _packed(dot_git: Path, ref: str) -> str | None:
    try:
        lines = (dot_git / "packed-refs").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return ""  # no loose ref and no packed one: the branch is unborn
    except OSError:
        return None
    for line in lines:
        sha, _, name = line.partition(" ")
        if name == ref:
            return sha
    return ""


def reset_to(settings: Settings, commit: str | None) -> None:
    """Undo a commit nobody was told about: HEAD back to `commit`, the index with it."""
    if commit is None:
        _git(settings.root, "update-ref", "-d", "HEAD")
    else:
        _git(settings.root, "reset", "--quiet", "--mixed", commit)


def commit_message_of(settings: Settings, commit: str) -> str:
    return _git(settings.root, "log", "-1", "--format=%B", commit).stdout


def unstage(settings: Settings, paths: list[Path]) -> None:
    """Undo `git add` of `paths` (after a failed or interrupted write; the files are restored).
    A killed git leaves index.lock behind: no git of ours runs now, so it is stale."""
    (git_dir(settings) or settings.root / ".git").joinpath("index.lock").unlink(missing_ok=True)
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

"""A batch's workspace commit (write-tree / commit-tree, not `git commit`) holds exactly its paths:
someone else's staged change stays staged and out of it, a batch that changed nothing makes no
commit, the message is stored as `git commit` would store it, and the author is who asked."""

from __future__ import annotations

import subprocess
from pathlib import Path

from compiler.publishing import CommitAuthor, clean_message
from compiler.service.workspace_git import commit_paths
from compiler.settings import Settings

DATE = "2026-12-02T07:00:00Z"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def workspace(tmp_path: Path) -> tuple[Settings, Path]:
    root = tmp_path / "ws"
    (root / "tenants").mkdir(parents=True)
    (root / "output" / "a").mkdir(parents=True)
    for name in ("a", "b"):
        (root / "tenants" / f"{name}.yaml").write_text(f"tenant_id: {name}\n", "utf-8")
    (root / "output" / "a" / "manifest.yaml").write_text("kind: x\n", "utf-8")
    (root / "output" / "index.json").write_text("{}\n", "utf-8")
    git(root, "init", "-q", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "seed")
    return Settings.load(root), root


def test_only_the_batch_paths_are_committed_and_a_stranger_staged_change_stays_staged(
    tmp_path: Path,
) -> None:
    settings, root = workspace(tmp_path)
    (root / "tenants" / "b.yaml").write_text("tenant_id: b\nname: staged by hand\n", "utf-8")
    git(root, "add", "tenants/b.yaml")
    (root / "tenants" / "a.yaml").write_text("tenant_id: a\nname: new\n", "utf-8")
    (root / "output" / "a" / "manifest.yaml").write_text("kind: y\n", "utf-8")
    paths = [root / "tenants" / "a.yaml", root / "output" / "a", root / "output" / "index.json"]
    commit = commit_paths(settings, paths, "update tenant a\n", DATE)
    assert commit == git(root, "rev-parse", "HEAD").strip()
    changed = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["output/a/manifest.yaml", "tenants/a.yaml"]
    assert git(root, "diff", "--cached", "--name-only").split() == ["tenants/b.yaml"]


def test_the_fast_path_commits_the_paths_with_date_author_and_a_cleaned_message(
    tmp_path: Path,
) -> None:
    settings, root = workspace(tmp_path)
    (root / "tenants" / "b.yaml").unlink()
    (root / "tenants" / "a.yaml").write_text("tenant_id: a\nname: new\n", "utf-8")
    paths = [root / "tenants" / "a.yaml", root / "tenants" / "b.yaml"]
    author = CommitAuthor(name="Ann", email="ann@example.com", principal="ann")
    message = "ecp: 2 tenant writes\n\n\nupdate tenant a  \n# not a comment to keep\n\n\n"
    commit = commit_paths(settings, paths, message, DATE, author=author)
    assert commit is not None
    shown = git(root, "show", "-s", "--format=%an <%ae>|%cn|%cI|%B", commit)
    assert shown.startswith(f"Ann <ann@example.com>|{settings.git_author_name}|2026-12-02T07:00:00")
    assert shown.split("|", 3)[3] == clean_message(message) + "\n"
    assert clean_message(message) == "ecp: 2 tenant writes\n\nupdate tenant a\n"
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "ls-files", "tenants").split() == ["tenants/a.yaml"]
    assert commit_paths(settings, paths, "nothing\n", DATE) is None  # nothing changed
    assert git(root, "rev-parse", "HEAD").strip() == commit

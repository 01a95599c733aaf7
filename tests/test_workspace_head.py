"""The workspace's HEAD read from .git's files is the commit `git rev-parse HEAD` names: loose
ref, packed ref, unborn branch; anything unusual is asked of git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from compiler.service.workspace_git import head_commit
from compiler.settings import Settings


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _commit(root: Path, name: str) -> str:
    (root / name).write_text(name, encoding="utf-8")
    _git(root, "add", name)
    _git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", name)
    return _git(root, "rev-parse", "HEAD")


def test_head_is_read_from_loose_and_packed_refs_as_git_reads_it(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "--initial-branch=main")
    settings = Settings(root=tmp_path)
    assert head_commit(settings) is None  # unborn
    first = _commit(tmp_path, "a")
    assert head_commit(settings) == first
    _git(tmp_path, "pack-refs", "--all")
    assert not (tmp_path / ".git" / "refs" / "heads" / "main").exists()
    assert head_commit(settings) == first
    second = _commit(tmp_path, "b")  # a loose ref again, newer than the packed one
    assert head_commit(settings) == second


def test_a_detached_head_is_asked_of_git(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "--initial-branch=main")
    first = _commit(tmp_path, "a")
    _commit(tmp_path, "b")
    _git(tmp_path, "checkout", "-q", "--detach", first)
    assert head_commit(Settings(root=tmp_path)) == first

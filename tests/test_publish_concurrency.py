"""Concurrent publishes into one deploy repo serialise, in threads and processes; none is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from test_publish_support import git, manifest_text, workspace, write_output

from compiler.publishing import publish
from compiler.settings import Settings

WRITERS = 4
ROOT = Path(__file__).resolve().parent.parent


def outputs_for(settings: Settings) -> list[Settings]:
    """One output folder per writer; each holds its own tenants plus `shared` at its revision."""
    views = []
    for i in range(WRITERS):
        view = settings.model_copy(update={"output_path": f"out-{i}"})
        tenants = {f"t{i}-a": {"callbot": 1}, f"t{i}-b": {"chatbot": 2}, "shared": {"callbot": 1}}
        write_output(view.output_dir, tenants, revisions={"shared": i})
        views.append(view)
    return views


def tree_tenants(repo: Path, commit: str) -> set[str]:
    names = git(repo, "ls-tree", "--name-only", f"{commit}:tenants").split()
    return set(names)


def assert_serial_history(repo: Path) -> None:
    """Every commit is exactly one writer's output, and its trailers match its parent diff."""
    commits = git(repo, "rev-list", "--reverse", "HEAD").split()
    assert len(commits) == WRITERS
    seen = set()
    previous: set[str] = set()
    for commit in commits:
        tenants = tree_tenants(repo, commit)
        writer = next(i for i in range(WRITERS) if f"t{i}-a" in tenants)
        assert tenants == {f"t{writer}-a", f"t{writer}-b", "shared"}
        shared = git(repo, "show", f"{commit}:tenants/shared/manifest.yaml")
        assert shared == manifest_text("shared", {"callbot": 1}, writer)
        message = git(repo, "log", "-1", "--format=%B", commit)
        trailers = [line.split() for line in message.splitlines() if line.startswith("Ecp-Tenant:")]
        added = {parts[1] for parts in trailers if parts[2] == "added"}
        assert added == tenants - previous
        seen.add(writer)
        previous = tenants
    assert seen == set(range(WRITERS))
    assert git(repo, "status", "--porcelain") == ""
    git(repo, "fsck", "--no-dangling")


def test_threads_publishing_at_once_serialise_and_none_is_lost(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    views = outputs_for(settings)
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def run(view: Settings) -> None:
        barrier.wait()
        try:
            publish(view)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(v,)) for v in views]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert settings.deploy_repo_path is not None
    assert_serial_history(settings.deploy_repo_path)


CHILD = """
import sys
from pathlib import Path
from compiler.publishing import publish
from compiler.settings import Settings
root, output = Path(sys.argv[1]), sys.argv[2]
settings = Settings(root=root, output_path=output, git_author_name="ecp-test",
                    git_author_email="ecp-test@example.com")
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
print(publish(settings).commit)
"""


def test_processes_publishing_at_once_serialise_and_none_is_lost(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    outputs_for(settings)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), f"out-{i}"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(WRITERS)
    ]
    # Start them together only once all have imported everything, so their publishes overlap.
    for child in children:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        child.communicate(timeout=120)
        assert child.returncode == 0
    assert settings.deploy_repo_path is not None
    assert_serial_history(settings.deploy_repo_path)

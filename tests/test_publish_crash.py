"""SIGKILL a publishing child process at random moments; the deploy repo must always recover.

Each round a child process publishes a different output (every tenant changed, some added and
removed) and is killed after a random delay drawn from a seeded RNG. After every kill: `git fsck`
is clean, HEAD is the last good commit or the complete new one, and the next publish recovers the
work tree and succeeds.
"""

from __future__ import annotations

import fcntl
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_publish_support import git, manifest_text, workspace, write_output

from compiler.publishing import publish
from compiler.publishing.deploy_repo import INFLIGHT_FILE, LOCK_FILE
from compiler.settings import Settings

ROUNDS = 24
TENANTS = 300
VARIANTS = 3
ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys
from pathlib import Path
from compiler.publishing import publish
from compiler.settings import Settings
settings = Settings(root=Path(sys.argv[1]), output_path=sys.argv[2], git_author_name="ecp-test",
                    git_author_email="ecp-test@example.com")
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
publish(settings)
sys.stdout.write("done\\n"); sys.stdout.flush()
"""


def variant_tenants(variant: int) -> dict[str, dict[str, int]]:
    """Most tenants in every variant; a few only in some, so rounds add and remove folders."""
    return {
        f"tenant-{i:04d}": {"callbot": 1 + i % 3, "chatbot": 1}
        for i in range(TENANTS)
        if i % VARIANTS != variant or i % 7
    }


def make_variants(settings: Settings) -> list[Settings]:
    views = []
    for variant in range(VARIANTS):
        view = settings.model_copy(update={"output_path": f"out-{variant}"})
        tenants = variant_tenants(variant)
        write_output(view.output_dir, tenants, revisions=dict.fromkeys(tenants, variant))
        views.append(view)
    return views


def tree_is_variant(repo: Path, commit: str, variant: int) -> bool:
    names = set(git(repo, "ls-tree", "--name-only", f"{commit}:tenants").split())
    if names != set(variant_tenants(variant)):
        return False
    probe = sorted(names)[0]
    shown = git(repo, "show", f"{commit}:tenants/{probe}/manifest.yaml")
    return shown == manifest_text(probe, variant_tenants(variant)[probe], variant)


def wait_for_publish_lock(repo: Path) -> None:
    """Take and drop the publish lock: a git the killed child started may still be finishing."""
    with (repo / ".git" / LOCK_FILE).open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def assert_fsck_clean(repo: Path) -> None:
    done = subprocess.run(
        ["git", "fsck", "--full", "--no-dangling"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr.lower() and "missing" not in done.stdout.lower()


@pytest.mark.slow
def test_a_publish_killed_at_random_moments_always_leaves_a_recoverable_repo(
    tmp_path: Path,
) -> None:
    settings = workspace(tmp_path)
    views = make_variants(settings)
    repo = settings.deploy_repo_path
    assert repo is not None
    started = time.perf_counter()
    publish(views[0])
    window = max(0.2, 1.5 * (time.perf_counter() - started))
    rng = random.Random(20240120)
    interrupted = 0
    outcomes: list[str] = []
    for round_no in range(1, ROUNDS + 1):
        variant = round_no % VARIANTS
        last_good = git(repo, "rev-parse", "HEAD").strip()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), f"out-{variant}"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline() == "ready\n"
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(rng.uniform(0.0, window))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        child.stdin.close()

        wait_for_publish_lock(repo)
        assert_fsck_clean(repo)
        head = git(repo, "rev-parse", "HEAD").strip()
        assert head == last_good or tree_is_variant(repo, head, variant), f"round {round_no}"
        mid_write = (repo / ".git" / INFLIGHT_FILE).exists()
        interrupted += mid_write
        outcomes.append("mid-write" if mid_write else "before" if head == last_good else "after")

        result = publish(views[variant])
        assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
        assert tree_is_variant(repo, result.commit or "", variant), f"round {round_no}"
        assert not (repo / ".git" / INFLIGHT_FILE).exists()
        assert not (repo / ".git" / "index.lock").exists()
        assert_fsck_clean(repo)
    # The delays must actually land inside publishes, or this test proves nothing.
    print({outcome: outcomes.count(outcome) for outcome in set(outcomes)})
    assert interrupted >= 1

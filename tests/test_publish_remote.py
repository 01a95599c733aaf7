"""Pushing to a real bare remote, a second clone moving it, conflicts, and failing networks."""

from __future__ import annotations

from pathlib import Path

import git as gitpython
import pytest
from test_publish_support import git, workspace, write_output

from compiler.errors import DeploymentFailed, DeployRepoError, UsageError
from compiler.publishing import list_deployments, publish
from compiler.publishing.deploy_repo import identity_env, locked_repo
from compiler.publishing.push import ensure_remote, push_branch
from compiler.publishing.target import redact, resolve_target
from compiler.settings import Settings

TENANTS = {"acme": {"callbot": 2}, "beta": {"chatbot": 1}}
HUMAN = ["-c", "user.name=human", "-c", "user.email=human@example.com"]


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    return bare


@pytest.fixture
def settings(tmp_path: Path, remote: Path) -> Settings:
    s = workspace(tmp_path / "ws", deploy_remote=str(remote))
    write_output(s.output_dir, TENANTS)
    return s


def remote_head(remote: Path) -> str:
    return git(remote, "rev-parse", "refs/heads/main").strip()


def second_clone(tmp_path: Path, remote: Path) -> Path:
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(remote), str(other))
    return other


def test_push_sends_the_commit_to_the_bare_remote(settings: Settings, remote: Path) -> None:
    result = publish(settings, push=True)
    assert result.pushed
    assert remote_head(remote) == result.commit


def test_a_moved_remote_is_fetched_and_rebased_onto(
    settings: Settings, remote: Path, tmp_path: Path
) -> None:
    publish(settings, push=True)
    other = second_clone(tmp_path, remote)
    (other / "README.md").write_text("deploy repo\n")
    git(other, "add", "README.md")
    git(other, *HUMAN, "commit", "--quiet", "-m", "docs")
    git(other, "push", "--quiet", "origin", "main")
    write_output(settings.output_dir, {**TENANTS, "acme": {"callbot": 5}})
    result = publish(settings, push=True)
    assert result.commit == remote_head(remote)
    assert git(remote, "log", "-1", "--format=%s", "main").startswith("ecp publish: changed acme")
    assert "README.md" in git(remote, "ls-tree", "--name-only", "main").split()
    assert result.deployment_id == f"dep-{remote_head(remote)[:12]}"
    assert list_deployments(settings)[0].deployment_id == result.deployment_id


def test_a_hand_edit_on_the_remote_that_conflicts_stops_and_keeps_the_local_commit(
    settings: Settings, remote: Path, tmp_path: Path
) -> None:
    publish(settings, push=True)
    other = second_clone(tmp_path, remote)
    (other / "tenants" / "acme" / "manifest.yaml").write_text("edited by hand\n")
    git(other, *HUMAN, "commit", "--quiet", "-am", "hotfix")
    git(other, "push", "--quiet", "origin", "main")
    remote_before = remote_head(remote)
    write_output(settings.output_dir, {**TENANTS, "acme": {"callbot": 7}})
    with pytest.raises(DeployRepoError, match=r"conflict.*tenants/acme/manifest\.yaml"):
        publish(settings, push=True)
    local = settings.deploy_repo_path
    assert local is not None
    assert remote_head(remote) == remote_before
    assert git(local, "log", "-1", "--format=%s").startswith("ecp publish: changed acme")
    assert git(local, "status", "--porcelain") == ""
    assert not (local / ".git" / "rebase-merge").exists()
    # The next publish still works locally: the repo was left usable, not half-rebased.
    assert not publish(settings).committed


def test_without_any_remote_push_is_a_usage_error(tmp_path: Path) -> None:
    s = workspace(tmp_path)
    write_output(s.output_dir, TENANTS)
    with pytest.raises(UsageError, match="needs a remote"):
        publish(s, push=True)
    assert s.deploy_repo_path is not None
    assert git(s.deploy_repo_path, "rev-list", "--count", "HEAD").strip() == "1"


def test_a_failing_push_retries_with_backoff_and_keeps_the_local_commit(tmp_path: Path) -> None:
    s = workspace(tmp_path)
    write_output(s.output_dir, TENANTS)
    result = publish(s)
    delays: list[float] = []
    with locked_repo(resolve_target(s, None, None)) as locked:
        ensure_remote(locked, "https://user:s3cret-token@127.0.0.1:9/deploy.git")
        with pytest.raises(DeploymentFailed, match="failed after 3 attempts") as caught:
            push_branch(
                locked, "main", identity=identity_env("t", "t@x"), attempts=3, sleep=delays.append
            )
    assert delays == [0.5, 1.0]
    assert "s3cret" not in caught.value.message
    assert gitpython.Repo(s.deploy_repo_path).head.commit.hexsha == result.commit


def test_a_commit_whose_push_failed_is_sent_by_the_next_publish(
    settings: Settings, remote: Path, tmp_path: Path
) -> None:
    offline = settings.model_copy(update={"deploy_remote": None})
    result = publish(offline)
    published = publish(settings, push=True)
    assert not published.committed
    assert published.pushed
    assert remote_head(remote) == result.commit


def test_a_url_deploy_repo_is_cloned_into_the_workspace_and_pushed(
    tmp_path: Path, remote: Path
) -> None:
    s = workspace(tmp_path / "ws", deploy_repo=remote.as_uri())
    write_output(s.output_dir, TENANTS)
    result = publish(s, push=True)
    assert remote_head(remote) == result.commit
    assert Path(result.repo).is_relative_to(tmp_path / "ws" / ".ecp" / "deploy-clones")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://bob:tok@git.example.com/x.git", "https://***@git.example.com/x.git"),
        ("fatal: unable to access 'https://t@h/r'", "fatal: unable to access 'https://***@h/r'"),
        ("/plain/path", "/plain/path"),
    ],
    ids=["user-and-token", "inside-a-message", "no-url"],
)
def test_credentials_in_urls_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "url",
    ["ext::sh -c touch% /tmp/pwned", "--upload-pack=touch /tmp/x", "fd::17", "relative/remote"],
    ids=["ext-transport", "option", "fd-transport", "relative-path"],
)
def test_a_remote_git_must_not_run_is_refused_before_git_sees_it(tmp_path: Path, url: str) -> None:
    s = workspace(tmp_path, deploy_remote=url)
    write_output(s.output_dir, TENANTS)
    with pytest.raises(UsageError, match="deploy_remote"):
        publish(s, push=True)
    assert not (tmp_path / ".ecp" / "deploy-repo").exists()


def test_a_refused_remote_url_does_not_echo_its_credentials(tmp_path: Path) -> None:
    s = workspace(tmp_path, deploy_repo="ftp://bob:s3cret@host/x.git")
    with pytest.raises(UsageError) as caught:
        publish(s)
    assert "s3cret" not in str(caught.value)
    assert "ftp://***@host/x.git" in str(caught.value)


def test_an_scp_style_remote_with_any_user_is_a_remote_not_a_local_folder(tmp_path: Path) -> None:
    target = resolve_target(
        workspace(tmp_path, deploy_repo="deploy@git.example.com:ops/d.git"), None, None
    )
    assert target.remote_url == "deploy@git.example.com:ops/d.git"
    assert target.path.is_relative_to(tmp_path / ".ecp" / "deploy-clones")

"""The API's publish plans the batch's tenants only, except the first after a failed publish and
the first after a start that found output/ unpublished (or could not tell), which plan every
tenant and so carry what was left unpublished."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import git as gitpython
import pytest

from compiler.errors import OrchestratorError
from compiler.pipeline import compile_workspace
from compiler.publishing import StateMemo, deploy_repo, publish, unpublished
from compiler.publishing import state as state_module
from compiler.service.state import Workspace
from compiler.service.tenant_writes import WriteIntent
from compiler.service.write_batch import WriteOutcome, run_batch
from compiler.settings import Settings
from compiler.spec.edit import apply_update

REPO = Path(__file__).resolve().parent.parent


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def _commit(root: Path, message: str) -> None:
    _git(root, "add", "--all")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", message)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "ws"
    shutil.copytree(REPO / "presets", root / "presets")
    shutil.copytree(REPO / "tenants", root / "tenants")
    (root / ".gitignore").write_text(".ecp/\n", encoding="utf-8")
    settings = Settings(root=root, repo_url_for_consumers="https://git.test/deploy.git")
    compile_workspace(settings)
    _git(root, "init", "-q", "--initial-branch=main")
    _commit(root, "seed")
    publish(settings)
    workspace = Workspace.of(settings)
    yield workspace
    workspace.writer.compiler.close()


def _tenants(ws: Workspace) -> list[str]:
    return sorted(p.stem for p in ws.settings.tenants_dir.glob("*.yaml"))


def _edit_by_hand(ws: Workspace, tenant_id: str, chatbots: int) -> None:
    """A person's change: spec edited, `ecp compile`, committed; not published."""
    spec = ws.settings.tenants_dir / f"{tenant_id}.yaml"
    text = apply_update(spec.read_text("utf-8"), _more(chatbots), spec.name)
    spec.write_text(text, encoding="utf-8")
    compile_workspace(ws.settings, [tenant_id])
    _commit(ws.settings.root, f"edit {tenant_id}")


def _more(chatbots: int) -> dict[str, object]:
    return {"service_requirements": {"chatbot": chatbots}}  # more replicas: a new manifest


def _write(ws: Workspace, tenant_id: str, chatbots: int) -> WriteOutcome | OrchestratorError:
    intent = WriteIntent("update", tenant_id, _more(chatbots), request_id=f"req-{chatbots}")
    (result,) = run_batch(ws, ws.writer.journal, [intent])
    assert isinstance(result, WriteOutcome | OrchestratorError)
    return result


def _published_in_head(ws: Workspace) -> set[str]:
    deploy = ws.settings.deploy_repo_path
    assert deploy is not None
    names = _git(deploy, "show", "--name-only", "--format=", "HEAD").split()
    return {n.split("/")[1] for n in names if n.startswith("tenants/")}


def test_the_first_publish_carries_whats_pending_and_later_ones_plan_their_batch_only(
    ws: Workspace,
) -> None:
    api, first_by_hand, second_by_hand = _tenants(ws)[:3]
    _edit_by_hand(ws, first_by_hand, 57)
    assert isinstance(_write(ws, api, 53), WriteOutcome)
    assert _published_in_head(ws) == {api, first_by_hand}

    _edit_by_hand(ws, second_by_hand, 61)
    assert isinstance(_write(ws, api, 54), WriteOutcome)
    assert _published_in_head(ws) == {api}


def test_after_a_failed_publish_the_next_one_plans_every_tenant(ws: Workspace) -> None:
    api, by_hand = _tenants(ws)[:2]
    assert isinstance(_write(ws, api, 53), WriteOutcome)
    deploy = ws.settings.deploy_repo_path
    assert deploy is not None
    mine = deploy / "tenants" / api / "manifest.yaml"
    published = mine.read_bytes()
    mine.write_bytes(published + b"# a person's edit\n")
    failed = _write(ws, api, 55)
    assert isinstance(failed, OrchestratorError)
    assert failed.details.get("spec_accepted") is True
    mine.write_bytes(published)
    _edit_by_hand(ws, by_hand, 57)
    assert isinstance(_write(ws, api, 56), WriteOutcome)
    assert _published_in_head(ws) == {api, by_hand}


def _submit(ws: Workspace, tenant_id: str, chatbots: int) -> WriteOutcome:
    intent = WriteIntent("update", tenant_id, _more(chatbots), request_id=f"req-{chatbots}")
    return asyncio.run(ws.writer.submit(intent))


def test_a_start_that_finds_the_deploy_repo_up_to_date_publishes_batches_alone(
    ws: Workspace,
) -> None:
    api, by_hand = _tenants(ws)[:2]
    ws.writer.warm()  # the app's startup: nothing is pending
    _submit(ws, api, 53)  # after the writer thread compared output/ with the deploy repo
    _edit_by_hand(ws, by_hand, 57)
    _submit(ws, api, 54)
    ws.writer.stop()
    assert _published_in_head(ws) == {api}


def test_a_start_that_finds_output_unpublished_carries_it_with_the_first_batch(
    ws: Workspace,
) -> None:
    api, by_hand = _tenants(ws)[:2]
    _edit_by_hand(ws, by_hand, 57)
    ws.writer.warm()
    _submit(ws, api, 53)
    ws.writer.stop()
    assert _published_in_head(ws) == {api, by_hand}


def test_unpublished_says_whether_a_publish_would_commit_and_keeps_the_state(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = StateMemo()
    assert unpublished(ws.settings, memo) is False
    deploy = ws.settings.deploy_repo_path
    assert deploy is not None
    repo = gitpython.Repo(deploy)
    with monkeypatch.context() as patched:
        patched.setattr(state_module, "load_state", _refuse)
        assert memo.load(repo, repo.head.commit.hexsha).head == repo.head.commit.hexsha
    _edit_by_hand(ws, _tenants(ws)[0], 57)
    assert unpublished(ws.settings, memo) is True


def _refuse(*_: object) -> None:
    raise AssertionError("the state file was parsed although the memo holds it")


def test_the_writers_start_reads_the_deployment_history_before_any_write(ws: Workspace) -> None:
    assert not ws.ledger.is_fresh()
    ws.writer.warm()
    deadline = time.monotonic() + 60
    while not ws.ledger.is_fresh() and time.monotonic() < deadline:
        time.sleep(0.05)
    ws.writer.stop()
    assert ws.ledger.is_fresh()  # the first write's batch finds the records read


def test_the_start_check_runs_no_whole_tree_status_and_leaves_edits_elsewhere_alone(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 10,000 tenants a whole-tree `git status` costs seconds on a cold cache, and the first
    write waited for it; what is published is HEAD's, which the published state names."""
    api, other = _tenants(ws)[:2]
    deploy = ws.settings.deploy_repo_path
    assert deploy is not None
    edited = deploy / "tenants" / other / "manifest.yaml"
    edited.write_bytes(edited.read_bytes() + b"# a person's edit, not committed\n")
    real = deploy_repo.dirty_paths

    def named_only(locked: deploy_repo.LockedRepo, paths: object = None) -> list[str]:
        assert paths is not None, "the start check ran a whole-tree git status"
        return real(locked, paths)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(deploy_repo, "dirty_paths", named_only)
        ws.writer.publish_all = unpublished(ws.settings, StateMemo())  # as the writer's start
    assert ws.writer.publish_all is False
    assert isinstance(_write(ws, api, 53), WriteOutcome)  # publishes its own tenant's paths
    assert _published_in_head(ws) == {api}
    assert edited.read_bytes().endswith(b"# a person's edit, not committed\n")

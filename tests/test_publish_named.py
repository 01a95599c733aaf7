"""A publish of named tenants (the API's batch) reads and checks only their paths: other tenants'
files, index lines and uncommitted edits elsewhere are left alone, staged edits still stop it,
and the state it keeps in memory is the one a full plan would build."""

from __future__ import annotations

import json
from pathlib import Path

import git as gitpython
import pytest
from test_publish_support import git, many_tenants, workspace, write_output

from compiler.errors import DeploymentFailed, DeployRepoError
from compiler.output import index_text
from compiler.publishing import StateMemo, deployment_at, find_deployment, publish
from compiler.publishing import state as state_module
from compiler.publishing.state import load_state
from compiler.settings import Settings


def _published(tmp_path: Path, count: int = 12) -> tuple[Settings, Path, dict[str, dict[str, int]]]:
    settings = workspace(tmp_path)
    tenants = many_tenants(count)
    write_output(settings.output_dir, tenants)
    publish(settings)
    deploy = settings.deploy_repo_path
    assert deploy is not None
    return settings, deploy, tenants


def test_a_named_publish_commits_only_the_named_tenants(tmp_path: Path) -> None:
    settings, deploy, tenants = _published(tmp_path)
    tenants["tenant-0002"] = {"callbot": 7}
    tenants["tenant-0005"] = {"callbot": 8}
    del tenants["tenant-0009"]
    tenants["tenant-0100"] = {"chatbot": 1}
    write_output(settings.output_dir, tenants)
    result = publish(settings, only=["tenant-0002", "tenant-0009", "tenant-0100"])
    assert (result.added, result.changed, result.removed) == (
        ("tenant-0100",),
        ("tenant-0002",),
        ("tenant-0009",),
    )
    shown = git(deploy, "show", "--name-only", "--format=", "HEAD").split()
    assert not [p for p in shown if "tenant-0005" in p]
    # The one left out is published by the next full publish, as before.
    assert publish(settings).changed == ("tenant-0005",)


def test_a_named_publish_reads_no_other_tenants_files_or_index_lines(tmp_path: Path) -> None:
    settings, _, tenants = _published(tmp_path)
    # Another tenant's folder vanishes (its index line stays): a full publish refuses that.
    for name in ("manifest.yaml", "kustomization.yaml"):
        (settings.output_dir / "tenant-0003" / name).unlink()
    (settings.output_dir / "tenant-0003").rmdir()
    with pytest.raises(DeploymentFailed, match="tenant-0003"):
        publish(settings)
    tenants["tenant-0004"] = {"callbot": 9}
    write_output(settings.output_dir, {t: r for t, r in tenants.items() if t != "tenant-0003"})
    (settings.output_dir / "tenant-0003").mkdir()  # keep what the index says, minus the files
    assert publish(settings, only=["tenant-0004"]).changed == ("tenant-0004",)


def test_a_named_publish_leaves_edits_elsewhere_and_refuses_edits_where_it_writes(
    tmp_path: Path,
) -> None:
    settings, deploy, tenants = _published(tmp_path)
    (deploy / "notes.txt").write_text("a person's file\n", encoding="utf-8")
    other = deploy / "tenants" / "tenant-0001" / "manifest.yaml"
    other.write_text(other.read_text("utf-8") + "# a person's edit\n", encoding="utf-8")
    tenants["tenant-0002"] = {"callbot": 5}
    write_output(settings.output_dir, tenants)
    assert publish(settings, only=["tenant-0002"]).changed == ("tenant-0002",)
    assert "notes.txt" not in git(deploy, "ls-files")
    assert "# a person's edit" in other.read_text("utf-8")  # not committed, not discarded
    assert git(deploy, "status", "--porcelain", "--", str(other)).strip()

    mine = deploy / "tenants" / "tenant-0006" / "manifest.yaml"
    mine.write_text(mine.read_text("utf-8") + "# edited\n", encoding="utf-8")
    tenants["tenant-0006"] = {"callbot": 4}
    write_output(settings.output_dir, tenants)
    with pytest.raises(DeployRepoError, match=r"uncommitted changes.*tenant-0006"):
        publish(settings, only=["tenant-0006"])


def test_a_staged_edit_anywhere_stops_a_named_publish(tmp_path: Path) -> None:
    settings, deploy, tenants = _published(tmp_path)
    (deploy / "staged.txt").write_text("would ride along in the commit\n", encoding="utf-8")
    git(deploy, "add", "staged.txt")
    tenants["tenant-0002"] = {"callbot": 5}
    write_output(settings.output_dir, tenants)
    with pytest.raises(DeployRepoError, match=r"uncommitted changes.*staged\.txt"):
        publish(settings, only=["tenant-0002"])


def test_the_state_kept_in_memory_equals_the_state_on_disk_and_yields_to_other_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, deploy, tenants = _published(tmp_path)
    memo = StateMemo()
    tenants["tenant-0002"] = {"callbot": 5}
    write_output(settings.output_dir, tenants)
    publish(settings, only=["tenant-0002"], memo=memo)
    repo = gitpython.Repo(deploy)
    head = repo.head.commit.hexsha
    on_disk = load_state(repo, head)
    with monkeypatch.context() as patched:
        patched.setattr(state_module, "load_state", _refuse)
        assert memo.load(repo, head) == on_disk  # from memory: nothing parsed
    # A publish without the memo (the CLI) rewrites the file: the memo reads it again.
    tenants["tenant-0003"] = {"callbot": 6}
    write_output(settings.output_dir, tenants)
    publish(settings)
    head = gitpython.Repo(deploy).head.commit.hexsha
    assert memo.load(repo, head) == load_state(repo, head)
    assert (
        memo.load(repo, head).tenants["tenant-0003"].file_sha
        != on_disk.tenants["tenant-0003"].file_sha
    )


def _refuse(*_: object) -> None:
    raise AssertionError("the state file was parsed although the memo holds it")


def test_a_full_plan_keeps_an_unchanged_tenants_state_only_while_its_totals_agree(
    tmp_path: Path,
) -> None:
    settings, deploy, _ = _published(tmp_path)
    index_path = settings.output_dir / "index.json"
    index = json.loads(index_path.read_text("utf-8"))
    index["tenants"]["tenant-0001"]["monthly_cost_usd"] = 4321.5  # a price change: same bytes
    index_path.write_text(index_text(index), encoding="utf-8")
    result = publish(settings)
    assert result.changes == ()
    repo = gitpython.Repo(deploy)
    totals = load_state(repo, repo.head.commit.hexsha).tenants["tenant-0001"].totals
    assert totals is not None
    assert totals.monthly_cost_usd == 4321.5


def test_the_record_read_by_full_sha_is_the_one_found_by_deployment_id(tmp_path: Path) -> None:
    settings, _, tenants = _published(tmp_path)
    tenants["tenant-0002"] = {"callbot": 5}
    write_output(settings.output_dir, tenants)
    result = publish(settings, only=["tenant-0002"])
    assert result.deployment_id is not None
    assert result.commit is not None
    record = deployment_at(settings, result.commit)
    assert record is not None
    assert record == find_deployment(settings, result.deployment_id)
    assert [c.tenant_id for c in record.tenants] == ["tenant-0002"]
    assert deployment_at(settings, result.commit[:12]) is None  # a prefix is find_deployment's

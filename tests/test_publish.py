"""publish() into real git repositories in temp dirs: layout, commits, records, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_publish_support import CONSUMER_URL, git, workspace, write_output

from compiler.errors import DeploymentFailed, DeployRepoError, UsageError
from compiler.publishing import find_deployment, list_deployments, publish
from compiler.publishing.consumers import ConsumerSchemas
from compiler.settings import Settings

TWO = {"acme": {"callbot": 2, "stt": 1}, "beta": {"chatbot": 3}}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = workspace(tmp_path)
    write_output(s.output_dir, TWO)
    return s


def deploy(settings: Settings) -> Path:
    path = settings.deploy_repo_path
    assert path is not None
    return path


def test_first_publish_creates_the_local_repo_with_the_tenant_layout(settings: Settings) -> None:
    result = publish(settings)
    repo = deploy(settings)
    files = git(repo, "ls-files").split()
    assert "tenants/acme/manifest.yaml" in files
    assert "tenants/beta/kustomization.yaml" in files
    assert "argocd/applicationset.yaml" in files
    assert "flux/tenants/acme.yaml" in files
    assert result.added == ("acme", "beta")
    assert result.commit is not None
    assert result.deployment_id == f"dep-{result.commit[:12]}"
    assert git(repo, "status", "--porcelain") == ""


def test_the_default_repo_lives_inside_the_workspace_and_its_git_ignores_it(
    settings: Settings,
) -> None:
    git(settings.root, "init", "--quiet")
    publish(settings)
    assert deploy(settings) == settings.root / ".ecp" / "deploy-repo"
    assert (deploy(settings) / ".git").is_dir()
    # `git add -A` in the workspace must not record the deploy repo as an embedded repository.
    untracked = git(settings.root, "status", "--porcelain", "--untracked-files=all").split()
    assert not any(path.startswith(".ecp") for path in untracked), untracked
    assert any(path.startswith("output/") for path in untracked)


def test_a_deploy_repo_configured_at_the_workspace_root_is_added_to_its_gitignore(
    tmp_path: Path,
) -> None:
    s = workspace(tmp_path, deploy_repo="deploy")
    write_output(s.output_dir, TWO)
    (tmp_path / ".gitignore").write_text("*.pyc\n")
    git(tmp_path, "init", "--quiet")
    publish(s)
    publish(s)
    assert (tmp_path / ".gitignore").read_text().splitlines() == [
        "*.pyc",
        "/deploy/",
        "/.deploy.ecp-init.lock",
    ]
    untracked = git(tmp_path, "status", "--porcelain", "--untracked-files=all").split()
    assert not any("deploy" in path for path in untracked), untracked


def test_publishing_unchanged_output_makes_no_commit(settings: Settings) -> None:
    first = publish(settings)
    second = publish(settings)
    assert second.commit == first.commit
    assert second.deployment_id is None
    assert not second.committed
    assert git(deploy(settings), "rev-list", "--count", "HEAD").strip() == "1"


def test_a_changed_tenant_commits_only_its_files_and_names_it_with_totals(
    settings: Settings,
) -> None:
    publish(settings)
    write_output(settings.output_dir, {**TWO, "acme": {"callbot": 4, "stt": 1}})
    result = publish(settings, request_id="req-42")
    assert result.changed == ("acme",)
    assert result.added == result.removed == ()
    names = git(deploy(settings), "show", "--name-only", "--format=", "HEAD").split()
    # Same Deployments, so the Flux Kustomization of acme is unchanged and not rewritten.
    assert names == ["tenants/acme/manifest.yaml"]
    message = git(deploy(settings), "log", "-1", "--format=%B")
    assert message.startswith("ecp publish: changed acme")
    assert "cpu 2500m, memory 5Gi, gpu 1, $457.50/month" in message
    assert "(was cpu 1500m, memory 3Gi, gpu 1, $374.50/month)" in message
    assert "Ecp-Tenant: acme changed cpu=2500m memory=5Gi gpu=1 monthly_cost_usd=457.50" in message
    assert "Ecp-Request-Id: req-42" in message


def test_a_removed_tenant_loses_its_folder_and_its_flux_kustomization(settings: Settings) -> None:
    publish(settings)
    write_output(settings.output_dir, {"acme": TWO["acme"]})
    result = publish(settings)
    assert result.removed == ("beta",)
    files = git(deploy(settings), "ls-files").split()
    assert not any("beta" in f for f in files)
    assert "Ecp-Tenant: beta removed" in git(deploy(settings), "log", "-1", "--format=%B")


def test_author_and_committer_come_from_the_settings(settings: Settings) -> None:
    publish(settings)
    who = git(deploy(settings), "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip()
    assert who == "ecp-test <ecp-test@example.com>|ecp-test <ecp-test@example.com>"


def test_deployment_records_are_read_back_from_the_commit_trailers(settings: Settings) -> None:
    first = publish(settings, request_id="req-1")
    write_output(settings.output_dir, {**TWO, "beta": {"chatbot": 5}})
    second = publish(settings)
    records = list_deployments(settings)
    assert [r.deployment_id for r in records] == [second.deployment_id, first.deployment_id]
    assert records[1].request_id == "req-1"
    assert records[0].timestamp.endswith("Z")
    only_acme = list_deployments(settings, "acme")
    assert [r.deployment_id for r in only_acme] == [first.deployment_id]
    assert first.deployment_id is not None
    found = find_deployment(settings, first.deployment_id)
    assert found is not None
    change = found.change_for("acme")
    assert change is not None and change.totals is not None
    assert change.action == "added"
    assert change.totals.gpu == 1


def test_a_tenant_filter_does_not_match_a_longer_tenant_id_with_the_same_prefix(
    tmp_path: Path,
) -> None:
    s = workspace(tmp_path)
    write_output(s.output_dir, {"acme": {"callbot": 1}, "acme-eu": {"callbot": 1}})
    publish(s)
    write_output(s.output_dir, {"acme": {"callbot": 1}, "acme-eu": {"callbot": 2}})
    publish(s)
    assert len(list_deployments(s, "acme")) == 1
    assert len(list_deployments(s, "acme-eu")) == 2


def test_records_of_a_repo_that_does_not_exist_yet_are_empty(settings: Settings) -> None:
    assert list_deployments(settings) == []
    assert find_deployment(settings, "dep-abcdef123456") is None


def test_records_of_an_explicit_repo_that_does_not_exist_are_an_error_naming_it(
    settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(DeployRepoError, match=r"nowhere does not exist"):
        list_deployments(settings, repo=str(tmp_path / "nowhere"))


@pytest.mark.parametrize(
    "bad_id",
    ["dep-", "dep-XYZ", "deadbeef", "dep-abc;rm"],
    ids=["empty", "upper", "no-prefix", "shell"],
)
def test_a_malformed_deployment_id_finds_nothing(settings: Settings, bad_id: str) -> None:
    publish(settings)
    assert find_deployment(settings, bad_id) is None


def test_an_invalid_tenant_id_is_rejected_before_it_reaches_a_path(settings: Settings) -> None:
    from compiler.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        list_deployments(settings, "../etc")


def test_a_request_id_that_could_forge_a_trailer_is_dropped(settings: Settings) -> None:
    publish(settings, request_id="x\nEcp-Tenant: evil added")
    message = git(deploy(settings), "log", "-1", "--format=%B")
    assert "evil" not in message
    assert "Ecp-Request-Id" not in message


def test_uncommitted_edits_in_the_deploy_repo_stop_publish_and_are_named(
    settings: Settings,
) -> None:
    publish(settings)
    edited = deploy(settings) / "tenants" / "acme" / "manifest.yaml"
    edited.write_text("hand edit\n")
    write_output(settings.output_dir, {**TWO, "acme": {"callbot": 9}})
    with pytest.raises(DeployRepoError, match=r"uncommitted changes.*tenants/acme/manifest\.yaml"):
        publish(settings)
    assert edited.read_text() == "hand edit\n"


def test_a_detached_head_stops_publish_with_a_clear_error(settings: Settings) -> None:
    publish(settings)
    git(deploy(settings), "checkout", "--quiet", "--detach", "HEAD")
    with pytest.raises(DeployRepoError, match="detached HEAD"):
        publish(settings)


def test_a_folder_that_is_not_a_git_repository_is_never_overwritten(settings: Settings) -> None:
    path = deploy(settings)
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("mine\n")
    with pytest.raises(DeployRepoError, match="not a git repository"):
        publish(settings)
    assert sorted(p.name for p in path.iterdir()) == ["notes.txt"]


def test_an_explicit_repo_that_does_not_exist_is_an_error_not_created(
    settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(DeployRepoError, match="does not exist"):
        publish(settings, repo=str(tmp_path / "nowhere"))
    assert not (tmp_path / "nowhere").exists()


def test_an_explicit_repo_and_branch_override_the_settings(
    settings: Settings, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "--quiet", "--initial-branch=main")
    result = publish(settings, repo=str(other), branch="staging")
    assert result.branch == "staging"
    assert git(other, "rev-parse", "--abbrev-ref", "HEAD").strip() == "staging"
    assert list_deployments(settings, repo=str(other), branch="staging")
    assert not (settings.root / ".ecp").exists()


@pytest.mark.parametrize(
    "branch",
    ["-x", "a..b", "has space", "--upload-pack=x"],
    ids=["dash", "dots", "space", "option"],
)
def test_a_branch_name_that_could_be_an_option_is_refused(settings: Settings, branch: str) -> None:
    with pytest.raises(UsageError):
        publish(settings, branch=branch)


def test_publishing_without_compiled_output_says_to_compile_first(tmp_path: Path) -> None:
    with pytest.raises(DeploymentFailed, match="ecp compile"):
        publish(workspace(tmp_path))


def test_an_index_listing_a_bad_tenant_id_is_refused(settings: Settings) -> None:
    index_path = settings.output_dir / "index.json"
    index = json.loads(index_path.read_text())
    index["tenants"]["../../evil"] = index["tenants"]["acme"]
    index_path.write_text(json.dumps(index))
    with pytest.raises(DeploymentFailed, match="DNS-1123"):
        publish(settings)


@pytest.mark.parametrize(
    ("consumers", "present", "absent"),
    [
        (("argocd",), "argocd/applicationset.yaml", "flux"),
        (("flux",), "flux/sync.yaml", "argocd"),
    ],
    ids=["argocd-only", "flux-only"],
)
def test_switching_consumers_writes_the_chosen_ones_and_removes_the_others(
    settings: Settings, consumers: tuple[str, ...], present: str, absent: str
) -> None:
    publish(settings)
    result = publish(settings.model_copy(update={"consumers": consumers}))
    assert result.committed
    assert result.deployment_id is None  # no tenant changed
    files = git(deploy(settings), "ls-files").split()
    assert present in files
    assert not any(f.startswith(absent + "/") for f in files)


def test_generated_consumer_files_match_their_schemas_and_protect_running_tenants(
    settings: Settings,
) -> None:
    publish(settings)
    schemas = ConsumerSchemas()
    repo = deploy(settings)
    paths = ["argocd/applicationset.yaml", "flux/sync.yaml", "flux/tenants/acme.yaml"]
    docs = [d for p in paths for d in yaml.safe_load_all((repo / p).read_text())]
    for doc in docs:
        schemas.check(doc, "test")
    appset = docs[0]
    assert appset["spec"]["syncPolicy"]["preserveResourcesOnDeletion"] is True
    assert appset["spec"]["generators"][0]["git"]["directories"] == [{"path": "tenants/*"}]
    acme = docs[-1]
    assert acme["spec"]["prune"] is True
    assert {c["name"] for c in acme["spec"]["healthChecks"]} == {"callbot", "stt"}


def test_the_consumer_schemas_reject_a_flux_kustomization_without_prune() -> None:
    bad = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "x", "namespace": "flux-system"},
        "spec": {"interval": "10m", "sourceRef": {"kind": "GitRepository", "name": "s"}},
    }
    with pytest.raises(DeploymentFailed, match="prune"):
        ConsumerSchemas().check(bad, "flux/tenants/x.yaml")


def test_a_hand_commit_in_the_deploy_repo_is_noticed_and_republished(settings: Settings) -> None:
    publish(settings)
    repo = deploy(settings)
    (repo / "tenants" / "acme" / "manifest.yaml").write_text("drift\n")
    git(repo, "-c", "user.name=h", "-c", "user.email=h@x", "commit", "-qam", "hand edit")
    result = publish(settings)
    assert result.changed == ("acme",)
    expected = (settings.output_dir / "acme" / "manifest.yaml").read_text()
    assert (repo / "tenants" / "acme" / "manifest.yaml").read_text() == expected


def test_without_a_consumer_url_publish_writes_tenants_but_no_consumer_files(
    tmp_path: Path,
) -> None:
    settings = workspace(tmp_path, repo_url_for_consumers=None)
    write_output(settings.output_dir, TWO)
    result = publish(settings)
    files = git(deploy(settings), "ls-files").split()
    assert "tenants/acme/manifest.yaml" in files
    assert not any(f.startswith(("argocd/", "flux/")) for f in files)
    assert any("repo_url_for_consumers" in w for w in result.warnings)
    assert "git.example.com" not in git(deploy(settings), "grep", "-h", "-e", ".", "--", ".")


def _bare_remote(tmp_path: Path) -> str:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    return str(remote)


def test_the_consumer_url_defaults_to_the_deploy_remote(tmp_path: Path) -> None:
    remote = "https://git.test/ops/deploy.git"
    settings = workspace(tmp_path, repo_url_for_consumers=None)
    write_output(settings.output_dir, TWO)
    publish(settings)  # creates the local deploy repo (no clone from the remote needed)
    result = publish(settings.model_copy(update={"deploy_remote": remote}))
    assert result.warnings == ()
    repo = deploy(settings)
    appset = yaml.safe_load((repo / "argocd/applicationset.yaml").read_text())
    assert appset["spec"]["generators"][0]["git"]["repoURL"] == remote
    sync = list(yaml.safe_load_all((repo / "flux/sync.yaml").read_text()))
    assert [d["spec"]["url"] for d in sync if d["kind"] == "GitRepository"] == [remote]


def test_a_deploy_remote_a_cluster_cannot_clone_is_not_named_in_consumer_files(
    tmp_path: Path,
) -> None:
    remote = _bare_remote(tmp_path)  # a local path: git pushes there, Argo CD and Flux cannot
    settings = workspace(tmp_path, repo_url_for_consumers=None, deploy_remote=remote)
    write_output(settings.output_dir, TWO)
    result = publish(settings)
    assert result.warnings
    files = git(deploy(settings), "ls-files").split()
    assert not any(f.startswith(("argocd/", "flux/")) for f in files)


def test_an_explicit_consumer_url_wins_over_the_deploy_remote(tmp_path: Path) -> None:
    remote = _bare_remote(tmp_path)
    settings = workspace(tmp_path, repo_url_for_consumers=CONSUMER_URL, deploy_remote=remote)
    write_output(settings.output_dir, TWO)
    publish(settings)
    text = (deploy(settings) / "argocd/applicationset.yaml").read_text()
    assert CONSUMER_URL in text and remote not in text


def test_an_unusable_consumer_url_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    settings = workspace(tmp_path, repo_url_for_consumers="not a url")
    write_output(settings.output_dir, TWO)
    with pytest.raises(UsageError, match="repo_url_for_consumers"):
        publish(settings)
    assert settings.deploy_repo_path is not None and not settings.deploy_repo_path.exists()

"""The publish plan: which files a publish writes and deletes, and which tenants it reports.

Built on a small compiled output written here (two tenants, each a manifest with one Deployment
and a kustomization) and a deploy work tree that each test's plan is applied to by hand, so every
expectation is a file list worked out from the publishing contract (docs/reference): a tenant is
added, changed (its manifest or its kustomization differ) or removed; a change of the consumer
settings regenerates every consumer file; nothing else writes.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from compiler.publishing.compiled import CompiledOutput
from compiler.publishing.consumers import ConsumerConfig
from compiler.publishing.plan import PublishPlan, plan_publish
from compiler.publishing.records import TenantTotals
from compiler.publishing.state import PublishedState

ARGOCD = ConsumerConfig(
    consumers=("argocd",), repo_url="https://git.test/deploy.git", branch="main"
)
BOTH = ConsumerConfig(
    consumers=("argocd", "flux"), repo_url="https://git.test/deploy.git", branch="main"
)
EMPTY = PublishedState(head=None)


def manifest(tenant_id: str, replicas: int = 2, deployment: str = "chatbot") -> str:
    return (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n"
        f"  name: ecp-ai-{tenant_id}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: {deployment}\n  namespace: ecp-ai-{tenant_id}\n"
        f"spec:\n  replicas: {replicas}\n"
    )


KUSTOMIZATION = "resources:\n- manifest.yaml\n"


class Output:
    """output/ with its index, edited tenant by tenant."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "output"
        self.entries: dict[str, dict[str, object]] = {}

    def put(
        self,
        tenant_id: str,
        text: str,
        kustomization: str = KUSTOMIZATION,
        cost: float = 100.0,
        index_sha: str | None = None,
    ) -> None:
        folder = self.dir / tenant_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.yaml").write_text(text, encoding="utf-8")
        (folder / "kustomization.yaml").write_text(kustomization, encoding="utf-8")
        digest = hashlib.sha256((text + kustomization).encode()).hexdigest()
        self.entries[tenant_id] = {
            "manifest_sha256": index_sha or digest,
            "namespace": f"ecp-ai-{tenant_id}",
            "totals": {"cpu": "2000m", "memory": "4Gi", "gpu": 0},
            "monthly_cost_usd": cost,
        }

    def drop(self, tenant_id: str) -> None:
        shutil.rmtree(self.dir / tenant_id)
        del self.entries[tenant_id]

    def compiled(self) -> CompiledOutput:
        return CompiledOutput("test", "1.33", dict(self.entries))


@pytest.fixture
def out(tmp_path: Path) -> Output:
    output = Output(tmp_path)
    output.put("alpha", manifest("alpha"))
    output.put("beta", manifest("beta"))
    return output


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    work_tree = tmp_path / "deploy"
    work_tree.mkdir()
    return work_tree


def apply(plan: PublishPlan, tree: Path) -> PublishedState:
    """What the commit does to the deploy work tree; the state it records."""
    for rel, data in plan.writes.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(data)
    for rel in plan.deletes:
        target = tree / rel
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    return plan.new_state


def plan(
    out: Output,
    state: PublishedState,
    tree: Path,
    config: ConsumerConfig = ARGOCD,
    only: tuple[str, ...] | None = None,
) -> PublishPlan:
    return plan_publish(out.compiled(), out.dir, state, config, tree, only)


def tenant_files(*tenant_ids: str) -> list[str]:
    return sorted(
        f"tenants/{t}/{name}"
        for t in tenant_ids
        for name in ("kustomization.yaml", "manifest.yaml")
    )


def test_a_first_publish_adds_every_tenant_and_the_application_set(out: Output, tree: Path) -> None:
    first = plan(out, EMPTY, tree)
    assert sorted(first.writes) == ["argocd/applicationset.yaml", *tenant_files("alpha", "beta")]
    assert first.writes["tenants/alpha/manifest.yaml"] == manifest("alpha").encode()
    assert first.writes["tenants/beta/kustomization.yaml"] == KUSTOMIZATION.encode()
    assert first.ids("added") == ("alpha", "beta")
    assert first.deletes == ()
    assert first.previous_totals == {}
    assert first.touches_files
    assert first.new_state.consumers_digest == ARGOCD.digest()
    assert sorted(first.new_state.tenants) == ["alpha", "beta"]
    alpha = first.new_state.tenants["alpha"]
    assert alpha.file_sha == hashlib.sha256(manifest("alpha").encode()).hexdigest()
    assert alpha.kustomization_sha == hashlib.sha256(KUSTOMIZATION.encode()).hexdigest()
    assert alpha.totals == TenantTotals(cpu="2000m", memory="4Gi", gpu=0, monthly_cost_usd=100.0)


def test_an_unchanged_output_plans_nothing(out: Output, tree: Path) -> None:
    state = apply(plan(out, EMPTY, tree), tree)
    again = plan(out, state, tree)
    assert again.writes == {}
    assert again.deletes == ()
    assert again.changes == ()
    assert not again.touches_files
    assert again.new_state.tenants == state.tenants


def test_a_changed_manifest_is_published_and_reports_the_previous_totals(
    out: Output, tree: Path
) -> None:
    state = apply(plan(out, EMPTY, tree), tree)
    out.put("alpha", manifest("alpha", replicas=3), cost=150.0)
    changed = plan(out, state, tree)
    assert sorted(changed.writes) == tenant_files("alpha")
    assert changed.ids("changed") == ("alpha",)
    assert changed.changes[0].totals == TenantTotals(
        cpu="2000m", memory="4Gi", gpu=0, monthly_cost_usd=150.0
    )
    assert changed.previous_totals == {"alpha": state.tenants["alpha"].totals}


def test_a_changed_kustomization_alone_is_published(out: Output, tree: Path) -> None:
    state = apply(plan(out, EMPTY, tree), tree)
    out.put("beta", manifest("beta"), kustomization=KUSTOMIZATION + "namePrefix: x-\n")
    changed = plan(out, state, tree)
    assert changed.ids("changed") == ("beta",)
    assert sorted(changed.writes) == tenant_files("beta")
    assert changed.writes["tenants/beta/kustomization.yaml"].endswith(b"namePrefix: x-\n")


def test_new_totals_with_the_same_files_change_the_state_but_write_nothing(
    out: Output, tree: Path
) -> None:
    state = apply(plan(out, EMPTY, tree), tree)
    sha = str(out.entries["alpha"]["manifest_sha256"])
    out.put("alpha", manifest("alpha"), cost=120.0, index_sha=sha)
    repriced = plan(out, state, tree)
    assert repriced.writes == {}
    assert repriced.changes == ()
    assert repriced.new_state.tenants["alpha"].totals is not None
    assert repriced.new_state.tenants["alpha"].totals.monthly_cost_usd == 120.0


def test_a_rebuilt_state_without_index_shas_reads_the_files_and_finds_them_equal(
    out: Output, tree: Path
) -> None:
    state = apply(plan(out, EMPTY, tree), tree)
    rebuilt = PublishedState(
        head=None,
        consumers_digest=state.consumers_digest,
        tenants={
            t: s.model_copy(update={"index_sha": None, "totals": None})
            for t, s in state.tenants.items()
        },
    )
    again = plan(out, rebuilt, tree)
    assert again.writes == {}
    assert again.changes == ()
    assert again.new_state.tenants["alpha"].index_sha == out.entries["alpha"]["manifest_sha256"]


def test_a_removed_tenant_is_deleted_with_its_flux_file(out: Output, tree: Path) -> None:
    state = apply(plan(out, EMPTY, tree, BOTH), tree)
    assert (tree / "flux" / "tenants" / "beta.yaml").is_file()
    out.drop("beta")
    removed = plan(out, state, tree, BOTH)
    assert removed.ids("removed") == ("beta",)
    assert removed.deletes == ("flux/tenants/beta.yaml", "tenants/beta")
    assert removed.writes == {}
    assert sorted(removed.new_state.tenants) == ["alpha"]
    argocd_only = plan(out, EMPTY, tree)  # a state that predates the flux files
    assert argocd_only.deletes == ("flux",)
    out.drop("alpha")
    assert plan(out, apply(argocd_only, tree), tree).deletes == ("tenants/alpha",)


def test_flux_files_are_written_per_tenant_with_its_deployments(out: Output, tree: Path) -> None:
    first = plan(out, EMPTY, tree, BOTH)
    assert sorted(first.writes) == [
        "argocd/applicationset.yaml",
        "flux/sync.yaml",
        "flux/tenants/alpha.yaml",
        "flux/tenants/beta.yaml",
        *tenant_files("alpha", "beta"),
    ]
    flux = first.writes["flux/tenants/alpha.yaml"].decode()
    assert "name: chatbot" in flux and "namespace: ecp-ai-alpha" in flux
    assert first.new_state.tenants["alpha"].deployments == (("chatbot", "ecp-ai-alpha"),)
    state = apply(first, tree)
    out.put("alpha", manifest("alpha", deployment="voicebot"))
    renamed = plan(out, state, tree, BOTH)
    assert sorted(renamed.writes) == ["flux/tenants/alpha.yaml", *tenant_files("alpha")]
    assert "name: voicebot" in renamed.writes["flux/tenants/alpha.yaml"].decode()


def test_a_manifest_change_that_keeps_the_deployments_leaves_the_flux_file(
    out: Output, tree: Path
) -> None:
    state = apply(plan(out, EMPTY, tree, BOTH), tree)
    out.put("alpha", manifest("alpha", replicas=5))
    changed = plan(out, state, tree, BOTH)
    assert sorted(changed.writes) == tenant_files("alpha")


def test_turning_flux_on_regenerates_every_tenant_s_flux_file(out: Output, tree: Path) -> None:
    state = apply(plan(out, EMPTY, tree, ARGOCD), tree)
    flux_on = plan(out, state, tree, BOTH)
    assert sorted(flux_on.writes) == [
        "flux/sync.yaml",
        "flux/tenants/alpha.yaml",
        "flux/tenants/beta.yaml",
    ]
    assert flux_on.changes == ()  # the tenants' own files did not change
    assert flux_on.new_state.consumers_digest == BOTH.digest()
    state = apply(flux_on, tree)
    assert plan(out, state, tree, BOTH).writes == {}


def test_a_new_repo_url_rewrites_the_shared_files_only(out: Output, tree: Path) -> None:
    state = apply(plan(out, EMPTY, tree, BOTH), tree)
    moved = ConsumerConfig(
        consumers=BOTH.consumers, repo_url="https://git.test/new.git", branch="main"
    )
    replanned = plan(out, state, tree, moved)
    assert sorted(replanned.writes) == ["argocd/applicationset.yaml", "flux/sync.yaml"]
    assert b"https://git.test/new.git" in replanned.writes["flux/sync.yaml"]


def test_turning_flux_off_deletes_the_flux_folder(out: Output, tree: Path) -> None:
    state = apply(plan(out, EMPTY, tree, BOTH), tree)
    flux_off = plan(out, state, tree, ARGOCD)
    assert flux_off.deletes == ("flux",)
    assert flux_off.writes == {}
    argocd_off = ConsumerConfig(consumers=("flux",), repo_url=BOTH.repo_url, branch="main")
    assert plan(out, state, tree, argocd_off).deletes == ("argocd",)


def test_a_stray_flux_file_of_an_unknown_tenant_is_deleted_on_regeneration(
    out: Output, tree: Path
) -> None:
    state = apply(plan(out, EMPTY, tree, ARGOCD), tree)
    (tree / "flux" / "tenants").mkdir(parents=True)
    (tree / "flux" / "tenants" / "ghost.yaml").write_text("old layout\n", encoding="utf-8")
    (tree / "flux" / "tenants" / "alpha.yaml").write_text("old layout\n", encoding="utf-8")
    regenerated = plan(out, state, tree, BOTH)
    assert regenerated.deletes == ("flux/tenants/ghost.yaml",)
    assert "flux/tenants/alpha.yaml" in regenerated.writes


def test_a_plan_of_named_tenants_reads_and_plans_them_alone(out: Output, tree: Path) -> None:
    state = apply(plan(out, EMPTY, tree), tree)
    out.put("alpha", manifest("alpha", replicas=4))
    out.put("beta", manifest("beta", replicas=4))
    named = plan(out, state, tree, only=("alpha",))
    assert named.ids("changed") == ("alpha",)
    assert sorted(named.writes) == tenant_files("alpha")
    assert named.new_state.tenants["beta"] == state.tenants["beta"]  # carried over unread
    assert list(named.new_state.tenants) == ["alpha", "beta"]
    out.drop("beta")
    gone = plan(out, state, tree, only=("beta", "nobody"))
    assert gone.ids("removed") == ("beta",)
    assert gone.deletes == ("tenants/beta",)
    assert list(gone.new_state.tenants) == ["alpha"]


def test_a_plan_of_named_tenants_refuses_to_regenerate_every_consumer_file(
    out: Output, tree: Path
) -> None:
    state = apply(plan(out, EMPTY, tree), tree)
    with pytest.raises(
        ValueError, match=r"^a plan of named tenants cannot regenerate every consumer file$"
    ):
        plan(out, state, tree, BOTH, only=("alpha",))


def test_an_unchanged_tenant_keeps_its_state_as_it_was(out: Output, tree: Path) -> None:
    """Published as it is: the old state object is carried, not rebuilt (a 10,000-tenant
    publish builds no model per unchanged tenant), and the deploy repo's head is kept."""
    state = apply(plan(out, EMPTY, tree), tree).model_copy(update={"head": "abc123"})
    again = plan(out, state, tree)
    assert again.new_state.tenants["alpha"] is state.tenants["alpha"]
    assert again.new_state.head == "abc123"


@pytest.mark.parametrize("config", [ARGOCD, BOTH], ids=["argocd", "argocd-and-flux"])
def test_regenerating_the_consumer_files_reads_no_file_the_index_vouches_for(
    out: Output, tree: Path, config: ConsumerConfig
) -> None:
    """A new repo URL rewrites the shared files; the tenants' own files and their Deployments
    come from the state (the index's sha vouches for them), so removing them from output/ must
    not matter."""
    state = apply(plan(out, EMPTY, tree, config), tree)
    for name in ("manifest.yaml", "kustomization.yaml"):
        (out.dir / "alpha" / name).unlink()
    moved = ConsumerConfig(config.consumers, repo_url="https://git.test/moved.git", branch="main")
    replanned = plan(out, state, tree, moved)
    assert replanned.changes == ()
    assert not any(rel.startswith("tenants/") for rel in replanned.writes)
    assert replanned.new_state.tenants["alpha"].deployments == (state.tenants["alpha"].deployments)


def test_an_index_entry_without_a_string_sha_is_read_and_recorded_without_one(
    out: Output, tree: Path
) -> None:
    out.entries["alpha"]["manifest_sha256"] = 12345
    first = plan(out, EMPTY, tree)
    assert first.new_state.tenants["alpha"].index_sha is None
    assert first.ids("added") == ("alpha", "beta")


def test_a_deployment_without_a_namespace_is_checked_in_the_tenant_s_namespace(
    out: Output, tree: Path
) -> None:
    bare = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: chatbot\nspec: {}\n"
    out.put("alpha", bare)
    first = plan(out, EMPTY, tree, BOTH)
    assert first.new_state.tenants["alpha"].deployments == (("chatbot", "ecp-ai-alpha"),)
    assert "namespace: ecp-ai-alpha" in first.writes["flux/tenants/alpha.yaml"].decode()

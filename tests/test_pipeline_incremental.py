"""compile_workspace on a real temp workspace: incremental rebuilds, removals, determinism, the
index contract, and build-aside-then-swap (no staging folder survives, a crashed one is ignored).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, shipped_tenants

from compiler.output import INDEX_FILE, KUSTOMIZATION, tenant_folders, write_outputs
from compiler.pipeline import CompileReport, compile_workspace
from compiler.settings import Settings
from compiler.spec.ids import namespace_for

INDEX_ENTRY_KEYS = {
    "name",
    "description",
    "namespace",
    "preset",
    "preset_source",
    "deployment_time",
    "quota",
    "gpu_type",
    "totals",
    "monthly_cost_usd",
    "estimated_cost",
    "replicas",
    "service_requirements",
    "sla_target",
    "input_hash",
    "manifest_sha256",
    "documents",
    "pods",
}


def _statuses(report: CompileReport) -> dict[str, str]:
    return {r.tenant_id: r.status for r in report.results}


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _index(settings: Settings) -> dict[str, Any]:
    data = json.loads((settings.output_dir / INDEX_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def compiled(settings: Settings) -> Settings:
    """The workspace after one full compile."""
    report = compile_workspace(settings)
    assert report.ok, report.to_dict()
    assert set(_statuses(report).values()) == {"compiled"}
    return settings


def test_a_second_compile_reports_every_tenant_unchanged(compiled: Settings) -> None:
    report = compile_workspace(compiled)
    assert report.ok
    assert _statuses(report) == dict.fromkeys(shipped_tenants(), "unchanged")


def test_a_second_compile_rewrites_no_file(compiled: Settings) -> None:
    before = _mtimes(compiled.output_dir)
    compile_workspace(compiled)
    assert _mtimes(compiled.output_dir) == before


def test_editing_one_spec_recompiles_only_that_tenant(compiled: Settings) -> None:
    others = [t for t in shipped_tenants() if t != "shop-chat-lite"]
    before = {t: _mtimes(compiled.output_dir / t) for t in others}
    _edit(compiled.tenants_dir / "shop-chat-lite.yaml", "chatbot: 40", "chatbot: 60")

    report = compile_workspace(compiled)

    expected = dict.fromkeys(shipped_tenants(), "unchanged")
    expected["shop-chat-lite"] = "compiled"
    assert _statuses(report) == expected
    assert {t: _mtimes(compiled.output_dir / t) for t in others} == before
    entry = _index(compiled)["tenants"]["shop-chat-lite"]
    assert entry["service_requirements"] == {"chatbot": 60}


def test_a_comment_only_edit_still_recompiles_because_the_hash_covers_spec_bytes(
    compiled: Settings,
) -> None:
    spec = compiled.tenants_dir / "insight-analytics.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    manifest = compiled.output_dir / "insight-analytics" / "manifest.yaml"
    before = manifest.read_bytes()
    report = compile_workspace(compiled)
    assert _statuses(report)["insight-analytics"] == "compiled"
    assert manifest.read_bytes() == before


def test_deleting_a_spec_removes_its_output_folder_and_index_entry(compiled: Settings) -> None:
    (compiled.tenants_dir / "speech-gateway.yaml").unlink()

    report = compile_workspace(compiled)

    assert report.ok
    assert _statuses(report)["speech-gateway"] == "removed"
    assert not (compiled.output_dir / "speech-gateway").exists()
    assert "speech-gateway" not in _index(compiled)["tenants"]
    assert tenant_folders(compiled.output_dir) == [
        t for t in shipped_tenants() if t != "speech-gateway"
    ]


def test_check_writes_nothing_and_reports_a_changed_spec_stale(compiled: Settings) -> None:
    before = _tree(compiled.output_dir)
    _edit(compiled.tenants_dir / "shop-chat-lite.yaml", "chatbot: 40", "chatbot: 41")
    report = compile_workspace(compiled, check=True)
    assert not report.ok
    assert _statuses(report)["shop-chat-lite"] == "stale"
    assert _tree(compiled.output_dir) == before


def test_force_rebuilds_every_tenant_to_the_same_bytes(compiled: Settings) -> None:
    before = _tree(compiled.output_dir)
    report = compile_workspace(compiled, force=True)
    assert set(_statuses(report).values()) == {"compiled"}
    assert _tree(compiled.output_dir) == before


def test_compile_repairs_an_output_manifest_edited_by_hand(compiled: Settings) -> None:
    manifest = compiled.output_dir / "shop-chat-lite" / "manifest.yaml"
    original = manifest.read_bytes()
    manifest.write_bytes(original + b"# edited by hand\n")
    assert _statuses(compile_workspace(compiled, check=True))["shop-chat-lite"] == "stale"

    compile_workspace(compiled)

    assert manifest.read_bytes() == original


def test_compiling_in_two_separate_workspaces_gives_byte_identical_output(
    tmp_path: Path,
) -> None:
    trees = []
    for name in ("first", "second-with-a-longer-path"):
        root = tmp_path / name
        shutil.copytree(REPO / "presets", root / "presets")
        shutil.copytree(REPO / "tenants", root / "tenants")
        report = compile_workspace(Settings(root=root))
        assert report.ok
        trees.append(_tree(root / "output"))
    assert list(trees[0]) == list(trees[1])
    for path, content in trees[0].items():
        assert trees[1][path] == content, f"{path} differs between workspaces"


def test_the_index_lists_every_tenant_with_the_contract_keys(compiled: Settings) -> None:
    index = _index(compiled)
    assert set(index) == {"compiler_version", "kubernetes_version", "tenants"}
    assert index["kubernetes_version"] == compiled.kubernetes_version
    tenants = index["tenants"]
    assert isinstance(tenants, dict)
    assert list(tenants) == shipped_tenants()
    for tenant_id, entry in tenants.items():
        spec = yaml.safe_load((compiled.tenants_dir / f"{tenant_id}.yaml").read_text("utf-8"))
        labelled = {"labels"} if spec.get("labels") else set()  # only a spec with labels
        assert set(entry) == INDEX_ENTRY_KEYS | labelled, tenant_id
        assert entry.get("labels", {}) == (spec.get("labels") or {})
        assert entry["namespace"] == namespace_for(tenant_id)
        manifest = (compiled.output_dir / tenant_id / "manifest.yaml").read_bytes()
        assert entry["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
        assert entry["documents"] == manifest.count(b"\nkind: ") + manifest.startswith(b"kind: ")


def test_every_tenant_folder_holds_a_manifest_and_the_kustomization(compiled: Settings) -> None:
    for tenant_id in shipped_tenants():
        folder = compiled.output_dir / tenant_id
        assert sorted(p.name for p in folder.iterdir()) == ["kustomization.yaml", "manifest.yaml"]
        assert (folder / "kustomization.yaml").read_text(encoding="utf-8") == KUSTOMIZATION


def _hidden(output_dir: Path) -> list[str]:
    return sorted(p.name for p in output_dir.iterdir() if p.name.startswith("."))


def test_a_compile_leaves_no_staging_folder_or_temporary_file(compiled: Settings) -> None:
    assert _hidden(compiled.output_dir) == []
    _edit(compiled.tenants_dir / "shop-chat-lite.yaml", "chatbot: 40", "chatbot: 50")
    (compiled.tenants_dir / "speech-gateway.yaml").unlink()
    compile_workspace(compiled)
    assert _hidden(compiled.output_dir) == []


def test_write_outputs_swaps_folders_in_and_leaves_no_staging_folder(tmp_path: Path) -> None:
    output = tmp_path / "output"
    (output / "gone").mkdir(parents=True)
    (output / "gone" / "manifest.yaml").write_text("old\n", encoding="utf-8")
    (output / "kept").mkdir()
    (output / "kept" / "manifest.yaml").write_text("old\n", encoding="utf-8")

    write_outputs(output, {"kept": "new\n", "fresh": "fresh\n"}, ["gone"], {"tenants": {}})

    assert _hidden(output) == []
    assert tenant_folders(output) == ["fresh", "kept"]
    assert (output / "kept" / "manifest.yaml").read_text(encoding="utf-8") == "new\n"
    assert (output / "fresh" / "kustomization.yaml").read_text(encoding="utf-8") == KUSTOMIZATION
    assert json.loads((output / INDEX_FILE).read_text(encoding="utf-8")) == {"tenants": {}}


def _crashed_staging(output_dir: Path) -> Path:
    staging = output_dir / ".staging-123"
    (staging / "ghost").mkdir(parents=True)
    (staging / "ghost" / "manifest.yaml").write_text("half\n", encoding="utf-8")
    return staging


def test_tenant_folders_ignores_a_staging_folder_left_by_a_crash(compiled: Settings) -> None:
    _crashed_staging(compiled.output_dir)
    assert tenant_folders(compiled.output_dir) == shipped_tenants()


@pytest.mark.parametrize("check", [False, True], ids=["compile", "check"])
def test_compile_ignores_a_staging_folder_left_by_a_crash(compiled: Settings, check: bool) -> None:
    _crashed_staging(compiled.output_dir)
    report = compile_workspace(compiled, check=check)
    assert report.ok, report.to_dict()
    assert sorted(_statuses(report)) == shipped_tenants()
    assert "ghost" not in _index(compiled)["tenants"]


def test_compile_after_a_crash_rebuilds_output_from_an_empty_index(compiled: Settings) -> None:
    before = _tree(compiled.output_dir)
    (compiled.output_dir / INDEX_FILE).unlink()
    report = compile_workspace(compiled)
    assert set(_statuses(report).values()) == {"compiled"}
    assert _tree(compiled.output_dir) == before

"""`ecp init`: a config repo the rest of the CLI works on at once, never overwriting a file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from conftest import REPO, run_ecp


def test_init_scaffolds_a_config_repo_that_new_and_compile_work_on(tmp_path: Path) -> None:
    root = tmp_path / "config"
    run = run_ecp(tmp_path, "init", str(root))
    assert run.code == 0, run.stderr
    shipped = sorted(p.name for p in (REPO / "presets").glob("*.yaml"))
    assert sorted(p.name for p in (root / "presets").glob("*.yaml")) == shipped
    assert (root / "tenants" / "tenant.schema.json").is_file()
    tomllib.loads((root / "ecp.toml").read_text(encoding="utf-8"))
    workflow = yaml.safe_load((root / ".github" / "workflows" / "ecp.yml").read_text())
    steps = [s.get("run", "") for s in workflow["jobs"]["check"]["steps"]]
    assert "ecp compile --check" in steps
    assert any("--format sarif" in s for s in steps)
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert [h["id"] for h in hooks] == ["ecp-compile-check", "ecp-validate-output"]
    assert run_ecp(root, "new", "shop", "--service", "chatbot=10").code == 0
    assert run_ecp(root, "compile").code == 0
    assert run_ecp(root, "validate", str(root / "output")).code == 0


def test_init_keeps_files_that_exist(tmp_path: Path) -> None:
    (tmp_path / "ecp.toml").write_text('kubernetes_version = "1.31"\n', encoding="utf-8")
    run = run_ecp(tmp_path, "init")
    assert run.code == 0, run.stderr
    assert "kept    ecp.toml" in run.stdout
    assert (tmp_path / "ecp.toml").read_text(encoding="utf-8") == 'kubernetes_version = "1.31"\n'
    again = run_ecp(tmp_path, "init")
    assert "created" not in again.stdout

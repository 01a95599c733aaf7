"""The repo's own tenants: output/ is committed, current, and consumable by kubectl kustomize."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from compiler.pipeline import compile_workspace
from compiler.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.stem for p in (ROOT / "tenants").glob("*.yaml"))
KUBECTL = shutil.which("kubectl")


def test_the_repo_ships_the_reference_tenants_and_three_more_shapes() -> None:
    assert {"global-call-center", "my-ai-service"} <= set(SHIPPED)
    assert len(SHIPPED) >= 5


def test_committed_output_is_what_the_specs_compile_to() -> None:
    report = compile_workspace(Settings.load(ROOT), check=True)
    stale = [r.tenant_id for r in report.results if r.status != "up-to-date"]
    assert not stale, f"output/ is stale for {stale}: run `make compile` and commit output/"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine")
@pytest.mark.parametrize("tenant_id", SHIPPED)
def test_kubectl_kustomize_builds_every_shipped_tenant(tenant_id: str) -> None:
    assert KUBECTL is not None
    built = subprocess.run(
        [KUBECTL, "kustomize", str(ROOT / "output" / tenant_id)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert built.returncode == 0, built.stderr
    ours = list(yaml.safe_load_all((ROOT / "output" / tenant_id / "manifest.yaml").read_text()))
    theirs = list(yaml.safe_load_all(built.stdout))
    key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
    assert sorted(map(key, theirs)) == sorted(map(key, ours))
    assert sorted(theirs, key=key) == sorted(ours, key=key)

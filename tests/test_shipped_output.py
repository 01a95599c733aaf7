"""The repo's own tenants: output/ is committed, current, and consumable by kubectl kustomize."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from required_tools import require_tool

from compiler.pipeline import compile_workspace
from compiler.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.stem for p in (ROOT / "tenants").glob("*.yaml"))


def test_the_repo_ships_the_reference_tenants_and_three_more_shapes() -> None:
    assert {"global-call-center", "my-ai-service"} <= set(SHIPPED)
    assert len(SHIPPED) >= 5


def test_committed_output_is_what_the_specs_compile_to() -> None:
    report = compile_workspace(Settings.load(ROOT), check=True)
    stale = [r.tenant_id for r in report.results if r.status != "up-to-date"]
    assert not stale, f"output/ is stale for {stale}: run `make compile` and commit output/"


@pytest.mark.parametrize("tenant_id", SHIPPED)
def test_kubectl_kustomize_builds_every_shipped_tenant(tenant_id: str) -> None:
    built = subprocess.run(
        [require_tool("kubectl"), "kustomize", str(ROOT / "output" / tenant_id)],
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


def test_the_committed_spec_schema_is_current() -> None:
    from compiler.spec.schema import tenant_schema_text

    committed = (ROOT / "tenants" / "tenant.schema.json").read_text(encoding="utf-8")
    assert committed == tenant_schema_text(), "run `ecp schema` and commit tenants/"


@pytest.mark.parametrize("tenant_id", SHIPPED)
def test_editors_accept_every_shipped_spec_against_the_schema(tenant_id: str) -> None:
    import json

    import jsonschema

    schema = json.loads((ROOT / "tenants" / "tenant.schema.json").read_text(encoding="utf-8"))
    spec = yaml.safe_load((ROOT / "tenants" / f"{tenant_id}.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(spec)


@pytest.mark.parametrize(
    "patch",
    [
        {"tenant_id": "UPPER"},
        {"sla_target": {"availability": "fast"}},
        {"service_requirements": {"callbot": -1}},
        {"colour": "blue"},
    ],
    ids=["bad-id", "bad-availability", "negative-count", "unknown-key"],
)
def test_editors_reject_what_the_compiler_rejects(patch: dict[str, object]) -> None:
    import json

    import jsonschema

    schema = json.loads((ROOT / "tenants" / "tenant.schema.json").read_text(encoding="utf-8"))
    spec = yaml.safe_load((ROOT / "tenants" / "my-ai-service.yaml").read_text(encoding="utf-8"))
    spec.update(patch)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(spec)


def test_compiling_the_repo_changes_no_committed_byte(tmp_path: Path) -> None:
    """`make run` on a fresh clone must leave `git status` clean: output/ (index.json's input
    hashes included) is committed exactly as the current compiler writes it."""
    for folder in ("presets", "tenants", "output"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    compile_workspace(Settings.load(tmp_path))
    for path in sorted((ROOT / "output").rglob("*")):
        if path.is_file():
            copy = tmp_path / "output" / path.relative_to(ROOT / "output")
            assert copy.read_bytes() == path.read_bytes(), (
                f"{path.relative_to(ROOT)} changes when compiled: `make compile`, commit output/"
            )

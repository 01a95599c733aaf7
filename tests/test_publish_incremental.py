"""A publish after one write reads only that tenant's files; Deployment names come off the lines
of our own manifests and match a full YAML parse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_publish_support import git, many_tenants, workspace, write_output

from compiler.publishing import publish
from compiler.publishing.consumers import deployments_in

REPO = Path(__file__).resolve().parent.parent


def _parsed(text: str, namespace: str) -> list[tuple[str, str]]:
    found = []
    for doc in yaml.safe_load_all(text):
        if isinstance(doc, dict) and doc.get("kind") == "Deployment":
            meta = doc["metadata"]
            found.append((str(meta["name"]), str(meta.get("namespace") or namespace)))
    return sorted(found)


@pytest.mark.parametrize(
    "manifest",
    sorted((REPO / "output").glob("*/manifest.yaml")),
    ids=lambda p: p.parent.name,
)
def test_deployment_names_read_off_the_lines_equal_a_full_parse(manifest: Path) -> None:
    text = manifest.read_text("utf-8")
    assert deployments_in(text, "fallback") == _parsed(text, "fallback")


@pytest.mark.parametrize(
    "text",
    [
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: "quoted"\n  namespace: ns\n',
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: flow, namespace: ns}\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    name: nope\n  name: x\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: no-namespace\n",
    ],
    ids=["quoted", "flow-style", "nested-name-key", "no-namespace"],
)
def test_unusual_deployment_metadata_is_parsed_not_guessed(text: str) -> None:
    assert deployments_in(text, "fallback") == _parsed(text, "fallback")


def test_publishing_one_changed_tenant_reads_no_other_tenants_files(tmp_path: Path) -> None:
    settings = workspace(tmp_path)
    tenants = many_tenants(20)
    write_output(settings.output_dir, tenants)
    publish(settings)
    # Another tenant's compiled files vanish: a publish that read them would fail.
    (settings.output_dir / "tenant-0003" / "kustomization.yaml").unlink()
    (settings.output_dir / "tenant-0003" / "manifest.yaml").unlink()
    tenants["tenant-0007"] = {"callbot": 9}
    write_output(settings.output_dir, tenants)
    (settings.output_dir / "tenant-0003" / "kustomization.yaml").unlink()
    (settings.output_dir / "tenant-0003" / "manifest.yaml").unlink()
    result = publish(settings)
    assert result.changed == ("tenant-0007",)
    deploy = settings.deploy_repo_path
    assert deploy is not None
    assert "tenant-0003" in git(deploy, "ls-files", "tenants/tenant-0003")

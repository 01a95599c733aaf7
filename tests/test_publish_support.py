"""Helpers for the publishing tests and bench: synthetic compiled output in the contract's format.

`write_output` writes output/<id>/{manifest.yaml,kustomization.yaml}, and output/index.json with the
compiler's own writer (one line per tenant), so publishing is tested without compiling specs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

from compiler.output import index_text
from compiler.publishing.compiled import read_compiled_output
from compiler.settings import Settings

KUSTOMIZATION = "\n".join(
    [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        "- manifest.yaml",
        "",
    ]
)
CPU_PER_REPLICA_M = 500
MEMORY_PER_REPLICA_MIB = 1024
GPU_SERVICES = ("stt", "tts")


def git(cwd: Path, *args: str) -> str:
    """Run real git in `cwd` and return stdout (tests read repos with the git CLI itself)."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout


def manifest_text(tenant_id: str, replicas: Mapping[str, int], revision: int = 0) -> str:
    namespace = f"ecp-ai-{tenant_id}"
    docs = [
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
        f"  annotations:\n    ecp.ai/revision: '{revision}'\n"
    ]
    for service, count in sorted(replicas.items()):
        docs.append(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
            f"  name: {service}\n  namespace: {namespace}\nspec:\n  replicas: {count}\n"
            f"  selector:\n    matchLabels:\n      app: {service}\n  template:\n"
            f"    metadata:\n      labels:\n        app: {service}\n    spec:\n"
            f"      containers:\n      - name: {service}\n"
            f"        image: registry.example.com/ecp/{service}:1.{revision}.0\n"
            "        resources:\n          requests:\n            cpu: 500m\n"
            "            memory: 1Gi\n" + "        # padding to a realistic size\n" * 20
        )
        docs.append(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {service}-service\n"
            f"  namespace: {namespace}\nspec:\n  selector:\n    app: {service}\n"
            "  ports:\n  - port: 8080\n"
        )
    return "---\n".join(docs)


def index_entry(tenant_id: str, replicas: Mapping[str, int], manifest: str) -> dict[str, object]:
    pods = sum(replicas.values())
    gpu = sum(n for s, n in replicas.items() if s in GPU_SERVICES)
    cpu_m, mem_mib = pods * CPU_PER_REPLICA_M, pods * MEMORY_PER_REPLICA_MIB
    return {
        "name": tenant_id,
        "description": "",
        "namespace": f"ecp-ai-{tenant_id}",
        "preset": "small" if pods < 10 else "large",
        "preset_source": "recommended",
        "gpu_type": "t4",
        "quota": {
            "cpu": f"{cpu_m * 2}m",
            "memory": f"{mem_mib * 2}Mi",
            "gpu": gpu,
            "storage": "0.1TB",
        },
        "totals": {
            "cpu": f"{cpu_m}m",
            "memory": f"{mem_mib // 1024}Gi",
            "gpu": gpu,
            "storage": "0.1TB",
            "cpu_millicores": cpu_m,
            "memory_mib": mem_mib,
            "storage_gb": 100,
        },
        "monthly_cost_usd": round(pods * 41.5 + gpu * 250.0, 2),
        "estimated_cost": f"${pods * 41.5 + gpu * 250.0:,.0f}/month",
        "replicas": dict(sorted(replicas.items())),
        "service_requirements": dict(replicas),
        "sla_target": {"availability": "99.9%", "response_time": "200ms", "concurrent_users": None},
        "input_hash": hashlib.sha256(json.dumps(replicas, sort_keys=True).encode()).hexdigest(),
        "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
        "documents": 1 + 2 * len(replicas),
        "pods": pods,
    }


def write_output(
    output_dir: Path,
    tenants: Mapping[str, Mapping[str, int]],
    revisions: Mapping[str, int] | None = None,
) -> None:
    """Replace output/ with exactly `tenants` (id -> replicas per service)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.iterdir():
        if stale.is_dir() and stale.name not in tenants:
            for f in stale.iterdir():
                f.unlink()
            stale.rmdir()
    entries = {}
    for tenant_id, replicas in tenants.items():
        manifest = manifest_text(tenant_id, replicas, (revisions or {}).get(tenant_id, 0))
        folder = output_dir / tenant_id
        folder.mkdir(exist_ok=True)
        (folder / "manifest.yaml").write_text(manifest, encoding="utf-8")
        (folder / "kustomization.yaml").write_text(KUSTOMIZATION, encoding="utf-8")
        entries[tenant_id] = index_entry(tenant_id, replicas, manifest)
    index = {"compiler_version": "0.1.0", "kubernetes_version": "1.33", "tenants": entries}
    (output_dir / "index.json").write_text(index_text(index), encoding="utf-8")


def many_tenants(count: int) -> dict[str, dict[str, int]]:
    return {f"tenant-{i:04d}": {"callbot": 1 + i % 3, "chatbot": 2} for i in range(count)}


CONSUMER_URL = "https://git.test/platform/ecp-deploy.git"


def workspace(root: Path, **overrides: object) -> Settings:
    """Settings for a workspace in `root` with fixed, test-only values."""
    values: dict[str, object] = {"root": root, "git_author_name": "ecp-test"}
    values["git_author_email"] = "ecp-test@example.com"
    # what Argo CD and Flux would clone (without one, publish writes no consumer files)
    values["repo_url_for_consumers"] = CONSUMER_URL
    values.update(overrides)
    return Settings.model_validate(values)


def test_synthetic_output_satisfies_the_compiled_output_contract(tmp_path: Path) -> None:
    write_output(tmp_path / "output", {"acme": {"callbot": 2, "stt": 1}})
    compiled = read_compiled_output(tmp_path / "output")
    assert list(compiled.tenants) == ["acme"]
    assert compiled.totals("acme").gpu == 1
    assert compiled.totals("acme").cpu == "1500m"


def test_synthetic_index_has_one_line_per_tenant_like_the_compilers(tmp_path: Path) -> None:
    write_output(tmp_path / "output", {"a": {"callbot": 1}, "b": {"chatbot": 2}})
    lines = (tmp_path / "output" / "index.json").read_text(encoding="utf-8").splitlines()
    assert [line.split(":")[0].strip() for line in lines if '"manifest_sha256"' in line] == [
        '"a"',
        '"b"',
    ]


def test_rewriting_output_drops_folders_of_tenants_no_longer_listed(tmp_path: Path) -> None:
    write_output(tmp_path / "output", {"a": {"callbot": 1}, "b": {"callbot": 1}})
    write_output(tmp_path / "output", {"a": {"callbot": 1}})
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == ["a", "index.json"]

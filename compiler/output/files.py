"""Write compiled tenants to output/: build aside, then swap, so no reader sees half a tenant.

Each tenant's folder is written under output/.staging-<pid>/ and renamed into place; index.json is
replaced last, atomically. A crash leaves every tenant folder either old or new, never mixed, and
an index that at worst lists an older hash (which the next compile simply redoes).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from compiler.spec.ids import check_tenant_id

INDEX_FILE = "index.json"
MANIFEST_FILE = "manifest.yaml"
KUSTOMIZATION_FILE = "kustomization.yaml"
KUSTOMIZATION = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\n"
    "kind: Kustomization\n"
    "resources:\n- manifest.yaml\n"
)


def index_text(index: Mapping[str, Any]) -> str:
    """index.json with one line per tenant: a changed tenant is a one-line diff, and the
    C JSON encoder (used only without indent) writes 1,000 tenants in milliseconds."""
    dump = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(", ", ": ")).encode
    head = {k: v for k, v in index.items() if k != "tenants"}
    lines = [f"  {dump(k)}: {dump(v)}," for k, v in sorted(head.items())]
    tenants = sorted(index.get("tenants", {}).items())
    body = ",\n".join(f"    {dump(k)}: {dump(v)}" for k, v in tenants)
    lines.append('  "tenants": {' + (f"\n{body}\n  " if tenants else "") + "}")
    return "{\n" + "\n".join(lines) + "\n}\n"


def read_index(output_dir: Path) -> dict[str, Any]:
    """output/index.json, or an empty index when it is missing or unreadable (then all rebuild)."""
    return index_from_text(read_index_text(output_dir))


def read_index_text(output_dir: Path) -> str | None:
    try:
        return (output_dir / INDEX_FILE).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def index_from_text(text: str | None) -> dict[str, Any]:
    """The index in `text`, or an empty one when there is none or it is not an index."""
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return {"tenants": {}}
    if not isinstance(data, dict) or not isinstance(data.get("tenants"), dict):
        return {"tenants": {}}
    return data


def _write_file(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _replace_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _write_file(tmp, text)
    tmp.replace(path)


def write_outputs(
    output_dir: Path,
    manifests: Mapping[str, str],
    removed: Iterable[str],
    index: Mapping[str, Any] | str,
) -> None:
    """Swap in each tenant's folder (manifest, kustomization), drop removed ones, then the index
    (a mapping, or the text IndexLines made of it)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = output_dir / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for tenant_id in manifests:
            check_tenant_id(tenant_id)
        jobs = [(staging / tenant_id, manifest) for tenant_id, manifest in manifests.items()]
        if len(jobs) < _PARALLEL_FROM:
            for folder, manifest in jobs:
                _write_folder(folder, manifest)
        else:
            # Creating files waits on the filesystem's journal more than on the CPU; a few
            # threads overlap those waits (1,000 tenants: 0.75 s -> 0.25 s measured here).
            with ThreadPoolExecutor(_WRITERS) as pool:
                list(pool.map(lambda job: _write_folder(*job), jobs))
        for tenant_id in manifests:
            _swap(staging / tenant_id, output_dir / tenant_id, staging)
        for tenant_id in removed:
            target = output_dir / check_tenant_id(tenant_id)
            if target.is_dir():
                trash = staging / f".old-{tenant_id}"
                target.replace(trash)
        text = index if isinstance(index, str) else index_text(index)
        _replace_atomically(output_dir / INDEX_FILE, text)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


_PARALLEL_FROM = 32
_WRITERS = 8


def _write_folder(folder: Path, manifest: str) -> None:
    folder.mkdir()
    _write_file(folder / MANIFEST_FILE, manifest)
    _write_file(folder / KUSTOMIZATION_FILE, KUSTOMIZATION)


def _swap(new: Path, target: Path, staging: Path) -> None:
    if target.exists():
        trash = staging / f".old-{target.name}"
        target.replace(trash)
    new.replace(target)


def tenant_folders(output_dir: Path) -> list[str]:
    """Tenant IDs with a folder in output/ (staging folders and files excluded)."""
    try:
        with os.scandir(output_dir) as found:  # d_type: no stat per entry (1,000 tenants: ~40 ms)
            return sorted(e.name for e in found if not e.name.startswith(".") and e.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []

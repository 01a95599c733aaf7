"""Reads the compiled output contract: output/index.json and output/<tenant_id>/ folders.

Input: an output directory (or index.json text taken from a git tree). Output: a CompiledOutput
whose tenant IDs are checked DNS-1123 labels, so they are safe to join into deploy-repo paths.
Publishing relies on this contract only, never on compiler internals. Read-only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.errors import DeploymentFailed, Location, ValidationFailed
from compiler.output.index_lines import IndexLines
from compiler.publishing.records import TenantTotals
from compiler.spec.ids import check_tenant_id

INDEX_FILE = "index.json"
MANIFEST_FILE = "manifest.yaml"
KUSTOMIZATION_FILE = "kustomization.yaml"


@dataclass(frozen=True)
class CompiledOutput:
    """The compiled index: one entry per tenant, as output/index.json holds it."""

    compiler_version: str
    kubernetes_version: str
    tenants: Mapping[str, Mapping[str, Any]]

    def totals(self, tenant_id: str) -> TenantTotals:
        return totals_of(self.tenants[tenant_id])


EMPTY_OUTPUT = CompiledOutput(compiler_version="", kubernetes_version="", tenants={})


def parse_index(text: str | bytes, source: str) -> CompiledOutput:
    """Parse index.json text; every tenant key must be a valid tenant ID."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DeploymentFailed(
            f"not valid JSON ({exc}); run `ecp compile` again",
            location=Location(file=source),
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("tenants"), dict):
        raise DeploymentFailed(
            "no 'tenants' object; it is not a compiled index",
            location=Location(file=source),
        )
    tenants: dict[str, Mapping[str, Any]] = {}
    for tenant_id, entry in data["tenants"].items():
        try:
            check_tenant_id(tenant_id, location=Location(file=source, field="tenants"))
        except ValidationFailed as exc:
            raise DeploymentFailed(exc.message, details=exc.details, location=exc.location) from exc
        if not isinstance(entry, dict):
            raise DeploymentFailed(
                f"the entry for {tenant_id!r} is not an object",
                location=Location(file=source, field=f"tenants.{tenant_id}"),
            )
        tenants[tenant_id] = entry
    return CompiledOutput(
        compiler_version=str(data.get("compiler_version", "")),
        kubernetes_version=str(data.get("kubernetes_version", "")),
        tenants=tenants,
    )


def read_compiled_output(output_dir: Path) -> CompiledOutput:
    """The index of `output_dir`; an absent index means nothing was compiled yet (an error)."""
    index = output_dir / INDEX_FILE
    try:
        text = index.read_bytes()
    except FileNotFoundError as exc:
        raise DeploymentFailed(
            f"{index} does not exist; run `ecp compile` before publishing",
            details={"file": str(index)},
        ) from exc
    compiled = parse_index(text, str(index))
    # One directory listing instead of a stat per file: this runs on every publish of 1,000.
    folders = {entry.name for entry in os.scandir(output_dir) if entry.is_dir()}
    missing = sorted(set(compiled.tenants) - folders)
    if missing:
        raise DeploymentFailed(
            f"{output_dir} has no folder for {', '.join(missing[:5])} although index.json lists "
            "them; run `ecp compile` again",
            location=Location(file=str(output_dir / missing[0])),
        )
    return compiled


def read_compiled_entries(output_dir: Path, tenant_ids: Collection[str]) -> CompiledOutput:
    """The index entries of `tenant_ids` only (those it lists), read line by line from an
    index in `index_text`'s layout (a whole-file parse otherwise), each with its folder checked:
    a publish of k named tenants costs k entries, not the workspace."""
    index = output_dir / INDEX_FILE
    try:
        text = index.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        text = None
    lines = IndexLines.parse(text) if text is not None else None
    if lines is None:
        whole = read_compiled_output(output_dir)
        named = {t: e for t, e in whole.tenants.items() if t in tenant_ids}
        return CompiledOutput(whole.compiler_version, whole.kubernetes_version, named)
    tenants: dict[str, Mapping[str, Any]] = {}
    for tenant_id in sorted(tenant_ids):
        check_tenant_id(tenant_id)
        entry = lines.entry(tenant_id)
        if entry is None:
            continue
        if not os.path.isdir(os.path.join(output_dir, tenant_id)):  # noqa: PTH112,PTH118
            raise DeploymentFailed(
                f"{output_dir} has no folder for {tenant_id} although index.json lists it; "
                "run `ecp compile` again",
                location=Location(file=str(output_dir / tenant_id)),
            )
        tenants[tenant_id] = entry
    head = lines.head_values()
    return CompiledOutput(
        compiler_version=str(head.get("compiler_version", "")),
        kubernetes_version=str(head.get("kubernetes_version", "")),
        tenants=tenants,
    )


def read_tenant_file(output_dir: Path, tenant_id: str, name: str) -> bytes:
    """One compiled file; a missing one means output/ is inconsistent with its index."""
    path = os.path.join(output_dir, tenant_id, name)  # noqa: PTH118 - pathlib costs 5x per call
    try:
        with open(path, "rb") as handle:  # noqa: PTH123
            return handle.read()
    except FileNotFoundError as exc:
        raise DeploymentFailed(
            f"{path} is missing although index.json lists {tenant_id!r}; run `ecp compile` again",
            details={"file": path},
        ) from exc


def totals_of(entry: Mapping[str, Any]) -> TenantTotals:
    """The reviewer-facing totals of one index entry (missing fields read as zero)."""
    cpu, memory, gpu, cost = totals_fields(entry)
    return TenantTotals(cpu=cpu, memory=memory, gpu=gpu, monthly_cost_usd=cost)


def totals_fields(entry: Mapping[str, Any]) -> tuple[str, str, int, float]:
    """TenantTotals' fields of one index entry, without building the model (a publish compares
    them for every unchanged tenant)."""
    totals = entry.get("totals") or {}
    return (
        str(totals.get("cpu", "0m")),
        str(totals.get("memory", "0Mi")),
        int(totals.get("gpu", 0) or 0),
        round(float(entry.get("monthly_cost_usd", 0.0) or 0.0), 2),
    )

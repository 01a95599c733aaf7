"""The dry run of an update: what PUT /tenants/{id} with this body would compile to, unwritten.

Input: the workspace, a tenant ID, the update's patch (as the PUT would merge it) and an optional
If-Match. Output: a Preview - the deltas (replicas, CPU, memory, GPU, monthly cost, preset) and a
unified diff of the tenant's manifest, from the compiled output on disk now to the edited spec
compiled in memory. The same merge, validation and compile as the write, through the pipeline's
own build; no spec, output, index or git is touched.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from compiler.errors import ManifestInvalid, PreconditionFailed, TenantNotFound
from compiler.output import INDEX_FILE, MANIFEST_FILE
from compiler.pipeline import Workspace as Compiler
from compiler.publishing.diff import FieldDelta, entry_deltas
from compiler.service.read_model import etag_of
from compiler.service.state import Workspace
from compiler.service.tenant_writes import current_spec, matches_if_match
from compiler.spec.edit import apply_update
from compiler.spec.loader import parse_spec

MAX_DIFF_LINES = 2000


class Preview(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tenant_id: str
    dry_run: bool = True
    changed: bool  # the spec text would change
    etag: str  # the spec this preview was computed from (send it as If-Match to save it)
    estimated_cost: dict[str, str | None]  # {"before": ..., "after": ...}
    replicas: dict[str, dict[str, int | None]]  # service -> {"before", "after"}
    deltas: tuple[FieldDelta, ...]
    manifest_diff: str  # unified diff, output/<id>/manifest.yaml now -> after the edit
    diff_truncated: bool
    warnings: tuple[str, ...] = ()


def preview_update(
    ws: Workspace, tenant_id: str, patch: Mapping[str, Any], if_match: str | None
) -> Preview:
    old = current_spec(ws, tenant_id)
    if old is None:
        raise TenantNotFound(f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id})
    _check_if_match(tenant_id, old, if_match)
    source = f"{tenant_id}.yaml"
    text = apply_update(old.decode("utf-8"), patch, source)
    spec = parse_spec(text, source, expected_id=tenant_id)
    compiler = Compiler(ws.settings)
    build = compiler.build(spec, input_hash=compiler.input_hash(text))
    errors = [f for f in build.findings if f.severity == "error"]
    if errors:
        raise ManifestInvalid(
            str(errors[0]),
            details={
                "errors": [
                    {"file": source, "field": f.path, "message": str(f), "code": "MANIFEST_INVALID"}
                    for f in errors
                ],
                "field": errors[0].path,
            },
        )
    before: Mapping[str, Any] = ws.read.index().get(tenant_id, {})
    after = build.index_entry
    old_manifest = _read(ws, tenant_id)
    rel = f"{tenant_id}/{MANIFEST_FILE}"  # output-relative: server paths stay on the server
    lines = list(
        difflib.unified_diff(
            old_manifest.splitlines(keepends=True),
            build.manifest_text.splitlines(keepends=True),
            fromfile=f"a/{rel}",
            tofile=f"b/{rel}",
        )
    )
    old_replicas, new_replicas = before.get("replicas") or {}, after.get("replicas") or {}
    return Preview(
        tenant_id=tenant_id,
        changed=text.encode("utf-8") != old,
        etag=etag_of(old),
        estimated_cost={"before": before.get("estimated_cost"), "after": after["estimated_cost"]},
        replicas={
            name: {"before": old_replicas.get(name), "after": new_replicas.get(name)}
            for name in sorted(old_replicas.keys() | new_replicas.keys())
        },
        deltas=entry_deltas(before, after),
        manifest_diff="".join(_with_newlines(lines[:MAX_DIFF_LINES])),
        diff_truncated=len(lines) > MAX_DIFF_LINES,
        warnings=tuple(str(f) for f in build.findings if f.severity == "warning"),
    )


def _check_if_match(tenant_id: str, old: bytes, if_match: str | None) -> None:
    """As the write checks it (the same RFC 9110 comparison): a preview of a spec someone has
    changed since is refused too."""
    current = etag_of(old)
    if not matches_if_match(current, if_match):
        raise PreconditionFailed(
            f"{tenant_id} changed since the ETag given in If-Match; GET it again",
            details={"tenant_id": tenant_id, "current_etag": current},
        )


def _read(ws: Workspace, tenant_id: str) -> str:
    """The compiled manifest now; "" before the tenant's first compile (a diff of all lines)."""
    if not (ws.settings.output_dir / INDEX_FILE).is_file():
        return ""
    try:
        return (ws.settings.output_dir / tenant_id / MANIFEST_FILE).read_text("utf-8")
    except FileNotFoundError:
        return ""


def _with_newlines(lines: list[str]) -> list[str]:
    return [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    ]

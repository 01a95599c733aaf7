"""compile_workspace: the selected specs to output/, rebuilding only what changed.

A tenant is unchanged when its input hash (spec bytes, presets, compiler sources, Kubernetes
version) matches index.json and its output files are intact; the rest are built (in forked
workers on large runs), then written aside and swapped in. One bad spec never stops the others.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from compiler import __version__
from compiler.errors import Location, OrchestratorError
from compiler.output import (
    KUSTOMIZATION,
    KUSTOMIZATION_FILE,
    MANIFEST_FILE,
    index_from_text,
    read_index_text,
    tenant_folders,
    write_outputs,
)
from compiler.output.index_lines import IndexLines
from compiler.pipeline.forking import FORK_THRESHOLD, Progress, map_forked
from compiler.pipeline.proofs import Proofs, Stat, Stats, stat_of
from compiler.pipeline.report import CompileReport, Status, TenantResult
from compiler.pipeline.workspace import TenantBuild, Workspace
from compiler.rendering import RenderOptions
from compiler.settings import Settings
from compiler.spec.ids import check_tenant_id
from compiler.spec.loader import (
    MAX_SPEC_BYTES,
    line_of,
    parse_spec,
    read_spec_text,
    spec_files,
)
from compiler.validating.findings import Finding


def _error_record(exc: OrchestratorError, source: str, text: str | None) -> list[dict[str, Any]]:
    if isinstance(exc.details.get("errors"), list):
        return [{**e, "code": exc.code} for e in exc.details["errors"]]
    loc = exc.location or Location()
    field_path = loc.field or exc.details.get("field")
    line = loc.line
    if line is None and field_path and text is not None:
        line = line_of(text, tuple(field_path.split(".")))
    return [
        {
            "file": loc.file or source,
            "line": line,
            "field": field_path,
            "message": exc.message,
            "code": exc.code,
        }
    ]


def _schema_errors(findings: list[Finding], source: str) -> list[dict[str, Any]]:
    return [
        {
            "file": source,
            "line": None,
            "field": f.path,
            "message": str(f),
            "code": "MANIFEST_INVALID",
        }
        for f in findings
        if f.severity == "error"
    ]


def compile_workspace(
    settings: Settings,
    tenant_ids: Iterable[str] | None = None,
    *,
    check: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    workers: int = 1,
    workspace: Workspace | None = None,
    fork_from: int = FORK_THRESHOLD,
) -> CompileReport:
    """Compile the selected tenants (all when None); with check, write nothing and report
    tenants whose output differs from what their spec compiles to.

    workers > 1 forks that many processes for large runs: only for single-threaded callers
    (the CLI), never inside a threaded server, where fork would copy other threads' locks.
    `workspace` is a Workspace already loaded for these settings and the presets as they are.
    `fork_from`: how many tenants each forked worker must have to be worth its fork.
    """
    started = time.perf_counter()
    # A long-lived caller (the API's compile worker) passes the Workspace it loaded for
    # `settings` while presets/ is unchanged: loading one costs ~80 ms a batch.
    workspace = Workspace(settings) if workspace is None else workspace
    gc_was_enabled = gc.isenabled()
    # Bulk phase: the collector's full scans of a growing heap cost more than they save.
    gc.disable()
    try:
        output_dir = settings.output_dir
        # A compile of named tenants (the API's writes) reads their index lines and spec files
        # only, so its cost does not grow with the workspace; a full compile reads everything.
        lines = None if tenant_ids is None else _index_lines(output_dir)
        # A full compile proves unchanged tenants by their files' stat where an earlier one left
        # proofs (proofs.py), and writes index.json by editing the changed lines only.
        proofs = None
        if lines is not None:
            selected = _select({}, tenant_ids)
            head = lines.head_values()
            specs = _named_specs(settings.tenants_dir, selected)
            old_entries: dict[str, Any] = {
                t: entry for t in selected if (entry := lines.entry(t)) is not None
            }
        else:
            head, lines = _read_index(output_dir)
            old_entries = dict(head["tenants"])
            specs = {p.stem: p for p in spec_files(settings.tenants_dir)}
            selected = _select(specs, tenant_ids)
            if tenant_ids is None and not check:
                proofs = Proofs.load(settings.cache_dir, workspace.salt)
        spec_stats: dict[str, Stat] = {}
        results: list[TenantResult] = []
        manifests: dict[str, str] = {}
        entries = dict(old_entries)
        pending: list[str] = []
        for tenant_id in selected:
            path = specs.get(tenant_id)
            # Statted before it is read, so a later edit cannot hide behind this stat.
            seen = None if proofs is None or path is None else stat_of(str(path))
            fresh = (
                None
                if check or force
                else _unchanged(
                    workspace,
                    tenant_id,
                    path,
                    old_entries.get(tenant_id),
                    output_dir,
                    proofs,
                    seen,
                )
            )
            if fresh is None:
                pending.append(tenant_id)
                if seen is not None:
                    spec_stats[tenant_id] = seen
            else:
                results.append(fresh)

        def one(tenant_id: str) -> TenantResult:
            return _compile_one(
                workspace,
                tenant_id,
                specs.get(tenant_id),
                old_entries.get(tenant_id),
                check,
                output_dir,
            )

        # The first build compiles every schema validator it meets; doing it before the fork
        # lets the workers inherit them instead of each compiling its own.
        warm = [one(pending[0])] if pending and workers > 1 else []
        forked = map_forked(one, pending[len(warm) :], workers, progress, threshold=fork_from)
        for result in warm + forked:
            results.append(result)
            if result.status == "compiled" and result.entry is not None:
                entries[result.tenant_id] = result.entry
                manifests[result.tenant_id] = result.entry.pop("_manifest")
    finally:
        if gc_was_enabled:
            gc.enable()
    removed = _removed(specs, tenant_ids, entries, output_dir)
    for tenant_id in removed:
        entries.pop(tenant_id, None)
        results.append(TenantResult(tenant_id, "stale" if check else "removed"))
    if not check and (
        manifests or removed or entries != old_entries or _index_outdated(head, settings)
    ):
        new_head = {
            "compiler_version": __version__,
            "kubernetes_version": settings.kubernetes_version,
        }
        index: dict[str, Any] | str
        if lines is not None:
            changed = {t: e for t, e in entries.items() if e != old_entries.get(t)}
            index = lines.text(new_head, changed, set(removed))
        else:
            index = {**new_head, "tenants": dict(sorted(entries.items()))}
        write_outputs(output_dir, manifests, removed, index)
    if proofs is not None:
        _prove_written(proofs, spec_stats, manifests, entries, output_dir)
        proofs.save(settings.cache_dir)
    results.sort(key=lambda r: r.tenant_id)
    return CompileReport(results, time.perf_counter() - started)


def _index_outdated(index: dict[str, Any], settings: Settings) -> bool:
    return (
        index.get("compiler_version") != __version__
        or index.get("kubernetes_version") != settings.kubernetes_version
    )


def _read_index(output_dir: Path) -> tuple[dict[str, Any], IndexLines | None]:
    """index.json parsed whole, and as lines when it is in index_text's layout."""
    text = read_index_text(output_dir)
    index = index_from_text(text)
    return index, None if text is None or not index["tenants"] else IndexLines.parse(text)


def _prove_written(
    proofs: Proofs,
    spec_stats: dict[str, Stat],
    manifests: dict[str, str],
    entries: dict[str, Any],
    output_dir: Path,
) -> None:
    """Proofs for the tenants this compile wrote: their spec's stat from before it was read,
    the written files' stat now, and the hashes their index entries carry."""
    for tenant_id in manifests:
        seen = spec_stats.get(tenant_id)
        folder = os.path.join(output_dir, tenant_id)  # noqa: PTH118
        manifest = stat_of(os.path.join(folder, MANIFEST_FILE))  # noqa: PTH118
        kustomization = stat_of(os.path.join(folder, KUSTOMIZATION_FILE))  # noqa: PTH118
        if seen is None or manifest is None or kustomization is None:
            continue
        entry = entries[tenant_id]
        hashes = (entry["input_hash"], entry["manifest_sha256"])
        proofs.record(tenant_id, (seen, manifest, kustomization), hashes)


def _index_lines(output_dir: Path) -> IndexLines | None:
    text = read_index_text(output_dir)
    return None if text is None else IndexLines.parse(text)


def _named_specs(tenants_dir: Path, tenant_ids: list[str]) -> dict[str, Path]:
    """The spec files of `tenant_ids` that exist (a stat each, no listing of the folder)."""
    paths = {t: tenants_dir / f"{t}.yaml" for t in tenant_ids}
    return {t: path for t, path in paths.items() if path.is_file()}


def _select(specs: dict[str, Path], tenant_ids: Iterable[str] | None) -> list[str]:
    if tenant_ids is None:
        return sorted(specs)
    return sorted({check_tenant_id(t) for t in tenant_ids})


def _removed(
    specs: dict[str, Path], tenant_ids: Iterable[str] | None, entries: dict[str, Any], output: Path
) -> list[str]:
    """Tenants with output but no spec: all of them on a full compile, else the named ones."""
    if tenant_ids is None:
        candidates = set(entries) | set(tenant_folders(output))
    else:  # the named ones only: a stat each, no listing of output/
        candidates = {t for t in tenant_ids if t in entries or (output / t).is_dir()}
    return sorted(t for t in candidates if t not in specs)


def _unchanged(
    workspace: Workspace,
    tenant_id: str,
    path: Path | None,
    old: dict[str, Any] | None,
    output_dir: Path,
    proofs: Proofs | None = None,
    seen: Stat | None = None,
) -> TenantResult | None:
    """The tenant's result when its inputs hash as in the index and its output is intact.

    The hot loop of an incremental compile (once per tenant): plain string paths and one read
    per file, because pathlib's object churn shows at 1,000 tenants. With `proofs` (and `seen`,
    the spec's stat), files that stat as an earlier compile proved them are not read at all.
    """
    if path is None or old is None:
        return None
    # os.path and open(): see the docstring (ruff's pathlib rules are off here on purpose).
    folder = os.path.join(output_dir, tenant_id)  # noqa: PTH118
    manifest_path = os.path.join(folder, MANIFEST_FILE)  # noqa: PTH118
    kustomization_path = os.path.join(folder, KUSTOMIZATION_FILE)  # noqa: PTH118
    input_hash, manifest_sha = old.get("input_hash"), old.get("manifest_sha256")
    stats: Stats | None = None
    if proofs is not None and seen is not None:
        manifest_stat, kustomization_stat = stat_of(manifest_path), stat_of(kustomization_path)
        if manifest_stat is None or kustomization_stat is None:
            return None
        stats = (seen, manifest_stat, kustomization_stat)
        proved = proofs.hashes(tenant_id, stats)
        if proved is not None and proved == (input_hash, manifest_sha):
            proofs.record(tenant_id, stats, proved)
            return TenantResult(tenant_id, "unchanged", str(path), entry=old)
    try:
        with open(path, "rb") as handle:  # noqa: PTH123
            spec = handle.read(MAX_SPEC_BYTES + 1)
        with open(manifest_path, "rb") as handle:  # noqa: PTH123
            manifest = handle.read()
        with open(kustomization_path, "rb") as handle:  # noqa: PTH123
            kustomization = handle.read()
    except OSError:
        return None  # missing output is rebuilt; an unreadable spec is reported by the build
    if len(spec) > MAX_SPEC_BYTES or input_hash != workspace.input_hash_bytes(spec):
        return None
    # A hand-edited output file is repaired by the next compile, not trusted because of the index.
    if hashlib.sha256(manifest).hexdigest() != manifest_sha:
        return None
    if kustomization != _KUSTOMIZATION_BYTES:
        return None
    if proofs is not None and stats is not None:
        proofs.record(tenant_id, stats, (input_hash, manifest_sha))
    return TenantResult(tenant_id, "unchanged", str(path), entry=old)


_KUSTOMIZATION_BYTES = KUSTOMIZATION.encode()


def _compile_one(
    workspace: Workspace,
    tenant_id: str,
    path: Path | None,
    old: dict[str, Any] | None,
    check: bool,
    output_dir: Path,
) -> TenantResult:
    if path is None:
        return TenantResult(
            tenant_id,
            "failed",
            errors=[
                {
                    "file": str(workspace.settings.tenants_dir / f"{tenant_id}.yaml"),
                    "line": None,
                    "field": None,
                    "message": "no such tenant spec",
                    "code": "TENANT_NOT_FOUND",
                }
            ],
        )
    source = str(path)
    text: str | None = None
    folder = output_dir / tenant_id
    try:
        check_tenant_id(tenant_id, location=Location(file=source, field="file name"))
        text = read_spec_text(path)
        spec = parse_spec(text, source, expected_id=path.stem)
        build = workspace.build(spec, input_hash=workspace.input_hash(text))
    except OrchestratorError as exc:
        return TenantResult(tenant_id, "failed", source, errors=_error_record(exc, source, text))
    errors = _schema_errors(build.findings, source)
    warnings = [f for f in build.findings if f.severity == "warning"]
    if errors:
        return TenantResult(tenant_id, "failed", source, errors=errors, warnings=warnings)
    if check:
        # The input hash only steers incremental builds; a compiler change that leaves the
        # output identical is not staleness a reviewer should have to commit.
        same = (
            _without_hash(old) == _without_hash(build.index_entry)
            and _read(folder / MANIFEST_FILE) == build.manifest_text
            and _read(folder / KUSTOMIZATION_FILE) == KUSTOMIZATION
        )
        status: Status = "up-to-date" if same else "stale"
        return TenantResult(tenant_id, status, source, entry=build.index_entry, warnings=warnings)
    entry = {**build.index_entry, "_manifest": build.manifest_text}
    return TenantResult(tenant_id, "compiled", source, entry=entry, warnings=warnings)


def _without_hash(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else {k: v for k, v in entry.items() if k != "input_hash"}


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def build_tenant(
    settings: Settings, tenant_id: str, options: RenderOptions | None = None
) -> TenantBuild:
    """Compile one tenant in memory (the manifest API); raises OrchestratorError on bad input."""
    workspace = Workspace(settings)
    path = settings.tenants_dir / f"{check_tenant_id(tenant_id)}.yaml"
    text = read_spec_text(path)
    spec = parse_spec(text, str(path), expected_id=tenant_id)
    return workspace.build(spec, options, input_hash=workspace.input_hash(text))

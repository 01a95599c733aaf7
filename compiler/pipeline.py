"""The compile pipeline: tenants/*.yaml -> spec -> plan -> objects -> findings -> output/.

Only changed tenants are rebuilt: a tenant's input hash covers its spec bytes, the presets, the
compiler's own sources and templates, and the Kubernetes version. One bad spec never stops the
others; the report says which failed and why (file:line, field).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from compiler import __version__
from compiler.alerting import ALERTS_FILE, load_alert_rules
from compiler.catalogue import Catalogue, load_catalogue
from compiler.errors import Location, OrchestratorError
from compiler.output import (
    KUSTOMIZATION,
    KUSTOMIZATION_FILE,
    MANIFEST_FILE,
    dump_documents,
    read_index,
    tenant_folders,
    write_outputs,
)
from compiler.rendering import Renderer, RenderOptions
from compiler.settings import Settings
from compiler.sizing import ResourcePlan, plan_tenant
from compiler.spec.ids import check_tenant_id, namespace_for
from compiler.spec.loader import (
    MAX_SPEC_BYTES,
    line_of,
    parse_spec,
    read_spec_text,
    spec_files,
)
from compiler.spec.models import TenantSpec
from compiler.validating.findings import Finding
from compiler.validating.validate import ManifestValidator, PolicyContext

Status = Literal["compiled", "unchanged", "failed", "removed", "stale", "up-to-date"]
Progress = Callable[[int, int], None]
# Sources whose change changes output: hashed into every tenant's input hash.
_FINGERPRINTED = ("spec", "sizing", "rendering", "output", "validating")
_FINGERPRINTED_MODULES = ("catalogue.py", "alerting.py", "quantity.py", "pipeline.py")


@dataclass(frozen=True)
class TenantBuild:
    spec: TenantSpec
    plan: ResourcePlan
    objects: list[dict[str, Any]]
    manifest_text: str
    findings: list[Finding]
    index_entry: dict[str, Any]


@dataclass
class TenantResult:
    tenant_id: str
    status: Status
    source: str | None = None
    entry: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "status": self.status,
            "source": self.source,
            "errors": self.errors,
            "warnings": [w.to_dict() for w in self.warnings],
            "summary": _summary(self.entry) if self.entry else None,
        }


@dataclass
class CompileReport:
    results: list[TenantResult]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(r.status in ("failed", "stale") for r in self.results)

    def by_status(self, status: Status) -> list[TenantResult]:
        return [r for r in self.results if r.status == status]

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return {
            "ok": self.ok,
            "counts": dict(sorted(counts.items())),
            "seconds": round(self.seconds, 3),
            "tenants": [r.to_dict() for r in self.results],
        }


def _summary(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("preset", "gpu_type", "totals", "estimated_cost", "replicas", "pods")
    return {k: entry.get(k) for k in keys}


def _fingerprint() -> str:
    digest = hashlib.sha256(__version__.encode())
    package = resources.files("compiler")
    for name in _FINGERPRINTED:
        folder = Path(str(package.joinpath(name)))
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".j2", ".json") and path.is_file():
                digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    for module in _FINGERPRINTED_MODULES:
        digest.update(module.encode() + package.joinpath(module).read_bytes())
    return digest.hexdigest()


class Workspace:
    """Everything a compile loads once: catalogue, alert rules, template, validator."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalogue: Catalogue = load_catalogue(settings.presets_dir)
        alerts = settings.presets_dir / ALERTS_FILE
        self.alert_rules = load_alert_rules(settings.presets_dir)
        fingerprint = _fingerprint()
        # Compiled templates bake in how filters are called: a compiler change must not reuse
        # bytecode from another version, so the cache folder is per compiler fingerprint.
        self.renderer = Renderer(
            self.catalogue,
            self.alert_rules,
            cache_dir=settings.cache_dir / "templates" / fingerprint[:16],
        )
        self.validator = ManifestValidator(
            settings.kubernetes_version, cache_dir=settings.cache_dir / "schemas"
        )
        self.policy = PolicyContext(cluster_gpu=settings.cluster.gpu)
        self._salt = hashlib.sha256(
            f"{fingerprint}\0{self.catalogue.digest}\0{settings.kubernetes_version}\0".encode()
            + (alerts.read_bytes() if alerts.is_file() else b"")
        ).digest()

    def input_hash(self, spec_text: str) -> str:
        return self.input_hash_bytes(spec_text.encode())

    def input_hash_bytes(self, spec: bytes) -> str:
        return hashlib.sha256(self._salt + spec).hexdigest()

    def build(
        self, spec: TenantSpec, options: RenderOptions | None = None, input_hash: str = ""
    ) -> TenantBuild:
        plan = plan_tenant(spec, self.catalogue)
        objects = self.renderer.render(spec, plan, options or RenderOptions())
        findings = self.validator.validate(objects, unknown_kind="error", policy=self.policy)
        text = dump_documents(objects)
        tier = self.catalogue.tiers[plan.tier]
        quota = {"cpu": tier.cpu, "memory": tier.memory, "gpu": tier.gpu, "storage": tier.storage}
        entry = index_entry(spec, plan, quota, text, len(objects), input_hash)
        return TenantBuild(spec, plan, objects, text, findings, entry)


def index_entry(
    spec: TenantSpec,
    plan: ResourcePlan,
    quota: dict[str, Any],
    manifest: str,
    documents: int,
    input_hash: str,
) -> dict[str, Any]:
    """One tenant's line in output/index.json (the contract other stages read); `quota` is the
    tier's envelope, which the namespace's ResourceQuota reserves."""
    totals = plan.totals
    tier = plan.tier
    return {
        "name": spec.name,
        "description": spec.description,
        "namespace": namespace_for(spec.tenant_id),
        "preset": tier,
        "preset_source": plan.tier_source,
        "gpu_type": plan.gpu_type,
        "quota": quota,
        "totals": {
            **totals.as_resources(),
            "cpu_millicores": totals.cpu_millicores,
            "memory_mib": totals.memory_mib,
            "storage_gb": totals.storage_gb,
        },
        "monthly_cost_usd": round(plan.cost.total, 2),
        "estimated_cost": plan.cost.label(),
        "replicas": {s.name: s.replicas for s in plan.services},
        "service_requirements": spec.service_requirements.given(),
        "sla_target": spec.sla_target.model_dump(),
        "input_hash": input_hash,
        "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
        "documents": documents,
        "pods": plan.pods,
    }


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
) -> CompileReport:
    """Compile the selected tenants (all when None); with check, write nothing and report
    tenants whose output differs from what their spec compiles to.

    workers > 1 forks that many processes for large runs: only for single-threaded callers
    (the CLI), never inside a threaded server, where fork would copy other threads' locks.
    """
    started = time.perf_counter()
    workspace = Workspace(settings)
    output_dir = settings.output_dir
    index = read_index(output_dir)
    old_entries: dict[str, Any] = dict(index["tenants"])
    specs = {p.stem: p for p in spec_files(settings.tenants_dir)}
    selected = _select(specs, tenant_ids)
    results: list[TenantResult] = []
    manifests: dict[str, str] = {}
    entries = dict(old_entries)
    gc_was_enabled = gc.isenabled()
    # Bulk phase: the collector's full scans of a growing heap cost more than they save.
    gc.disable()
    try:
        pending: list[str] = []
        for tenant_id in selected:
            fresh = (
                None
                if check or force
                else _unchanged(
                    workspace,
                    tenant_id,
                    specs.get(tenant_id),
                    old_entries.get(tenant_id),
                    output_dir,
                )
            )
            if fresh is None:
                pending.append(tenant_id)
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

        for result in _map_forked(one, pending, workers, progress):
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
        manifests or removed or entries != old_entries or _index_outdated(index, settings)
    ):
        write_outputs(
            output_dir,
            manifests,
            removed,
            {
                "compiler_version": __version__,
                "kubernetes_version": settings.kubernetes_version,
                "tenants": dict(sorted(entries.items())),
            },
        )
    results.sort(key=lambda r: r.tenant_id)
    return CompileReport(results, time.perf_counter() - started)


# Below this many tenants a fork costs more than it saves.
FORK_THRESHOLD = 64


def _map_forked(
    fn: Callable[[str], TenantResult],
    items: list[str],
    workers: int,
    progress: Progress | None,
) -> list[TenantResult]:
    """fn over items, in order, split across forked children when the run is large.

    Each child builds one contiguous chunk and sends its pickled results through a pipe; the
    parent builds the first chunk itself. A child that fails is redone in the parent, so a
    crash in a worker costs time, never results.
    """
    total = len(items)
    workers = min(workers, os.cpu_count() or 1, max(1, total // FORK_THRESHOLD))
    if workers <= 1 or not hasattr(os, "fork"):
        out = []
        for done, item in enumerate(items, start=1):
            out.append(fn(item))
            if progress:
                progress(done, total)
        return out
    size = -(-total // workers)
    chunks = [items[i : i + size] for i in range(0, total, size)]
    children: list[tuple[int, int, list[str]]] = []
    for chunk in chunks[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: build, send, and leave without running the parent's cleanup
            os.close(read_end)
            code = 0
            try:
                payload = pickle.dumps([fn(item) for item in chunk])
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
            except BaseException:  # noqa: BLE001 - any failure: the parent redoes the chunk
                code = 1
            os._exit(code)
        os.close(write_end)
        children.append((pid, read_end, chunk))
    out = []
    for done, item in enumerate(chunks[0], start=1):
        out.append(fn(item))
        if progress:  # the children advance at the same pace; report the whole run
            progress(min(total, done * len(chunks)), total)
    for pid, read_end, chunk in children:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status == 0 and payload:
            out.extend(pickle.loads(payload))  # noqa: S301 - our own child's output
        else:
            out.extend(fn(item) for item in chunk)
    if progress:
        progress(total, total)
    return out


def _index_outdated(index: dict[str, Any], settings: Settings) -> bool:
    return (
        index.get("compiler_version") != __version__
        or index.get("kubernetes_version") != settings.kubernetes_version
    )


def _select(specs: dict[str, Path], tenant_ids: Iterable[str] | None) -> list[str]:
    if tenant_ids is None:
        return sorted(specs)
    return sorted({check_tenant_id(t) for t in tenant_ids})


def _removed(
    specs: dict[str, Path], tenant_ids: Iterable[str] | None, entries: dict[str, Any], output: Path
) -> list[str]:
    """Tenants with output but no spec: all of them on a full compile, else the named ones."""
    candidates = set(entries) | set(tenant_folders(output))
    if tenant_ids is not None:
        candidates &= set(tenant_ids)
    return sorted(t for t in candidates if t not in specs)


def _unchanged(
    workspace: Workspace,
    tenant_id: str,
    path: Path | None,
    old: dict[str, Any] | None,
    output_dir: Path,
) -> TenantResult | None:
    """The tenant's result when its inputs hash as in the index and its output is intact.

    The hot loop of an incremental compile (once per tenant): plain string paths and one read
    per file, because pathlib's object churn shows at 1,000 tenants.
    """
    if path is None or old is None:
        return None
    # os.path and open(): see the docstring (ruff's pathlib rules are off here on purpose).
    folder = os.path.join(output_dir, tenant_id)  # noqa: PTH118
    try:
        with open(path, "rb") as handle:  # noqa: PTH123
            spec = handle.read(MAX_SPEC_BYTES + 1)
        with open(os.path.join(folder, MANIFEST_FILE), "rb") as handle:  # noqa: PTH118,PTH123
            manifest = handle.read()
        with open(os.path.join(folder, KUSTOMIZATION_FILE), "rb") as handle:  # noqa: PTH118,PTH123
            kustomization = handle.read()
    except OSError:
        return None  # missing output is rebuilt; an unreadable spec is reported by the build
    if len(spec) > MAX_SPEC_BYTES or old.get("input_hash") != workspace.input_hash_bytes(spec):
        return None
    # A hand-edited output file is repaired by the next compile, not trusted because of the index.
    if hashlib.sha256(manifest).hexdigest() != old.get("manifest_sha256"):
        return None
    if kustomization != _KUSTOMIZATION_BYTES:
        return None
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

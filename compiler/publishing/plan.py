"""Work out what a publish must write and delete, from the compiled index and the published state.

Input: CompiledOutput, the output dir, the PublishedState cache, the consumer config and the deploy
work tree (read only, to compare consumer files). Output: a PublishPlan - file bytes to write, paths
to delete, tenant changes with new and previous totals, and the state after the commit. No writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from compiler.publishing.compiled import (
    KUSTOMIZATION_FILE,
    MANIFEST_FILE,
    CompiledOutput,
    read_tenant_file,
    totals_fields,
    totals_of,
)
from compiler.publishing.consumers import (
    ConsumerConfig,
    ConsumerSchemas,
    deployments_in,
    flux_tenant_file,
    flux_tenant_path,
    shared_files,
)
from compiler.publishing.records import Action, TenantChange, TenantTotals
from compiler.publishing.state import PublishedState, TenantState


@dataclass(frozen=True)
class PublishPlan:
    writes: dict[str, bytes]
    deletes: tuple[str, ...]
    changes: tuple[TenantChange, ...]
    previous_totals: dict[str, TenantTotals]
    new_state: PublishedState

    @property
    def touches_files(self) -> bool:
        return bool(self.writes or self.deletes)

    def ids(self, action: Action) -> tuple[str, ...]:
        return tuple(c.tenant_id for c in self.changes if c.action == action)


def plan_publish(
    compiled: CompiledOutput,
    output_dir: Path,
    state: PublishedState,
    config: ConsumerConfig,
    work_tree: Path,
    only: Collection[str] | None = None,
) -> PublishPlan:
    """The plan for every tenant of `compiled`, or with `only` for those tenants alone (the
    others are published already: their state is carried over unread)."""
    planner = _Planner(compiled, output_dir, state, config, work_tree, only)
    return planner.plan()


class _Planner:
    def __init__(
        self,
        compiled: CompiledOutput,
        output_dir: Path,
        state: PublishedState,
        config: ConsumerConfig,
        work_tree: Path,
        only: Collection[str] | None = None,
    ) -> None:
        self.only = only
        self.compiled = compiled
        self.output_dir = output_dir
        self.old = state
        self.config = config
        self.work_tree = work_tree
        self.writes: dict[str, bytes] = {}
        self.deletes: list[str] = []
        self.tenants: dict[str, TenantState] = {}
        self._schemas: ConsumerSchemas | None = None

    @property
    def schemas(self) -> ConsumerSchemas:
        # Loaded only when a consumer file is generated: an unchanged publish never needs them.
        if self._schemas is None:
            self._schemas = ConsumerSchemas()
        return self._schemas

    def plan(self) -> PublishPlan:
        changes: list[TenantChange] = []
        regenerate_all = self.old.consumers_digest != self.config.digest()
        if regenerate_all and self.only is not None:
            raise ValueError("a plan of named tenants cannot regenerate every consumer file")
        compiled = self.compiled.tenants
        if self.only is None:
            gone = sorted(self.old.tenants.keys() - compiled.keys())
        else:
            compiled = {t: e for t, e in compiled.items() if t in self.only}
            gone = sorted(t for t in self.only if t in self.old.tenants and t not in compiled)
        for tenant_id, entry in sorted(compiled.items()):
            action = self._tenant(tenant_id, entry.get("manifest_sha256"), regenerate_all)
            if action is not None:
                totals = totals_of(entry)
                changes.append(TenantChange(tenant_id=tenant_id, action=action, totals=totals))
        for tenant_id in gone:
            self.deletes.append(f"tenants/{tenant_id}")
            if (self.work_tree / flux_tenant_path(tenant_id)).exists():
                self.deletes.append(flux_tenant_path(tenant_id))
            changes.append(TenantChange(tenant_id=tenant_id, action="removed"))
        if regenerate_all:
            self._shared_consumer_files()
        previous = {
            c.tenant_id: old.totals
            for c in changes
            if (old := self.old.tenants.get(c.tenant_id)) is not None and old.totals is not None
        }
        return PublishPlan(
            writes=self.writes,
            deletes=tuple(sorted(set(self.deletes))),
            changes=tuple(changes),
            previous_totals=previous,
            new_state=PublishedState.model_construct(
                head=self.old.head,
                consumers_digest=self.config.digest(),
                tenants=self._new_tenants(gone),
            ),
        )

    def _new_tenants(self, gone: list[str]) -> dict[str, TenantState]:
        if self.only is None:
            return self.tenants
        carried = {t: s for t, s in self.old.tenants.items() if t not in self.tenants}
        for tenant_id in gone:
            carried.pop(tenant_id, None)  # pragma: no mutate - gone ⊆ old tenants ⊆ carried
        return dict(sorted({**carried, **self.tenants}.items()))

    def _tenant(self, tenant_id: str, index_sha: object, regenerate_all: bool) -> Action | None:
        entry = self.compiled.tenants[tenant_id]
        old = self.old.tenants.get(tenant_id)
        index_sha = index_sha if isinstance(index_sha, str) else None
        if (
            old is not None
            and index_sha is not None
            and index_sha == old.index_sha
            and not regenerate_all
            and old.totals is not None
            and (old.totals.cpu, old.totals.memory, old.totals.gpu, old.totals.monthly_cost_usd)
            == totals_fields(entry)
        ):
            # Published as it is: its state would be rebuilt equal to the old one, so it is
            # kept (no model built per unchanged tenant of a 10,000-tenant publish).
            self.tenants[tenant_id] = old
            return None
        manifest: bytes | None = None
        kustomization: bytes | None = None  # pragma: no mutate - read before any use below
        if old is not None and index_sha is not None and index_sha == old.index_sha:
            # The index vouches for the bytes we copied last time: an unchanged tenant costs
            # no file read, so a publish of one write does not grow with the workspace.
            file_sha, kustomization_sha = old.file_sha, old.kustomization_sha
        else:
            manifest = read_tenant_file(self.output_dir, tenant_id, MANIFEST_FILE)
            file_sha = hashlib.sha256(manifest).hexdigest()
            kustomization = read_tenant_file(self.output_dir, tenant_id, KUSTOMIZATION_FILE)
            kustomization_sha = hashlib.sha256(kustomization).hexdigest()
        action: Action | None = None
        if old is None:
            action = "added"
        elif file_sha != old.file_sha or kustomization_sha != old.kustomization_sha:
            action = "changed"
        deployments = old.deployments if old is not None and action is None else None
        if action is not None:
            # pragma: no mutate start - unreachable: with an action set both files were read above
            if manifest is None:
                manifest = read_tenant_file(self.output_dir, tenant_id, MANIFEST_FILE)
            if kustomization is None:
                kustomization = read_tenant_file(self.output_dir, tenant_id, KUSTOMIZATION_FILE)
            # pragma: no mutate end
            self.writes[f"tenants/{tenant_id}/{MANIFEST_FILE}"] = manifest
            self.writes[f"tenants/{tenant_id}/{KUSTOMIZATION_FILE}"] = kustomization
        if self.config.flux and (action is not None or regenerate_all):
            if deployments is None:
                if manifest is None:
                    manifest = read_tenant_file(self.output_dir, tenant_id, MANIFEST_FILE)
                text = manifest.decode("utf-8")  # pragma: no mutate - "UTF-8" is the same codec
                deployments = tuple(deployments_in(text, str(entry.get("namespace", ""))))
            flux = flux_tenant_file(tenant_id, list(deployments), self.schemas).encode()
            self._write_if_different(flux_tenant_path(tenant_id), flux)
        self.tenants[tenant_id] = TenantState(
            file_sha=file_sha,
            kustomization_sha=kustomization_sha,
            index_sha=index_sha,
            totals=totals_of(entry),
            deployments=deployments,
        )
        return action

    def _shared_consumer_files(self) -> None:
        for rel, text in shared_files(self.config, self.schemas).items():
            self._write_if_different(rel, text.encode())
        for name, wanted in (("argocd", self.config.argocd), ("flux", self.config.flux)):
            if not wanted and (self.work_tree / name).exists():
                self.deletes.append(name)
        if self.config.flux:
            # Flux files of tenants that are no longer published (left by an older layout).
            folder = self.work_tree / "flux" / "tenants"
            if folder.is_dir():
                for path in folder.glob("*.yaml"):
                    if path.stem not in self.compiled.tenants:
                        self.deletes.append(flux_tenant_path(path.stem))

    def _write_if_different(self, rel: str, data: bytes) -> None:
        path = self.work_tree / rel
        try:
            if path.read_bytes() == data:
                return
        except OSError:
            pass
        self.writes[rel] = data

"""diff_outputs(): what a change to specs or presets does to the compiled output, for a reviewer.

Input: Settings (workspace root and output dir) and a git ref of the workspace repo (default: the
merge-base with origin/HEAD or origin/main, else HEAD). Output: an OutputDiff - per changed tenant,
the deltas a reviewer weighs (replicas, CPU, memory, GPU, monthly cost, preset) and a unified diff
of its manifest. Reads git objects and output/; writes nothing. Rendering lives in diff_format.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import git
import yaml
from pydantic import BaseModel, ConfigDict

from compiler.errors import UsageError
from compiler.publishing.compiled import (
    EMPTY_OUTPUT,
    INDEX_FILE,
    MANIFEST_FILE,
    CompiledOutput,
    parse_index,
    read_compiled_output,
)
from compiler.settings import Settings
from compiler.validating.apiserver.updates import immutable_changes

Scalar = str | int | float | None
DEFAULT_BASES = ("origin/HEAD", "origin/main")
MAX_DIFF_LINES = 400
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FieldDelta(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str
    before: Scalar
    after: Scalar
    change: str | None = None  # "+1600m", "+$166.00"; None when not numeric


class TenantDiff(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tenant_id: str
    status: Literal["added", "changed", "removed"]
    deltas: tuple[FieldDelta, ...]
    manifest_diff: str
    diff_truncated: bool = False
    # Changes the API server refuses on an existing object (apply fails; delete and recreate).
    immutable: tuple[str, ...] = ()


class OutputDiff(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    base: str
    base_commit: str | None
    tenants: tuple[TenantDiff, ...]
    unchanged: int

    def count(self, status: str) -> int:
        return sum(1 for t in self.tenants if t.status == status)


def diff_outputs(
    settings: Settings, *, base: str | None = None, max_diff_lines: int = MAX_DIFF_LINES
) -> OutputDiff:
    """Compare output/ at `base` in the workspace repo with output/ on disk now.

    A tenant counts as changed when its manifest or a reviewer's delta moved; bookkeeping in the
    index (input hashes, which change with the compiler itself) alone changes nothing deployed.
    """
    repo = _workspace_repo(settings.root)
    label, commit = _base_commit(repo, base)
    sides = _Sides(commit, _relative_output(repo, settings.output_dir), settings.output_dir)
    old = _index_at(commit, sides.rel)
    new = _index_on_disk(settings.output_dir)
    tenants = []
    for tenant_id in sorted(old.tenants.keys() | new.tenants.keys()):
        before, after = old.tenants.get(tenant_id), new.tenants.get(tenant_id)
        found = _tenant_diff(tenant_id, before, after, sides, max_diff_lines)
        if found is not None:
            tenants.append(found)
    changed = sum(1 for t in tenants if t.status == "changed")
    return OutputDiff(
        base=label,
        base_commit=commit.hexsha if commit is not None else None,
        tenants=tuple(tenants),
        unchanged=len(old.tenants.keys() & new.tenants.keys()) - changed,
    )


@dataclass(frozen=True)
class _Sides:
    """Where the two manifests of a tenant are read: a git commit and the output dir on disk."""

    commit: git.Commit | None
    rel: str  # output dir relative to the workspace repo
    output_dir: Path

    def old_text(self, tenant_id: str) -> str:
        return _blob_text(self.commit, f"{self.rel}/{tenant_id}/{MANIFEST_FILE}")

    def new_text(self, tenant_id: str) -> str:
        return (self.output_dir / tenant_id / MANIFEST_FILE).read_text("utf-8")


def _tenant_diff(
    tenant_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    sides: _Sides,
    max_diff_lines: int,
) -> TenantDiff | None:
    deltas = entry_deltas(before or {}, after or {})
    if before is not None and after is not None and not deltas and _same_hash(before, after):
        return None  # the index vouches for identical manifests: no blob read needed
    old_text = sides.old_text(tenant_id) if before is not None else ""
    new_text = sides.new_text(tenant_id) if after is not None else ""
    if before is not None and after is not None and not deltas and old_text == new_text:
        return None
    status: Literal["added", "changed", "removed"] = (
        "added" if before is None else "removed" if after is None else "changed"
    )
    path = f"{sides.rel}/{tenant_id}/{MANIFEST_FILE}"
    lines = list(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
    return TenantDiff(
        tenant_id=tenant_id,
        status=status,
        deltas=deltas,
        manifest_diff="".join(_ensure_newlines(lines[:max_diff_lines])),
        diff_truncated=len(lines) > max_diff_lines,
        immutable=_immutable(old_text, new_text) if status == "changed" else (),
    )


def _immutable(old_text: str, new_text: str) -> tuple[str, ...]:
    try:
        old = list(yaml.load_all(old_text, Loader=_LOADER))
        new = list(yaml.load_all(new_text, Loader=_LOADER))
    except yaml.YAMLError:
        return ()  # our own output always parses; an old hand edit need not
    return tuple(f"{subject}: {error}" for subject, error in immutable_changes(old, new))


def _same_hash(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    old, new = before.get("manifest_sha256"), after.get("manifest_sha256")
    return isinstance(old, str) and old == new


def entry_deltas(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldDelta, ...]:
    """The reviewer's deltas between two index entries; fields that did not move are left out."""
    old_totals, new_totals = before.get("totals") or {}, after.get("totals") or {}
    deltas = [
        _delta("cpu", old_totals.get("cpu"), new_totals.get("cpu"),
               old_totals.get("cpu_millicores"), new_totals.get("cpu_millicores"), _millicores),
        _delta("memory", old_totals.get("memory"), new_totals.get("memory"),
               old_totals.get("memory_mib"), new_totals.get("memory_mib"), _mebibytes),
        _delta("gpu", old_totals.get("gpu"), new_totals.get("gpu"),
               old_totals.get("gpu"), new_totals.get("gpu"), _plain),
        _delta("monthly_cost_usd", before.get("monthly_cost_usd"), after.get("monthly_cost_usd"),
               before.get("monthly_cost_usd"), after.get("monthly_cost_usd"), _dollars),
        _delta("preset", before.get("preset"), after.get("preset"), None, None, _plain),
    ]  # fmt: skip
    old_replicas, new_replicas = before.get("replicas") or {}, after.get("replicas") or {}
    for service in sorted(old_replicas.keys() | new_replicas.keys()):
        old_n, new_n = old_replicas.get(service), new_replicas.get(service)
        deltas.append(_delta(f"replicas.{service}", old_n, new_n, old_n or 0, new_n or 0, _plain))
    return tuple(d for d in deltas if d is not None)


def _delta(
    field: str,
    before: Any,
    after: Any,
    old_number: Any,
    new_number: Any,
    unit: Any,
) -> FieldDelta | None:
    if before == after:
        return None
    change = None
    if isinstance(old_number, int | float) or isinstance(new_number, int | float):
        change = unit((new_number or 0) - (old_number or 0))
    return FieldDelta(field=field, before=before, after=after, change=change)


def _plain(n: float) -> str:
    return f"{n:+g}"


def _millicores(n: float) -> str:
    return f"{int(n):+d}m"


def _mebibytes(n: float) -> str:
    n = int(n)
    return f"{n // 1024:+d}Gi" if n % 1024 == 0 and n else f"{n:+d}Mi"


def _dollars(n: float) -> str:
    return f"{'+' if n >= 0 else '-'}${abs(n):,.2f}"


def _ensure_newlines(lines: list[str]) -> list[str]:
    return [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    ]


def _workspace_repo(root: Path) -> git.Repo:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise UsageError(f"`ecp diff` needs a git workspace; {root} is not inside one") from exc


def _base_commit(repo: git.Repo, base: str | None) -> tuple[str, git.Commit | None]:
    if base is not None:
        try:
            return base, repo.commit(base)
        except (git.BadName, ValueError) as exc:
            raise UsageError(f"unknown git revision {base!r} for --base") from exc
    try:
        head = repo.commit("HEAD")
    except (git.BadName, ValueError):
        return "(empty)", None  # no commit yet: everything is new
    for candidate in DEFAULT_BASES:
        try:
            upstream = repo.commit(candidate)
        except (git.BadName, ValueError):
            continue
        merge_bases = repo.merge_base(head, upstream)
        if merge_bases:
            return f"merge-base(HEAD, {candidate})", merge_bases[0]
    return "HEAD", head


def _relative_output(repo: git.Repo, output_dir: Path) -> str:
    top = Path(str(repo.working_tree_dir)).resolve()
    try:
        return output_dir.resolve().relative_to(top).as_posix()
    except ValueError as exc:
        raise UsageError(f"output dir {output_dir} is outside the workspace repo {top}") from exc


def _blob_text(commit: git.Commit | None, path: str) -> str:
    if commit is None:
        return ""
    try:
        blob = commit.tree / path
    except KeyError:
        return ""
    data: bytes = blob.data_stream.read()
    return data.decode("utf-8")


def _index_at(commit: git.Commit | None, rel: str) -> CompiledOutput:
    text = _blob_text(commit, f"{rel}/{INDEX_FILE}")
    return parse_index(text, f"{rel}/{INDEX_FILE}@base") if text else EMPTY_OUTPUT


def _index_on_disk(output_dir: Path) -> CompiledOutput:
    if not (output_dir / INDEX_FILE).is_file():
        return EMPTY_OUTPUT
    return read_compiled_output(output_dir)

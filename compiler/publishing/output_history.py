"""output_history(): a tenant's commits in the workspace repo, each with what it compiled to.

Input: Settings and a tenant ID. Output: the commits that touched the tenant's spec or compiled
output, newest first, each with the resources its committed output/index.json entry records
(replicas, CPU, memory, GPU, monthly cost) and the deltas against its parent commit's entry. The
numbers are the compiled output as it was committed, never old specs re-sized by today's code; a
commit whose output is not in git says so (compiled: false). Reads git objects; writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import git
from pydantic import BaseModel, ConfigDict

from compiler.errors import UsageError
from compiler.publishing.compiled import INDEX_FILE
from compiler.publishing.diff import FieldDelta, _plain, entry_deltas
from compiler.publishing.records import PRINCIPAL_TRAILER
from compiler.settings import Settings
from compiler.spec.ids import check_tenant_id

MAX_COMMITS = 200
_FIELD, _RECORD = "\x1f", "\x1e"
Action = Literal["created", "changed", "removed"]


class CompiledResources(BaseModel):
    """A tenant's index entry at one commit, as the compiler wrote it then."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    preset: str | None
    replicas: dict[str, int]
    replicas_total: int
    cpu: str | None
    cpu_millicores: int | None
    memory: str | None
    memory_mib: int | None
    gpu: int | None
    monthly_cost_usd: float | None
    estimated_cost: str | None


class HistoryCommit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    commit: str
    timestamp: str  # committer date, ISO-8601 as git prints it
    author: str
    principal: str | None  # the Ecp-Principal trailer of API writes
    subject: str
    action: Action
    compiled: bool  # the commit holds the tenant's compiled output (index entry)
    resources: CompiledResources | None
    deltas: tuple[FieldDelta, ...]  # versus the parent commit's entry; unmoved fields left out


class OutputHistory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tenant_id: str
    source: Literal["workspace-git", "none"]
    commits: tuple[HistoryCommit, ...]
    count: int
    truncated: bool


def output_history(settings: Settings, tenant_id: str, *, limit: int = 50) -> OutputHistory:
    """The tenant's last `limit` commits (at most MAX_COMMITS) with their compiled deltas."""
    tenant_id = check_tenant_id(tenant_id)
    if not 1 <= limit <= MAX_COMMITS:
        raise UsageError(f"limit must be from 1 to {MAX_COMMITS}", details={"field": "query.limit"})
    repo = _repo(settings.tenants_dir)
    empty = OutputHistory(tenant_id=tenant_id, source="none", commits=(), count=0, truncated=False)
    if repo is None:
        return empty
    top = Path(str(repo.working_tree_dir)).resolve()
    spec = _relative(top, settings.tenants_dir / f"{tenant_id}.yaml")
    output = _relative(top, settings.output_dir)
    if spec is None or output is None:
        return empty
    reader = _IndexReader(repo, f"{output}/{INDEX_FILE}", tenant_id)
    log = _log(repo, limit + 1, spec, f"{output}/{tenant_id}")
    commits = [_commit(repo, reader, spec, fields) for fields in log[:limit]]
    return OutputHistory(
        tenant_id=tenant_id,
        source="workspace-git",
        commits=tuple(commits),
        count=len(commits),
        truncated=len(log) > limit,
    )


def _repo(folder: Path) -> git.Repo | None:
    try:
        repo = git.Repo(folder, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    return None if repo.bare or repo.working_tree_dir is None else repo


def _relative(top: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(top).as_posix()
    except ValueError:
        return None


def _log(repo: git.Repo, count: int, *paths: str) -> list[list[str]]:
    try:
        out = repo.git.log(
            f"--max-count={count}",
            f"--format=%H{_FIELD}%cI{_FIELD}%an{_FIELD}%P{_FIELD}%B{_RECORD}",
            "--",
            *paths,
        )
    except git.GitCommandError:
        return []  # no commit yet
    return [r.strip("\n").split(_FIELD, 4) for r in out.split(_RECORD) if r.strip()]


def _commit(repo: git.Repo, reader: _IndexReader, spec: str, fields: list[str]) -> HistoryCommit:
    sha, when, author, parents, body = fields
    parent = parents.split()[0] if parents.split() else None
    after = reader.entry(sha)
    before = reader.entry(parent) if parent else None
    had, has = _exists(repo, parent, spec), _exists(repo, sha, spec)
    action: Action = "created" if has and not had else "removed" if had and not has else "changed"
    deltas: tuple[FieldDelta, ...] = ()
    if after is not None or not has:  # nothing to compare while a spec has no compiled output
        deltas = entry_deltas(before or {}, after or {})
        total = _replica_delta(before, after)
        deltas = (total, *deltas) if total is not None else deltas
    return HistoryCommit(
        commit=sha,
        timestamp=when,
        author=author,
        principal=_trailer(body, PRINCIPAL_TRAILER),
        subject=body.split("\n", 1)[0],
        action=action,
        compiled=after is not None,
        resources=_resources(after) if after is not None else None,
        deltas=deltas,
    )


def _replica_delta(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> FieldDelta | None:
    old, new = _total(before), _total(after)
    if old == new:
        return None
    return FieldDelta(
        field="replicas", before=old, after=new, change=_plain((new or 0) - (old or 0))
    )


def _total(entry: Mapping[str, Any] | None) -> int | None:
    if entry is None:
        return None
    return sum(int(n) for n in (entry.get("replicas") or {}).values())


def _resources(entry: Mapping[str, Any]) -> CompiledResources:
    totals = entry.get("totals") or {}
    replicas = {str(k): int(v) for k, v in (entry.get("replicas") or {}).items()}
    return CompiledResources(
        preset=entry.get("preset"),
        replicas=replicas,
        replicas_total=sum(replicas.values()),
        cpu=totals.get("cpu"),
        cpu_millicores=totals.get("cpu_millicores"),
        memory=totals.get("memory"),
        memory_mib=totals.get("memory_mib"),
        gpu=totals.get("gpu"),
        monthly_cost_usd=entry.get("monthly_cost_usd"),
        estimated_cost=entry.get("estimated_cost"),
    )


def _trailer(body: str, name: str) -> str | None:
    prefix = f"{name}: "
    found = [line[len(prefix) :].strip() for line in body.splitlines() if line.startswith(prefix)]
    return found[-1] if found else None


def _exists(repo: git.Repo, sha: str | None, path: str) -> bool:
    if sha is None:
        return False
    try:
        repo.commit(sha).tree / path
    except KeyError:
        return False
    return True


class _IndexReader:
    """The tenant's entry in the index blob at a commit; blobs shared by commits are parsed once."""

    def __init__(self, repo: git.Repo, path: str, tenant_id: str) -> None:
        self.repo = repo
        self.path = path
        self.tenant_id = tenant_id
        self._by_blob: dict[str, Mapping[str, Any] | None] = {}

    def entry(self, sha: str) -> Mapping[str, Any] | None:
        try:
            blob = self.repo.commit(sha).tree / self.path
        except KeyError:
            return None  # output/ not committed here
        if blob.hexsha not in self._by_blob:
            self._by_blob[blob.hexsha] = self._parse(blob.data_stream.read())
        return self._by_blob[blob.hexsha]

    def _parse(self, data: bytes) -> Mapping[str, Any] | None:
        try:
            index = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None  # a broken committed index records nothing usable
        tenants = index.get("tenants") if isinstance(index, dict) else None
        entry = tenants.get(self.tenant_id) if isinstance(tenants, dict) else None
        return entry if isinstance(entry, dict) else None

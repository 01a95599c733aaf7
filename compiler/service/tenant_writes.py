"""Tenant writes: create, update, delete a spec, then compile and publish; blocking, run in threads.

Input: a Workspace and validated request data. Output: a WriteOutcome naming the deployment. Each
write holds the workspace lock from the spec change to the publish, so writes never interleave.
The spec is written atomically; if compiling fails it is put back as it was, so nothing half-done
remains. Only after a clean compile is the spec committed (workspace repo) and published.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.errors import (
    Conflict,
    OrchestratorError,
    PreconditionFailed,
    TenantAlreadyExists,
    TenantNotFound,
)
from compiler.output import INDEX_FILE
from compiler.pipeline import compile_workspace
from compiler.publishing import CommitAuthor, publish
from compiler.service.error_responses import utc_now
from compiler.service.read_model import etag_of
from compiler.service.state import Workspace
from compiler.service.workspace_git import commit_paths, unstage
from compiler.sizing import plan_tenant
from compiler.spec.edit import apply_update, new_spec_text
from compiler.spec.loader import parse_spec, spec_from_mapping, spec_path


@dataclass(frozen=True)
class WriteOutcome:
    tenant_id: str
    deployment_id: str | None
    entry: Mapping[str, Any]  # the tenant's output/index.json entry ({} after a delete)
    at: str  # when the write was accepted, ISO-8601 Z
    changed: bool = True


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _restore(path: Path, old: bytes | None) -> None:
    if old is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomically(path, old.decode("utf-8"))


def _check_if_match(path: Path, old: bytes, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    current = etag_of(old)
    wanted = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if current not in wanted:
        raise PreconditionFailed(
            f"{path.stem} changed since the ETag given in If-Match; GET it again",
            details={"tenant_id": path.stem, "current_etag": current},
        )


def _written_paths(ws: Workspace, tenant_id: str) -> list[Path]:
    """What a write changes: the spec, the tenant's output folder and the index."""
    settings = ws.settings
    return [
        spec_path(settings.tenants_dir, tenant_id),
        settings.output_dir / tenant_id,
        settings.output_dir / INDEX_FILE,
    ]


def _roll_back(ws: Workspace, path: Path, old: bytes | None) -> None:
    """Put the spec, the index entry for it and its compiled output back as they were."""
    _restore(path, old)
    if ws.read.is_git():
        unstage(ws.settings, _written_paths(ws, path.stem))
    with contextlib.suppress(OrchestratorError):  # the caller raises the first failure
        compile_workspace(ws.settings, [path.stem])
    ws.read.forget(path.stem)


def _error_class(code: str) -> type[OrchestratorError]:
    """The error class whose code is `code` (the compile report carries codes, not classes)."""
    pending: list[type[OrchestratorError]] = [OrchestratorError]
    while pending:
        cls = pending.pop(0)
        if cls.code == code:
            return cls
        pending.extend(cls.__subclasses__())
    return OrchestratorError


def _compile(ws: Workspace, tenant_id: str, removing: bool) -> Mapping[str, Any]:
    """Compile one tenant; its index entry, or its first compile error raised with all of them."""
    report = compile_workspace(ws.settings, [tenant_id])
    for result in report.results:
        if removing:
            continue  # the pipeline reports the missing spec and removes the tenant's output
        if result.tenant_id == tenant_id and result.status == "failed" and result.errors:
            first = result.errors[0]
            cls = _error_class(str(first.get("code", "")))
            # Server paths stay on the server: errors name the spec file only.
            errors = [{**e, "file": f"{tenant_id}.yaml"} for e in result.errors]
            raise cls(
                str(first.get("message", "compile failed")),
                details={"errors": errors, "field": first.get("field")},
            )
    return ws.read.index().get(tenant_id, {})


@contextmanager
def _in_flight(ws: Workspace, tenant_id: str) -> Iterator[None]:
    ws.in_flight.add(tenant_id)
    try:
        yield
    finally:
        ws.in_flight.discard(tenant_id)


def _apply(
    ws: Workspace,
    tenant_id: str,
    text: str | None,
    request_id: str,
    action: str,
    old: bytes | None,
    author: CommitAuthor | None = None,
) -> WriteOutcome:
    """Write (or remove) the spec, compile, commit, publish; a failed compile puts it back."""
    path = spec_path(ws.settings.tenants_dir, tenant_id)
    at = utc_now()  # also the commit's date, so the answer and git history agree
    if text is None:
        path.unlink()
    else:
        _write_atomically(path, text)
    try:
        entry = _compile(ws, tenant_id, removing=text is None)
        if ws.read.is_git():
            message = f"{action} tenant {tenant_id}\n\n"
            if author is not None:
                message += f"Ecp-Principal: {author.principal}\n"
            message += f"Ecp-Request-Id: {request_id}\n"
            commit_paths(ws.settings, _written_paths(ws, tenant_id), message, at, author)
    except BaseException:
        _roll_back(ws, path, old)
        raise
    ws.read.forget(tenant_id, committed_at=at, removed=text is None)
    try:
        fresh = ws.ledger.is_fresh()
        result = publish(ws.settings, request_id=request_id, author=author)
        ws.ledger.published(result.deployment_id, fresh)
    except OrchestratorError as exc:
        # The spec is accepted and compiled; the next publish carries it. Say so, and show
        # the tenant as failed until then.
        ws.failed[tenant_id] = exc.message
        exc.details.setdefault("spec_accepted", True)
        raise
    ws.failed.pop(tenant_id, None)
    return WriteOutcome(tenant_id, result.deployment_id, entry, at)


def create_tenant(
    ws: Workspace, body: Mapping[str, Any], request_id: str, author: CommitAuthor | None = None
) -> WriteOutcome:
    spec = spec_from_mapping(body)
    plan_tenant(spec, ws.read.catalogue())  # sizing errors (422) before anything is written
    text = new_spec_text(spec)
    with ws.lock, _in_flight(ws, spec.tenant_id):
        path = spec_path(ws.settings.tenants_dir, spec.tenant_id)
        if path.exists():
            raise TenantAlreadyExists(
                f"tenant {spec.tenant_id} already exists",
                details={"tenant_id": spec.tenant_id},
            )
        return _apply(ws, spec.tenant_id, text, request_id, "create", None, author)


def update_tenant(
    ws: Workspace,
    tenant_id: str,
    patch: Mapping[str, Any],
    if_match: str | None,
    request_id: str,
    author: CommitAuthor | None = None,
) -> WriteOutcome:
    with ws.lock, _in_flight(ws, tenant_id):
        path = spec_path(ws.settings.tenants_dir, tenant_id)
        old = _read_existing(path, tenant_id)
        _check_if_match(path, old, if_match)
        text = apply_update(old.decode("utf-8"), patch, f"{tenant_id}.yaml")
        spec = parse_spec(text, f"{tenant_id}.yaml", expected_id=tenant_id)
        plan_tenant(spec, ws.read.catalogue())
        if text.encode("utf-8") == old:
            entry = ws.read.index().get(tenant_id, {})
            return WriteOutcome(tenant_id, None, entry, utc_now(), changed=False)
        return _apply(ws, tenant_id, text, request_id, "update", old, author)


def delete_tenant(
    ws: Workspace,
    tenant_id: str,
    force: bool,
    if_match: str | None,
    request_id: str,
    author: CommitAuthor | None = None,
) -> WriteOutcome:
    # A publish still running for this tenant would race the removal; force waits for it instead.
    if tenant_id in ws.in_flight and not force:
        raise Conflict(
            f"tenant {tenant_id} has a publish in progress; retry, or delete with force=true",
            details={"tenant_id": tenant_id, "existing_status": "pending"},
        )
    with ws.lock, _in_flight(ws, tenant_id):
        path = spec_path(ws.settings.tenants_dir, tenant_id)
        old = _read_existing(path, tenant_id)
        _check_if_match(path, old, if_match)
        ws.deleting.add(tenant_id)
        try:
            return _apply(ws, tenant_id, None, request_id, "delete", old, author)
        finally:
            ws.deleting.discard(tenant_id)


def _read_existing(path: Path, tenant_id: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TenantNotFound(
            f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id}
        ) from None

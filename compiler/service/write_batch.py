"""One batch of tenant writes: journal, write the specs, one compile, one commit, one publish.

Input: the Workspace, its Journal and the queued WriteIntents (at most one per tenant). Output: one
WriteOutcome or error per intent, in order. Each step is recorded in the journal before the next
one starts; until the workspace commit is recorded, any failure rolls every spec of the batch back
(recovery.py does the same after a crash). Readers see the state before the batch until it is
published, then the new one at once. Runs on the writer thread only; never on the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.errors import OrchestratorError
from compiler.journal import Journal, JournalChange, JournalEntry
from compiler.journal.wal import new_batch_id
from compiler.output import INDEX_FILE
from compiler.pipeline import CompileReport, compile_workspace
from compiler.publishing import CommitAuthor, PublishResult
from compiler.service.error_responses import utc_now
from compiler.service.read_model import read_committed
from compiler.service.tenant_writes import PreparedChange, WriteIntent, current_spec
from compiler.service.workspace_git import (
    commit_message_of,
    commit_paths,
    head_commit,
    reset_to,
    unstage,
)
from compiler.settings import Settings
from compiler.spec.loader import spec_path

if TYPE_CHECKING:
    from compiler.service.state import Workspace

logger = logging.getLogger(__name__)
BATCH_TRAILER = "Ecp-Batch-Id"
PRINCIPAL_TRAILER = "Ecp-Principal"
REQUEST_TRAILER = "Ecp-Request-Id"
_VERB = {"create": "create", "update": "update", "delete": "delete"}


@dataclass(frozen=True)
class WriteOutcome:
    tenant_id: str
    deployment_id: str | None
    entry: Mapping[str, Any]  # the tenant's output/index.json entry ({} after a delete)
    at: str  # when the write was committed, ISO-8601 Z
    etag: str | None = None  # the spec's ETag after the write (None after a delete)
    changed: bool = True


class Retry:
    """The answer for a write that must go again in the next batch (see run_batch)."""


RETRY = Retry()
Result = WriteOutcome | OrchestratorError
Answer = Result | Retry


def run_batch(ws: Workspace, journal: Journal, intents: Sequence[WriteIntent]) -> list[Answer]:
    """Every intent's answer; a write that fails (bad input, precondition, its compile) fails
    alone. A failure of the batch as a whole (git, a compiler bug) retries its writes one by one,
    so one poisonous write cannot fail the others.

    One write per tenant is applied per batch. A later write of the same tenant that fails its
    precondition against that write's result (a stale If-Match, the usual loser of a race) is
    answered in this batch when that write succeeds, and retried when it fails; one that would
    apply goes again in the next batch (RETRY).
    """
    results: dict[int, Answer] = {}
    prepared: list[tuple[int, PreparedChange]] = []
    after: dict[str, PreparedChange] = {}  # tenant -> the change this batch applies to it
    behind: dict[int, str] = {}  # answers that hold only if the tenant's change succeeds
    # Prepared in the compile worker's process: applying a patch and sizing the result is CPU
    # work that would hold the server's GIL against the readers.
    current = {t: current_spec(ws, t) for t in dict.fromkeys(i.tenant_id for i in intents)}
    changes_or_errors = ws.writer.compiler.prepare(ws.settings, intents, current)
    for number, (intent, change) in enumerate(zip(intents, changes_or_errors, strict=True)):
        first = after.get(intent.tenant_id)
        if isinstance(change, OrchestratorError):
            results[number] = change
            if first is not None:
                behind[number] = intent.tenant_id
            continue
        if first is not None:
            results[number] = RETRY
        elif change.unchanged:
            entry = ws.read.index().get(intent.tenant_id, {})
            results[number] = WriteOutcome(
                intent.tenant_id, None, entry, utc_now(), change.etag, changed=False
            )
        else:
            prepared.append((number, change))
            after[intent.tenant_id] = change
    if prepared:
        changes = [change for _, change in prepared]
        try:
            outcomes = apply_changes(ws, journal, changes)
        except Exception:
            if len(changes) == 1:
                raise
            logger.warning("a batch of %d writes failed; retrying them one by one", len(changes))
            outcomes = [_alone(ws, journal, change) for change in changes]
        results.update(zip((number for number, _ in prepared), outcomes, strict=True))
    failed = {
        intents[number].tenant_id
        for number, _ in prepared
        if isinstance(results[number], OrchestratorError)
    }
    for number, tenant_id in behind.items():
        if tenant_id in failed:
            results[number] = RETRY
    return [results[number] for number in range(len(intents))]


def _alone(ws: Workspace, journal: Journal, change: PreparedChange) -> Result:
    try:
        return apply_changes(ws, journal, [change])[0]
    except OrchestratorError as exc:
        return exc


def written_paths(settings: Settings, tenant_id: str) -> list[Path]:
    """What a write changes: the spec, the tenant's output folder and the index."""
    return [
        spec_path(settings.tenants_dir, tenant_id),
        settings.output_dir / tenant_id,
        settings.output_dir / INDEX_FILE,
    ]


def write_atomically(path: Path, text: str) -> None:
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


def _put_spec(settings: Settings, tenant_id: str, text: str | None) -> None:
    path = spec_path(settings.tenants_dir, tenant_id)
    if text is None:
        path.unlink(missing_ok=True)
    else:
        write_atomically(path, text)


# Each spec is fsynced before the batch goes on; fsyncs issued together share the filesystem's
# journal commits, so a batch's specs are written by a few threads at once.
_SPEC_WRITERS = 8


def _put_specs(settings: Settings, specs: Sequence[tuple[str, str | None]]) -> None:
    if len(specs) < 2:
        for tenant_id, text in specs:
            _put_spec(settings, tenant_id, text)
        return
    with ThreadPoolExecutor(min(_SPEC_WRITERS, len(specs)), "ecp-spec-writer") as pool:
        list(pool.map(lambda spec: _put_spec(settings, *spec), specs))


def _journal_change(change: PreparedChange) -> JournalChange:
    intent = change.intent
    return JournalChange(
        tenant_id=change.tenant_id,
        action=intent.action,
        old=None if change.old is None else change.old.decode("utf-8"),
        new=change.new,
        request_id=intent.request_id,
        author_name=intent.author.name if intent.author else None,
        author_email=intent.author.email if intent.author else None,
        author_principal=intent.author.principal if intent.author else None,
    )


def batch_author(changes: Sequence[JournalChange]) -> CommitAuthor | None:
    """The principal when every write of the batch is theirs; None (the orchestrator) else."""
    authors = {(c.author_name, c.author_email, c.author_principal) for c in changes}
    if len(authors) != 1:
        return None
    name, email, principal = authors.pop()
    if name is None or email is None or principal is None:
        return None
    return CommitAuthor(name=name, email=email, principal=principal)


def batch_trailers(entry: JournalEntry) -> list[tuple[str, str]]:
    """One principal (for a write someone asked for) and one request id per write, in order,
    then the batch id (recovery
    recognises the batch's own commit by it)."""
    trailers: list[tuple[str, str]] = []
    for change in entry.changes:
        if change.author_principal:
            trailers.append((PRINCIPAL_TRAILER, change.author_principal))
        if change.request_id:
            trailers.append((REQUEST_TRAILER, change.request_id))
    trailers.append((BATCH_TRAILER, entry.batch_id))
    return trailers


def _commit_message(entry: JournalEntry) -> str:
    changes = entry.changes
    if len(changes) == 1:
        subject = f"{_VERB[changes[0].action]} tenant {changes[0].tenant_id}"
        body: list[str] = []
    else:
        subject = f"ecp: {len(changes)} tenant writes"
        body = [f"{_VERB[c.action]} tenant {c.tenant_id}" for c in changes] + [""]
    trailers = [f"{key}: {value}" for key, value in batch_trailers(entry)]
    return "\n".join([subject, "", *body, *trailers]) + "\n"


def _compile_errors(
    report: CompileReport, changes: Sequence[PreparedChange]
) -> dict[str, OrchestratorError]:
    """Per tenant, the first compile error (all of them in details), as the error it raises."""
    failed: dict[str, OrchestratorError] = {}
    removing = {c.tenant_id for c in changes if c.new is None}
    for result in report.results:
        if result.tenant_id in removing or result.status != "failed" or not result.errors:
            continue  # a removal reports the missing spec and removes the tenant's output
        first = result.errors[0]
        cls = _error_class(str(first.get("code", "")))
        # Server paths stay on the server: errors name the spec file only.
        errors = [{**e, "file": f"{result.tenant_id}.yaml"} for e in result.errors]
        failed[result.tenant_id] = cls(
            str(first.get("message", "compile failed")),
            details={"errors": errors, "field": first.get("field")},
        )
    return failed


def _error_class(code: str) -> type[OrchestratorError]:
    """The error class whose code is `code` (the compile report carries codes, not classes)."""
    pending: list[type[OrchestratorError]] = [OrchestratorError]
    while pending:
        cls = pending.pop(0)
        if cls.code == code:
            return cls
        pending.extend(cls.__subclasses__())
    return OrchestratorError


def apply_changes(
    ws: Workspace, journal: Journal, changes: Sequence[PreparedChange]
) -> list[Result]:
    settings = ws.settings
    ids = [c.tenant_id for c in changes]
    is_git = ws.read.is_git()
    entry = journal.write(
        JournalEntry(
            batch_id=new_batch_id(),
            phase="intent",
            workspace_head=head_commit(settings) if is_git else None,
            changes=tuple(_journal_change(c) for c in changes),
        )
    )
    ws.read.hold(ids)
    ws.ledger.hold()
    deleting = {c.tenant_id for c in changes if c.new is None}
    ws.deleting |= deleting
    at = utc_now()  # also the commit's date, so the answer and git history agree
    failed: dict[str, OrchestratorError] = {}
    report: CompileReport | None = None
    try:
        _put_specs(settings, [(c.tenant_id, c.new) for c in changes])
        entry = journal.advance(entry, "spec-written")
        report = ws.writer.compiler.compile(settings, ids)
        failed = _compile_errors(report, changes)
        for tenant_id in failed:  # its old output and index entry were left as they were
            old = next(c.old for c in changes if c.tenant_id == tenant_id)
            _put_spec(settings, tenant_id, None if old is None else old.decode("utf-8"))
        kept = tuple(c for c in entry.changes if c.tenant_id not in failed)
        entry = journal.advance(entry, "compiled", changes=kept)
        if kept and is_git:
            entry = _commit(ws, journal, entry, at)
        entry = journal.advance(entry, "committed")
    except BaseException:
        with contextlib.suppress(Exception):
            roll_back(ws, entry)
            journal.finish(entry)
        ws.deleting -= deleting
        ws.read.release(None, lambda: ws.ledger.apply(None, was_fresh=False))
        raise
    published: PublishResult | OrchestratorError | None = None
    try:
        if entry.changes:
            published = _publish(ws, entry)
        journal.advance(entry, "published")
    finally:
        # Published or not (a failed publish is carried by the next one), the batch is over.
        journal.finish(entry)
        ws.deleting -= deleting
        done = published if isinstance(published, PublishResult) else None
        record = ws.ledger.fetch(done.deployment_id, done.commit) if done else None
        index = _index_after(ws.read.index(), report) if report is not None else None
        committed = read_committed(settings, ids, at if is_git else None, index=index)
        ws.read.release(committed, lambda: ws.ledger.apply(record, was_fresh=True))
    results: list[Result] = []
    for change in changes:
        if change.tenant_id in failed:
            results.append(failed[change.tenant_id])
            continue
        if isinstance(published, OrchestratorError):
            results.append(published)
            continue
        ws.failed.pop(change.tenant_id, None)
        results.append(
            WriteOutcome(
                change.tenant_id,
                _deployment_of(done, change.tenant_id),
                committed.index.get(change.tenant_id, {}) if committed.index else {},
                at,
                change.etag,
            )
        )
    return results


def _index_after(
    before: Mapping[str, Mapping[str, Any]], report: CompileReport
) -> dict[str, Mapping[str, Any]]:
    """output/index.json's tenants after the batch: the readers' view before it with the
    batch's own entries put in (its compile report carries them), so nothing parses the whole
    index here, in the server's process."""
    index = dict(before)
    for result in report.results:
        if result.status in ("compiled", "unchanged") and result.entry is not None:
            index[result.tenant_id] = result.entry
        elif result.status == "removed":
            index.pop(result.tenant_id, None)
    return index


def _deployment_of(result: PublishResult | None, tenant_id: str) -> str | None:
    if result is None or not any(c.tenant_id == tenant_id for c in result.changes):
        return None
    return result.deployment_id


def _commit(ws: Workspace, journal: Journal, entry: JournalEntry, at: str) -> JournalEntry:
    settings = ws.settings
    paths = [p for c in entry.changes for p in written_paths(settings, c.tenant_id)]
    staged: list[JournalEntry] = []
    commit = commit_paths(
        settings,
        sorted(set(paths)),
        _commit_message(entry),
        at,
        author=batch_author(entry.changes),
        staged=lambda: staged.append(journal.advance(entry, "staged")),
    )
    return (staged[-1] if staged else entry).model_copy(update={"commit": commit})


def _publish(ws: Workspace, entry: JournalEntry) -> PublishResult | OrchestratorError:
    """Publish the batch, or the error every write of it answers: the specs are committed (the
    next publish carries them), the answer says so, and the tenants show as failed until then."""
    writer = ws.writer
    # The batch's tenants, plus any a failed publish left behind; the first publish after start
    # (or after a failure) plans every tenant, which reads no unchanged tenant's files.
    only = None if writer.publish_all else [c.tenant_id for c in entry.changes]
    try:
        result = writer.compiler.publish(
            ws.settings,
            trailers=batch_trailers(entry),
            author=batch_author(entry.changes),
            only=only,
        )
        writer.publish_all = False
        return result
    except Exception as exc:
        writer.publish_all = True
        if isinstance(exc, OrchestratorError):
            error = exc
        else:
            logger.exception("publishing batch %s failed", entry.batch_id)
            error = OrchestratorError("publishing to the deploy repo failed")
        for change in entry.changes:
            ws.failed[change.tenant_id] = error.message
        error.details.setdefault("spec_accepted", True)
        return error


def roll_back(ws: Workspace, entry: JournalEntry) -> None:
    """Put every spec of an uncommitted batch back, with its staged paths, its commit (when git
    made it but the journal did not record it) and its compiled output."""
    settings = ws.settings
    if ws.read.is_git():
        head = head_commit(settings)
        if (
            head is not None
            and head != entry.workspace_head
            and f"{BATCH_TRAILER}: {entry.batch_id}" in commit_message_of(settings, head)
        ):
            reset_to(settings, entry.workspace_head)
    for change in entry.changes:
        _put_spec(settings, change.tenant_id, change.old)
    if ws.read.is_git():
        paths = [p for c in entry.changes for p in written_paths(settings, c.tenant_id)]
        unstage(settings, sorted(set(paths)))
    with contextlib.suppress(OrchestratorError):  # each spec's own error was reported before
        compile_workspace(settings, [c.tenant_id for c in entry.changes])

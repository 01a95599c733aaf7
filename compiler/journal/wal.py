"""One batch's journal file: written with fsync (file and folder) at every step it reaches.

A batch is `intent` (nothing touched yet) -> `spec-written` -> `compiled` -> `staged` ->
`committed` (the workspace commit: the point of no return) -> `published`, then the file is
removed. Recovery reads `pending()`: before the commit it rolls back, from it on it completes.
"""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from compiler.errors import OrchestratorError

Phase = Literal["intent", "spec-written", "compiled", "staged", "committed", "published"]
PHASES: tuple[Phase, ...] = (
    "intent",
    "spec-written",
    "compiled",
    "staged",
    "committed",
    "published",
)
DURABLE: frozenset[Phase] = frozenset({"intent", "committed"})
# Fault injection for the kill test: the process SIGKILLs itself right after making this phase
# durable, so every named step of a write can be crashed at on purpose (unset in production).
CRASH_AT_ENV = "ECP_JOURNAL_CRASH_AT"
_SUFFIX = ".json"


class JournalChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tenant_id: str
    action: Literal["create", "update", "delete"]
    old: str | None  # spec text before the write; None: there was no spec
    new: str | None  # spec text after the write; None: the spec is removed
    request_id: str
    # Who asked (git author and Ecp-Principal trailer); None: the orchestrator itself.
    author_name: str | None = None
    author_email: str | None = None
    author_principal: str | None = None


class JournalEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    batch_id: str
    phase: Phase
    workspace_head: str | None  # the workspace repo's HEAD before the batch (None: no git)
    commit: str | None = None  # the batch's workspace commit, once made
    changes: tuple[JournalChange, ...]

    def reached(self, phase: Phase) -> bool:
        return PHASES.index(self.phase) >= PHASES.index(phase)


def new_batch_id() -> str:
    return f"batch-{uuid.uuid4().hex[:16]}"


class Journal:
    """The journal folder of one workspace; one writer thread uses it at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, batch_id: str) -> Path:
        return self.folder / f"{batch_id}{_SUFFIX}"

    def write(self, entry: JournalEntry) -> JournalEntry:
        """Record `entry`: written aside and renamed over the old one. The intent and the commit
        are fsynced (file and folder): recovery's decision rests on them alone. The steps between
        only say how far a batch got; losing one to a power cut still means "roll back"."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(entry.batch_id)
        tmp = path.with_suffix(".tmp")
        durable = entry.phase in DURABLE
        try:
            with tmp.open("wb") as handle:
                handle.write(entry.model_dump_json().encode("utf-8"))
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            tmp.replace(path)
            if durable:
                _fsync_dir(self.folder)
        except OSError as exc:
            raise OrchestratorError(
                f"cannot write the write journal: {exc.strerror}",
                details={"journal_phase": entry.phase},
            ) from exc
        if os.environ.get(CRASH_AT_ENV) == entry.phase:
            os.kill(os.getpid(), signal.SIGKILL)
        return entry

    def advance(self, entry: JournalEntry, phase: Phase, **changes: object) -> JournalEntry:
        return self.write(entry.model_copy(update={"phase": phase, **changes}))

    def finish(self, entry: JournalEntry) -> None:
        # Not fsynced: a removal lost to a power cut replays a finished batch, which is a no-op.
        self._path(entry.batch_id).unlink(missing_ok=True)

    def pending(self) -> JournalEntry | None:
        """The batch a crash interrupted, if any (a leftover temp file is an intent never made:
        the write that wrote it was not acknowledged and touched nothing yet)."""
        if not self.folder.is_dir():
            return None
        for stray in self.folder.glob("*.tmp"):
            stray.unlink(missing_ok=True)
        for path in sorted(self.folder.glob(f"*{_SUFFIX}")):
            try:
                return JournalEntry.model_validate_json(path.read_bytes())
            except (OSError, ValidationError) as exc:
                # Renamed in whole or not at all, so this is not a file we wrote: say so.
                raise OrchestratorError(
                    f"the write journal holds an unreadable entry {path.name}; move it aside",
                    details={"journal_entry": path.name},
                ) from exc
        return None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

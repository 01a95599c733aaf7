"""Recovery of an interrupted batch of writes, on start and before every batch.

Input: the Workspace and its Journal. Output: the journal emptied, with the interrupted batch
either completed (its workspace commit was recorded: it is published now) or rolled back (specs,
staged paths, an unrecorded commit and compiled output put back), so HEAD, output/index.json and
the deploy repo agree again. The deploy repo's own half-done publish is publishing's to undo.
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import TYPE_CHECKING, Literal

from compiler.errors import OrchestratorError
from compiler.journal import Journal
from compiler.output import INDEX_FILE
from compiler.publishing import publish
from compiler.service.write_batch import batch_author, batch_trailers, roll_back
from compiler.settings import Settings

if TYPE_CHECKING:
    from compiler.service.state import Workspace

logger = logging.getLogger(__name__)
Recovered = Literal["completed", "rolled back"]


def _clear_leftovers(settings: Settings, tenant_ids: list[str]) -> None:
    """What the killed process was writing aside: temp specs, the compiler's staging folder and
    temp index. Only after a crash (a journal entry proves one), and never this process's own."""
    for tenant_id in tenant_ids:
        for stray in settings.tenants_dir.glob(f".{tenant_id}.yaml.*.tmp"):
            stray.unlink(missing_ok=True)
    output = settings.output_dir
    mine = str(os.getpid())
    for stray in output.glob(".staging-*"):
        if stray.name.removeprefix(".staging-") != mine:
            shutil.rmtree(stray, ignore_errors=True)
    for stray in output.glob(f".{INDEX_FILE}.*.tmp"):
        if stray.name.split(".")[-2] != mine:
            stray.unlink(missing_ok=True)


def recover(ws: Workspace, journal: Journal) -> Recovered | None:
    """Finish or undo the batch a crash interrupted; None when there was none."""
    entry = journal.pending()
    if entry is None:
        return None
    _clear_leftovers(ws.settings, [c.tenant_id for c in entry.changes])
    outcome: Recovered
    if entry.reached("committed"):
        if not entry.reached("published") and entry.changes:
            try:
                publish(
                    ws.settings, trailers=batch_trailers(entry), author=batch_author(entry.changes)
                )
            except OrchestratorError as exc:
                # Committed in the workspace: the next successful publish carries it.
                logger.warning("recovery could not publish batch %s: %s", entry.batch_id, exc)
        outcome = "completed"
    else:
        roll_back(ws, entry)
        outcome = "rolled back"
    journal.finish(entry)
    ws.read.release(None, lambda: ws.ledger.apply(None, was_fresh=False))
    logger.info("recovered interrupted batch %s: %s", entry.batch_id, outcome)
    return outcome

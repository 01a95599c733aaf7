"""Recovery of an interrupted batch of writes, on start and before every batch.

Input: the Workspace and its Journal. Output: the journal emptied, with the interrupted batch
either completed (its workspace commit was recorded: it is published now) or rolled back (specs,
staged paths, an unrecorded commit and compiled output put back), so HEAD, output/index.json and
the deploy repo agree again. The deploy repo's own half-done publish is publishing's to undo.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from compiler.errors import OrchestratorError
from compiler.journal import Journal
from compiler.publishing import publish
from compiler.service.write_batch import batch_author, batch_trailers, roll_back

if TYPE_CHECKING:
    from compiler.service.state import Workspace

logger = logging.getLogger(__name__)
Recovered = Literal["completed", "rolled back"]


def recover(ws: Workspace, journal: Journal) -> Recovered | None:
    """Finish or undo the batch a crash interrupted; None when there was none."""
    entry = journal.pending()
    if entry is None:
        return None
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

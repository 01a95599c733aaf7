"""The write journal: an entry read back is the one written last; a finished batch leaves
nothing; a leftover temp file is an intent never made; a damaged entry is an error, not a guess."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.errors import OrchestratorError
from compiler.journal import Journal, JournalChange, JournalEntry

CHANGE = JournalChange(
    tenant_id="acme",
    action="create",
    old=None,
    new="tenant_id: acme\n",
    request_id="req-1",
    author_name="ecp-orchestrator",
    author_email="ecp-orchestrator@localhost",
)


def test_the_pending_entry_is_the_last_step_written_and_finish_removes_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    assert journal.pending() is None
    entry = journal.write(
        JournalEntry(batch_id="batch-1", phase="intent", workspace_head="abc", changes=(CHANGE,))
    )
    entry = journal.advance(entry, "staged")
    pending = journal.pending()
    assert pending == entry and pending.phase == "staged"
    assert not pending.reached("committed") and pending.reached("compiled")
    journal.finish(entry)
    assert journal.pending() is None
    assert list((tmp_path / "journal").iterdir()) == []


def test_a_leftover_temp_file_is_ignored_and_removed(tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    folder.mkdir()
    (folder / "batch-2.tmp").write_text("{half", encoding="utf-8")
    assert Journal(folder).pending() is None
    assert list(folder.iterdir()) == []


def test_a_damaged_entry_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    folder.mkdir()
    (folder / "batch-3.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(OrchestratorError) as caught:
        Journal(folder).pending()
    assert "batch-3.json" in caught.value.message

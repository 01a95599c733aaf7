"""A batch's commit names each write as git trailers (read back by git itself), and its author is
the principal only when every write of the batch is theirs."""

from __future__ import annotations

import subprocess

import pytest

from compiler.journal import JournalChange, JournalEntry
from compiler.service.write_batch import _commit_message, batch_author


def change(tenant: str, request_id: str, name: str | None = None) -> JournalChange:
    return JournalChange(
        tenant_id=tenant,
        action="update",
        old="a: 1\n",
        new="a: 2\n",
        request_id=request_id,
        author_name=name,
        author_email=f"{name}@example.com" if name else None,
        author_principal=name,
    )


def entry(*changes: JournalChange) -> JournalEntry:
    return JournalEntry(
        batch_id="batch-0123456789abcdef", phase="compiled", workspace_head=None, changes=changes
    )


def trailers(message: str) -> list[tuple[str, str]]:
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [tuple(line.split(": ", 1)) for line in parsed.splitlines()]  # type: ignore[misc]


def test_each_write_of_a_batch_is_one_principal_and_one_request_id_trailer() -> None:
    message = _commit_message(entry(change("a", "req-1", "ana"), change("b", "req-2", "bo")))
    assert message.splitlines()[0] == "ecp: 2 tenant writes"
    assert trailers(message) == [
        ("Ecp-Principal", "ana"),
        ("Ecp-Request-Id", "req-1"),
        ("Ecp-Principal", "bo"),
        ("Ecp-Request-Id", "req-2"),
        ("Ecp-Batch-Id", "batch-0123456789abcdef"),
    ]


def test_a_batch_of_one_keeps_the_one_line_subject() -> None:
    message = _commit_message(entry(change("acme", "req-9")))
    assert message.splitlines()[0] == "update tenant acme"
    assert ("Ecp-Request-Id", "req-9") in trailers(message)


@pytest.mark.parametrize(
    ("names", "author"),
    [
        (["ana", "ana"], ("ana", "ana@example.com")),
        (["ana", "bo"], None),
        (["ana", None], None),
        ([None], None),
    ],
    ids=["one-principal", "two-principals", "principal-and-orchestrator", "the-orchestrator"],
)
def test_the_author_is_the_principal_only_when_all_writes_share_one(
    names: list[str | None], author: tuple[str, str] | None
) -> None:
    changes = [change(f"t{i}", f"r{i}", name) for i, name in enumerate(names)]
    found = batch_author(changes)
    assert (None if found is None else (found.name, found.email)) == author

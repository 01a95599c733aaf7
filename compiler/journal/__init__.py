"""The write-ahead journal of tenant writes: a batch's intent made durable before it is applied.

Input: a batch of spec changes (tenant, spec text before and after, request id, author) and the
step it has reached. Output: one fsynced JSON file per batch, read back after a crash so the
service's recovery can complete or roll back the batch. No git, no compiling, no HTTP here.
"""

from compiler.journal.wal import PHASES, Journal, JournalChange, JournalEntry, Phase

__all__ = ["PHASES", "Journal", "JournalChange", "JournalEntry", "Phase"]

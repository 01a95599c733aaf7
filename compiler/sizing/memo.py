"""Memoised pure figures of the sizing model, shared by every tenant sized on one catalogue.

Input: a catalogue and a key naming a pure function's inputs (a service's hardware, its load, a
pod count...). Output: a dict to read and fill. Figures that depend on load are bounded: a
long-lived catalogue (the API server's) never grows its memo without limit. It must hold only
values that are pure functions of their key: a memo hit and a fresh computation are identical.
"""

from __future__ import annotations

from typing import Any

from compiler.catalogue import Catalogue

# Entries kept for load-dependent figures before the memo starts afresh: ~100 B a key, so tens
# of MB at most; a compile of 1,000 tenants fills ~60,000.
LOAD_ENTRIES = 200_000


def load_memo(catalogue: Catalogue) -> dict[Any, Any]:
    """The catalogue's memo for load-dependent figures (queue states, path percentiles)."""
    memo: dict[Any, Any] | None = catalogue.memo.get("load")
    if memo is None or len(memo) > LOAD_ENTRIES:
        memo = {}
        catalogue.memo["load"] = memo
    return memo

"""Serialised read answers (JSON bytes and their headers), reused while their data version holds.

Input: a key (which answer: the list for one query, one tenant's detail) and a version (a tuple of
every fact the answer was built from: file stats, the read model's switch counter, in-flight
flags). Output: the bytes built for that exact version, or a miss. Never a second truth: a
version that moved is a miss, and the caller stores an answer only when the version it read
before building equals the one after (so a write landing mid-build is never cached as current).
No I/O, no model building here.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass, field

DEFAULT_SIZE = 4096  # a 1,000-tenant workspace's details (~2 KB each) and its list pages


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class AnswerCache:
    """Bounded: past `size` entries the oldest is forgotten. Safe across threads."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: dict[Hashable, tuple[Hashable, CachedAnswer]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: Hashable) -> CachedAnswer | None:
        found = self._entries.get(key)
        if found is not None and found[0] == version:
            self.hits += 1
            return found[1]
        self.misses += 1
        return None

    def put(self, key: Hashable, version: Hashable, answer: CachedAnswer) -> None:
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (version, answer)

    def __len__(self) -> int:
        return len(self._entries)

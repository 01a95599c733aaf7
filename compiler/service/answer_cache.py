"""Serialised read answers (JSON bytes and their headers), reused while their data version holds.

Input: a key (which answer: the list for one query, one tenant's detail) and a version (a tuple of
every fact the answer was built from: file stats, the read model's switch counter, in-flight
flags). Output: the bytes built for that exact version, or a miss. Never a second truth: a
version that moved is a miss, and the caller stores an answer only when the version it read
before building equals the one after (so a write landing mid-build is never cached as current).
No I/O, no model building here.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

DEFAULT_SIZE = 4096  # a 1,000-tenant workspace's details (~2 KB each) and its list pages
JSON = b"application/json"
T = TypeVar("T")


class CachedAnswer:
    """A 200 answer's body and headers, with the raw header list built once: sending a kept
    answer encodes nothing (Content-Length and Content-Type included)."""

    __slots__ = ("body", "headers", "raw_headers")

    def __init__(self, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.body = body
        self.headers = dict(headers or {})
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        raw += [(b"content-length", str(len(body)).encode()), (b"content-type", JSON)]
        self.raw_headers = tuple(raw)


class TurnMemo:
    """Facts read once per turn of the event loop, for every request that turn runs.

    A version costs a dozen stat calls; under load one loop turn runs many requests, and every
    one of them arrived before the turn began (the selector returned their bytes, or the task
    that woke them was scheduled, in an earlier turn), so a reading taken during the turn is
    taken after each of them arrived: one reading serves them all and none sees a state older
    than its own arrival (a write answered in an earlier turn is seen). Forgotten when the turn
    ends (call_soon), and after MAX_AGE_S within one turn: a caller that drives the app in
    process without yielding to the loop (httpx.ASGITransport) runs many requests in one turn.
    Off the loop (a worker thread) it reads afresh.
    """

    MAX_AGE_S = 0.001

    def __init__(self) -> None:
        self._values: dict[Hashable, object] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._since = 0.0

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return read()
        now = time.perf_counter()
        if self._loop is not loop:  # the first reading this turn (or the first on this loop)
            self._loop = loop
            loop.call_soon(self._forget)
            self._values, self._since = {}, now
        elif now - self._since > self.MAX_AGE_S:
            self._values, self._since = {}, now
        values = self._values
        if key in values:
            return values[key]  # type: ignore[return-value]  # stored by this method as T
        value = values[key] = read()
        return value

    def _forget(self) -> None:
        self._values = {}
        self._loop = None


class AnswerCache:
    """Bounded: past `size` entries the oldest is forgotten. Safe across threads."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: dict[Hashable, tuple[Hashable, CachedAnswer]] = {}
        self._lock = threading.Lock()
        self.turn = TurnMemo()
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

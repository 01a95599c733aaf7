"""Rate limits: one token bucket per principal (per client address for anonymous demo callers)
and budget (reads, writes), sized per role from settings.access.rate_limits.

Input: a principal's rate key and role, whether the call spends the write budget, and the clock.
Output: a RateDecision (allowed, and the RateLimit-* header values). A few dict operations and
float arithmetic per call (bench/bench_access.py keeps it under 50 µs). No I/O here.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from compiler.settings import RateBudget, RoleLimits

MAX_BUCKETS = 50_000  # past this, idle callers' buckets are forgotten
IDLE_S = 300.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # until the bucket is full again
    retry_after_s: int  # until one more call is allowed (0 when allowed)
    budget: str

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after_s)
        return out

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """`headers()` as the (lower-case name, value) byte pairs an ASGI answer carries, built
        without the dict (every answer carries them)."""
        out = [
            (b"ratelimit-limit", b"%d" % self.limit),
            (b"ratelimit-remaining", b"%d" % self.remaining),
            (b"ratelimit-reset", b"%d" % self.reset_s),
        ]
        if not self.allowed:
            out.append((b"retry-after", b"%d" % self.retry_after_s))
        return out


class RateLimiter:
    def __init__(
        self, limits: Mapping[str, RoleLimits], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = dict(limits)
        self.clock = clock
        self._buckets: dict[tuple[str, str], list[float]] = {}  # key -> [tokens, last]
        self._lock = threading.Lock()

    def budget(self, role: str, writes: bool) -> RateBudget:
        limits = self.limits.get(role) or self.limits["viewer"]
        return limits.writes if writes else limits.reads

    def spend(self, key: str, role: str, writes: bool) -> RateDecision:
        budget = self.budget(role, writes)
        name = "writes" if writes else "reads"
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get((key, name))
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._forget_idle(now)
                bucket = self._buckets[(key, name)] = [float(budget.burst), now]
            tokens = min(budget.burst, bucket[0] + (now - bucket[1]) * budget.per_second)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            bucket[0], bucket[1] = tokens, now
        missing = budget.burst - tokens
        return RateDecision(
            allowed=allowed,
            limit=budget.burst,
            remaining=int(tokens),
            reset_s=math.ceil(missing / budget.per_second),
            retry_after_s=0 if allowed else max(1, math.ceil((1 - tokens) / budget.per_second)),
            budget=name,
        )

    def _forget_idle(self, now: float) -> None:
        # A bucket untouched for IDLE_S has refilled under any sane budget: forgetting it
        # gives its caller nothing a fresh bucket would not.
        for key, (_, last) in list(self._buckets.items()):
            if now - last > IDLE_S:
                del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:
            self._buckets.clear()

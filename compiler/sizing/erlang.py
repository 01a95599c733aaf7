"""Erlang B/C queueing formulas, computed with the numerically stable Erlang B recursion.

B(0) = 1, B(k) = A*B(k-1) / (k + A*B(k-1)); C = N*B / (N - A*(1 - B)). Valid for A < N; for A >= N
the queue grows without bound, which these functions report as P(wait) = 1 and an infinite wait.
Pure functions; no state.
"""

from __future__ import annotations

import math


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of an M/M/N/N system with offered load `load` Erlangs."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must be non-negative")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c_from_b(servers: int, load: float, blocking: float) -> float:
    """P(wait) from a known Erlang B value for the same servers and load."""
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    return servers * blocking / (servers - load * (1 - blocking))


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits (M/M/N), in [0, 1]."""
    return erlang_c_from_b(servers, load, erlang_b(servers, load))


def mean_wait(servers: int, load: float, hold: float, p_wait: float | None = None) -> float:
    """Average speed of answer: C * hold / (N - A), in the unit of `hold`; inf if A >= N."""
    if load <= 0:
        return 0.0
    if load >= servers:
        return math.inf
    c = erlang_c(servers, load) if p_wait is None else p_wait
    return c * hold / (servers - load)


def service_level(servers: int, load: float, hold: float, target: float) -> float:
    """Share of arrivals answered within `target` (same unit as `hold`)."""
    if load <= 0:
        return 1.0
    if load >= servers:
        return 0.0
    c = erlang_c(servers, load)
    return 1 - c * math.exp(-(servers - load) * target / hold)


class ErlangBSeries:
    """Erlang B for a growing number of servers at a fixed load, extending the recursion.

    Searching for the smallest replica count evaluates N = s, 2s, 3s, ...; continuing the
    recursion keeps the whole search O(N) instead of O(N) per candidate.
    """

    def __init__(self, load: float) -> None:
        if load < 0:
            raise ValueError("load must be non-negative")
        self.load = load
        self._servers = 0
        self._blocking = 1.0

    def at(self, servers: int) -> float:
        if servers < self._servers:
            return erlang_b(servers, self.load)
        for k in range(self._servers + 1, servers + 1):
            self._blocking = self.load * self._blocking / (k + self.load * self._blocking)
        self._servers = servers
        return self._blocking

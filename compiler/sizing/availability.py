"""k-of-n availability: the chance that at least k of n independent replicas are up.

P = sum_{i=k..n} C(n,i) a^i (1-a)^(n-i), summed over the (few) down-states in log space so that
large n neither overflows nor underflows. Pure functions.
"""

from __future__ import annotations

import math

# Availability targets are compared with this slack so that 1 - 0.01**2 meets "99.99%".
TOLERANCE = 1e-12


def at_least_k_up(k: int, n: int, availability: float) -> float:
    if not 0 < availability < 1:
        raise ValueError("per-replica availability must be between 0 and 1")
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    log_a, log_q = math.log(availability), math.log1p(-availability)
    total = 0.0
    for down in range(n - k + 1):
        log_term = (
            math.lgamma(n + 1)
            - math.lgamma(down + 1)
            - math.lgamma(n - down + 1)
            + down * log_q
            + (n - down) * log_a
        )
        total += math.exp(log_term)
    return min(total, 1.0)


def replicas_for_availability(k: int, availability: float, target: float, floor: int = 1) -> int:
    """Smallest n >= max(k, floor) with P(at least k of n up) >= target."""
    n = max(k, floor)
    while at_least_k_up(k, n, availability) + TOLERANCE < target:
        n += 1
    return n


def with_rollouts(k: int, n: int, availability: float, rollout_share: float) -> float:
    """P(at least k of n serving) when a rollout takes maxUnavailable pods down on purpose for
    `rollout_share` of the time: 1 with spares (maxUnavailable 1), 0 without (surge first)."""
    unavailable = 1 if n > k else 0
    steady = at_least_k_up(k, n, availability)
    if rollout_share <= 0 or unavailable == 0:
        return steady
    rolling = at_least_k_up(k, n - unavailable, availability)
    return (1 - rollout_share) * steady + rollout_share * rolling


def replicas_for_target(
    k: int, availability: float, target: float, rollout_share: float, floor: int = 1
) -> int:
    """Smallest n >= max(k, floor) meeting `target` with rollouts counted."""
    n = max(k, floor)
    while with_rollouts(k, n, availability, rollout_share) + TOLERANCE < target:
        n += 1
    return n

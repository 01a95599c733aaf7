"""Synthetic metrics for demo tenants: a daily cycle, noise and an occasional spike.

Input: a tenant ID and a time. Output: a Sample that is the same every time for the same inputs
(seeded by a hash of tenant and minute), so demos and tests are reproducible. About one hour in
ten holds a six-minute spike past the critical thresholds, which fires alerts through the normal
ingest path. Pure: no clock, no store, no randomness beyond the hash.
"""

from __future__ import annotations

import hashlib
import math

from compiler.alerting import METRIC_NAMES
from compiler.monitoring.samples import Sample

STEP_MS = 60_000  # one sample a minute, like a typical scrape interval
MINUTE_MS = 60_000
SPIKE_HOURS_IN_100 = 10  # ~10 % of hours hold a spike: a few alerts per tenant per day
SPIKE_START_MINUTE = 20
SPIKE_MINUTES = 6


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def in_spike(tenant_id: str, ts_ms: int) -> bool:
    hour = ts_ms // 3_600_000
    minute = ts_ms // MINUTE_MS % 60
    chosen = _unit(tenant_id, "spike", hour) * 100 < SPIKE_HOURS_IN_100
    return chosen and SPIKE_START_MINUTE <= minute < SPIKE_START_MINUTE + SPIKE_MINUTES


def demo_sample(tenant_id: str, ts_ms: int, sla_response_time_ms: float = 200.0) -> Sample:
    """The demo tenant's metrics at `ts_ms` (rounded down to the minute)."""
    ts_ms -= ts_ms % MINUTE_MS
    minute = ts_ms // MINUTE_MS
    day_fraction = (ts_ms % 86_400_000) / 86_400_000
    # Contact centres peak in the afternoon (UTC here) and idle at night: 0..1 load.
    phase = _unit(tenant_id, "phase") * 0.1
    load = 0.5 + 0.4 * math.sin(2 * math.pi * (day_fraction - 0.375 + phase))
    noise = _unit(tenant_id, minute) - 0.5  # -0.5..0.5
    scale = 0.7 + 0.3 * _unit(tenant_id, "size")  # tenants differ in size
    spike = in_spike(tenant_id, ts_ms)

    cpu = 96.0 + 3 * noise if spike else _clamp(20 + 55 * load * scale + 6 * noise, 1, 90)
    memory = _clamp(45 + 25 * load * scale + 2 * noise + (8 if spike else 0), 1, 97)
    gpu = 97.0 + 2 * noise if spike else _clamp(15 + 60 * load * scale + 8 * noise, 0, 92)
    requests = round(200 + 2400 * load * scale * (1 + 0.1 * noise))
    response = sla_response_time_ms * (0.55 + 0.25 * load + 0.05 * noise) * (2.3 if spike else 1)
    error_rate = 0.06 + 0.01 * noise if spike else max(0.0, 0.002 + 0.002 * noise)
    storage = 5e11 * scale + minute * 2_000.0  # slow, steady growth of recordings
    values = {
        "cpu_usage": round(cpu, 1),
        "memory_usage": round(memory, 1),
        "gpu_usage": round(gpu, 1),
        "network_in": float(round(requests * 1000 * (1 + 0.05 * noise))),
        "network_out": float(round(requests * 680 * (1 + 0.05 * noise))),
        "storage_used": float(round(storage)),
        "request_count": float(requests),
        "response_time": round(response, 1),
        "error_rate": round(error_rate, 4),
    }
    return Sample(ts_ms, tuple(values[name] for name in METRIC_NAMES))


def demo_samples(
    tenant_id: str, start_ms: int, end_ms: int, sla_response_time_ms: float = 200.0
) -> list[Sample]:
    """One sample per minute in [start_ms, end_ms], aligned to whole minutes."""
    first = -(-start_ms // STEP_MS) * STEP_MS
    return [
        demo_sample(tenant_id, ts, sla_response_time_ms) for ts in range(first, end_ms + 1, STEP_MS)
    ]


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))

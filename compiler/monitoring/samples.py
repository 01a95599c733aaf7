"""Metric samples: the reference's POST .../monitoring body (one sample or a batch) to typed rows.

Input: the decoded JSON body, the current time and the oldest time retention keeps. Output: Sample
tuples in METRIC_NAMES order, or a ValidationFailed / PayloadTooLarge naming the offending field;
nothing is accepted that would later be overwritten or deleted unseen. Hand-written checks rather
than a pydantic model per sample: ingest must stay above 20,000 samples/s. No I/O here.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from compiler.alerting import METRIC_NAMES, METRICS
from compiler.errors import PayloadTooLarge, ValidationFailed

# 10,000 samples is a minute of 1,000 tenants or a week of one tenant at 1/min: enough for any
# batching agent, small enough that one request's transaction stays well under a second.
MAX_BATCH = 10_000
# Clocks drift; a sample a few minutes ahead is a skewed agent, one hours ahead is a bug.
MAX_FUTURE_MS = 5 * 60 * 1000
MIN_TIMESTAMP_MS = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp() * 1000)
# The reference's Python SDK example sends {"cpu": .., "memory": ..}: the short names are aliases.
ALIASES = {"cpu": "cpu_usage", "memory": "memory_usage", "gpu": "gpu_usage"}
_INDEX = {name: i for i, name in enumerate(METRIC_NAMES)}
_BOUNDS = tuple((m.minimum, m.maximum) for m in METRICS)
_SAMPLE_KEYS = frozenset({"timestamp", "metrics"})


@dataclass(frozen=True, slots=True)
class Sample:
    """A tenant's metrics at one instant; values[i] is METRIC_NAMES[i] (None: not sent)."""

    ts_ms: int
    values: tuple[float | None, ...]

    def get(self, name: str) -> float | None:
        return self.values[_INDEX[name]]


def _invalid(field: str, message: str, value: Any = None) -> ValidationFailed:
    details: dict[str, Any] = {"field": field}
    if value is not None:
        details["value"] = repr(value)[:100]
    return ValidationFailed(f"{field}: {message}", details=details)


@functools.lru_cache(maxsize=16_384)
def iso_z(ts_ms: int) -> str:
    """Milliseconds since the epoch as the reference's ISO-8601 with a Z (to the second).
    Cached: a day at 1 m is 1,440 bucket stamps per answer, the same from one GET to the next."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: Any, field: str, now_ms: int, oldest_ms: int = MIN_TIMESTAMP_MS) -> int:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid(field, "not an ISO-8601 time like 2024-01-20T14:30:00Z", value) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # the reference's examples are all UTC
        ts_ms = int(moment.timestamp() * 1000)
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        ts_ms = int(value * 1000)  # epoch seconds, as agents written in shell tend to send
    else:
        raise _invalid(field, "must be an ISO-8601 string or epoch seconds", value)
    if ts_ms < MIN_TIMESTAMP_MS:
        raise _invalid(field, "is before 2000-01-01", value)
    if ts_ms < oldest_ms:
        # Accepting it would be a lie: the next retention pass deletes it.
        raise _invalid(
            field, f"is older than the retention window (since {iso_z(oldest_ms)})", value
        )
    if ts_ms > now_ms + MAX_FUTURE_MS:
        raise _invalid(field, "is more than 5 minutes in the future", value)
    return ts_ms


def _parse_metrics(raw: Any, field: str) -> tuple[float | None, ...]:
    if not isinstance(raw, dict) or not raw:
        raise _invalid(field, "must be a non-empty object of metric values")
    values: list[float | None] = [None] * len(METRIC_NAMES)
    for key, value in raw.items():
        name = ALIASES.get(key, key) if isinstance(key, str) else ""
        index = _INDEX.get(name)
        where = f"{field}.{key}"
        if index is None:
            raise ValidationFailed(
                f"{where}: unknown metric (known: {', '.join(METRIC_NAMES)})",
                details={"field": where, "allowed": list(METRIC_NAMES)},
            )
        if values[index] is not None:
            raise _invalid(where, f"given twice (as {name} and an alias)")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _invalid(where, "must be a number", value)
        number = float(value)
        if not math.isfinite(number):
            raise _invalid(where, "must be a finite number (not NaN or infinite)", value)
        low, high = _BOUNDS[index]
        if number < low or (high is not None and number > high):
            limit = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise _invalid(where, f"must be {limit}", value)
        values[index] = number
    return tuple(values)


def _parse_one(raw: Any, field: str, now_ms: int, oldest_ms: int) -> Sample:
    if not isinstance(raw, dict):
        raise _invalid(field or "body", "must be an object with timestamp and metrics")
    unknown = sorted(set(raw) - _SAMPLE_KEYS)
    prefix = f"{field}." if field else ""
    if unknown:
        raise _invalid(f"{prefix}{unknown[0]}", "unknown field (expected timestamp, metrics)")
    ts_raw = raw.get("timestamp")
    ts_ms = (
        now_ms
        if ts_raw is None
        else parse_timestamp(ts_raw, f"{prefix}timestamp", now_ms, oldest_ms)
    )
    return Sample(ts_ms, _parse_metrics(raw.get("metrics"), f"{prefix}metrics"))


def _refuse_repeats(samples: list[Sample], base: str) -> None:
    """Two values of one metric at one instant in one batch: one would silently replace the
    other (samples of the same instant merge), so the batch is refused instead."""
    seen: dict[int, int] = {}  # ts -> index of the first sample at that instant
    for i, sample in enumerate(samples):
        first = seen.setdefault(sample.ts_ms, i)
        if first == i:
            continue
        clash = [
            name
            for name, a, b in zip(METRIC_NAMES, samples[first].values, sample.values, strict=True)
            if a is not None and b is not None
        ]
        if clash:
            raise _invalid(
                f"{base}[{i}].metrics.{clash[0]}",
                f"{base}[{first}] already gives it for the same timestamp",
            )


def parse_samples(
    body: Any, now_ms: int, *, max_batch: int = MAX_BATCH, oldest_ms: int = MIN_TIMESTAMP_MS
) -> list[Sample]:
    """The body as samples: {timestamp, metrics}, a list of those, or {"samples": [...]}.
    Timestamps before `oldest_ms` (the retention window) are refused, not stored to be deleted."""
    if isinstance(body, dict) and "samples" in body:
        if set(body) != {"samples"}:
            raise _invalid("body", 'a batch is {"samples": [...]} with nothing beside it')
        items, base = body["samples"], "samples"
    elif isinstance(body, list):
        items, base = body, "samples"
    else:
        return [_parse_one(body, "", now_ms, oldest_ms)]
    if not isinstance(items, list) or not items:
        raise _invalid(base, "must be a non-empty list of samples")
    if len(items) > max_batch:
        raise PayloadTooLarge(
            f"{base}: {len(items)} samples in one request; at most {max_batch}",
            details={"field": base, "count": len(items), "max": max_batch},
        )
    samples = [_parse_one(item, f"{base}[{i}]", now_ms, oldest_ms) for i, item in enumerate(items)]
    _refuse_repeats(samples, base)
    return samples

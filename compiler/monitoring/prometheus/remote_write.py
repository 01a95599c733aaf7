"""Prometheus remote-write 1.0: tenant samples as a snappy-compressed protobuf WriteRequest.

Input: a tenant ID and its Sample rows. Output: the request body bytes (and the headers it needs).
The WriteRequest is four small messages (WriteRequest > TimeSeries > Label, Sample), so it is
encoded here by hand rather than through protobuf and generated code; snappy (block format, as the
protocol asks) comes from cramjam. Series are our /metrics gauges, in their base units. Pure.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import cramjam

from compiler.alerting import METRICS
from compiler.monitoring.samples import Sample

HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "ecp-orchestrator",
}
_DOUBLE = struct.Struct("<d")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2): strings and embedded messages."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _label(name: str, value: str) -> bytes:
    return _field(1, _field(1, name.encode()) + _field(2, value.encode()))


def _sample(value: float, ts_ms: int) -> bytes:
    # Sample: double value = 1 (wire type 1, fixed64), int64 timestamp = 2 (varint).
    body = b"\x09" + _DOUBLE.pack(value) + b"\x10" + _varint(ts_ms)
    return _field(2, body)


def timeseries(labels: Iterable[tuple[str, str]], points: Iterable[tuple[int, float]]) -> bytes:
    """One TimeSeries message: labels sorted by name (the protocol requires it), points in
    time order."""
    body = b"".join(_label(n, v) for n, v in sorted(labels))
    body += b"".join(_sample(v, ts) for ts, v in sorted(points))
    return _field(1, body)


def tenant_series(tenant_id: str, samples: Sequence[Sample]) -> list[bytes]:
    """One TimeSeries per metric the batch carries: `<gauge>{tenant="<id>"}`."""
    out = []
    for i, definition in enumerate(METRICS):
        points = [
            (s.ts_ms, v * definition.gauge_scale) for s in samples if (v := s.values[i]) is not None
        ]
        if points:
            out.append(timeseries([("__name__", definition.gauge), ("tenant", tenant_id)], points))
    return out


def write_request(series: Iterable[bytes]) -> bytes:
    """The compressed body of POST /api/v1/write."""
    return bytes(cramjam.snappy.compress_raw(b"".join(series)))

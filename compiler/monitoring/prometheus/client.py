"""The one HTTP client to Prometheus: its timeout and its error mapping live here.

Input: prometheus_url and a timeout. Output: decoded `data` of the HTTP API (query, query_range,
alerts) and remote-write acknowledgements. Every transport failure, timeout, 5xx or undecodable
answer is MonitoringUnavailable (503); a remote-write that Prometheus refuses for its content
(out-of-order or too old, HTTP 400) is ValidationFailed (422) naming Prometheus's reason. Never
logs or returns a URL's credentials.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

import httpx

from compiler.errors import MonitoringUnavailable, ValidationFailed
from compiler.monitoring.prometheus.remote_write import HEADERS


def _where(url: str) -> str:
    """scheme://host:port only: a URL's userinfo (user:password@) never reaches a message."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def seconds(ts_ms: int) -> str:
    """Milliseconds as the API's float seconds, exactly (no binary rounding of .999)."""
    return f"{ts_ms // 1000}.{ts_ms % 1000:03d}"


_REFUSED_SAMPLES = ("out of order", "out of bounds", "duplicate sample", "too old sample")


class PrometheusClient:
    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._where = _where(self.url)
        # Answers uncompressed: gzip of a 24 h range answer cost Prometheus about as much CPU as
        # evaluating the query (and us its inflating), while the bytes cross a loopback or a
        # cluster network (bench/bench_prometheus.py). Keep-alive: one pool, shared by threads.
        self._http = httpx.Client(
            base_url=self.url, timeout=timeout_s, headers={"Accept-Encoding": "identity"}
        )

    def close(self) -> None:
        self._http.close()

    def _unavailable(self, action: str, reason: str) -> MonitoringUnavailable:
        return MonitoringUnavailable(
            f"prometheus cannot {action}: {reason}",
            details={"backend": "prometheus", "prometheus": self._where, "reason": reason[:300]},
        )

    def _send(self, action: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise self._unavailable(action, "timed out") from None
        except httpx.HTTPError as exc:
            raise self._unavailable(action, type(exc).__name__) from None

    def _api(self, action: str, path: str, params: dict[str, str]) -> Any:
        # POST with a form body: long PromQL never hits a URL length limit.
        response = self._send(action, "POST", path, data=params)
        try:
            body = response.json()
        except ValueError:
            raise self._unavailable(action, f"HTTP {response.status_code}, not JSON") from None
        if response.status_code != 200 or body.get("status") != "success":
            raise self._unavailable(action, str(body.get("error", response.status_code)))
        return body.get("data")

    def query(self, expr: str, at_ms: int) -> list[dict[str, Any]]:
        data = self._api("query", "/api/v1/query", {"query": expr, "time": seconds(at_ms)})
        return list(data.get("result", []))

    def query_range(
        self, expr: str, start_ms: int, end_ms: int, step_ms: int
    ) -> list[dict[str, Any]]:
        params = {
            "query": expr,
            "start": seconds(start_ms),
            "end": seconds(end_ms),
            "step": seconds(step_ms),
        }
        data = self._api("query_range", "/api/v1/query_range", params)
        return list(data.get("result", []))

    def series_names(self, match: str, start_ms: int, end_ms: int) -> frozenset[str]:
        """Names of the series matching `match` in [start, end]: an index lookup, no samples."""
        params = {"match[]": match, "start": seconds(start_ms), "end": seconds(end_ms)}
        data = self._api("list series", "/api/v1/series", params)
        return frozenset(str(s.get("__name__", "")) for s in data or [])

    def alerts(self) -> list[dict[str, Any]]:
        response = self._send("list alerts", "GET", "/api/v1/alerts")
        try:
            body = response.json()
        except ValueError:
            raise self._unavailable("list alerts", f"HTTP {response.status_code}") from None
        if response.status_code != 200 or body.get("status") != "success":
            raise self._unavailable("list alerts", str(body.get("error", response.status_code)))
        return list(body.get("data", {}).get("alerts", []))

    def remote_write(self, body: bytes) -> None:
        response = self._send(
            "remote-write", "POST", "/api/v1/write", content=body, headers=HEADERS
        )
        if response.status_code in (200, 204):
            return
        reason = response.text.strip()[:300] or f"HTTP {response.status_code}"
        # 2.42 answers 400 for out-of-order/out-of-bounds/duplicate samples but 500 for "too old
        # sample": all are about the batch, and a retry of the same batch cannot succeed.
        if response.status_code == 400 or any(p in reason for p in _REFUSED_SAMPLES):
            raise ValidationFailed(
                f"prometheus refused the samples: {reason}",
                details={"field": "samples", "backend": "prometheus", "reason": reason},
            )
        raise self._unavailable("remote-write", reason)


def number(value: str) -> float | None:
    """A sample value of the HTTP API ("65.5", "NaN", "+Inf") as a finite float or None."""
    parsed = float(value)
    return parsed if math.isfinite(parsed) else None

"""The SDK's monitoring calls: send_metrics, get_monitoring, alerts, system, and stream helpers.

Mixed into ECPClient. HTTP through the client's own transport (typed errors, request ids); the
three WebSocket streams through `websockets`' synchronous client, as generators that end when the
server closes normally and raise the typed ECPError of an error frame. Never imports the server.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ecp_orchestrator.errors import error_from_response


class MonitoringCalls:
    """Needs the host class's base_url, is_demo and _json (ECPClient has them)."""

    base_url: str
    is_demo: bool
    token: str | None

    # ECPClient's transport: (method, path, *, body, params, headers, request_id) -> JSON.
    _json: Callable[..., Any]

    # --- HTTP ---------------------------------------------------------------------------------

    def send_metrics(
        self,
        tenant_id: str,
        metrics: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        timestamp: str | None = None,
        request_id: str | None = None,
    ) -> Any:
        """One sample ({"cpu": 65.5, "memory": 78.2} or the reference's full body) or a list of
        {timestamp, metrics} samples, sent as one batch."""
        if isinstance(metrics, Mapping):
            body: dict[str, Any] = (
                dict(metrics)
                if isinstance(metrics.get("metrics"), Mapping)
                else {"metrics": dict(metrics)}
            )
            if timestamp is not None:
                body["timestamp"] = timestamp
        else:
            body = {"samples": [dict(sample) for sample in metrics]}
        return self._json(
            "POST", f"/tenants/{_segment(tenant_id)}/monitoring", body=body, request_id=request_id
        )

    def get_monitoring(
        self,
        tenant_id: str,
        metric_type: str | None = None,
        hours: int = 24,
        interval: str = "5m",
        *,
        request_id: str | None = None,
    ) -> Any:
        params: dict[str, Any] = {"hours": hours, "interval": interval}
        if metric_type is not None:
            params["metric_type"] = metric_type
        return self._json(
            "GET",
            f"/tenants/{_segment(tenant_id)}/monitoring",
            params=params,
            request_id=request_id,
        )

    def get_alerts(
        self, tenant_id: str, limit: int = 100, hours: int = 24, *, request_id: str | None = None
    ) -> Any:
        return self._json(
            "GET",
            f"/tenants/{_segment(tenant_id)}/alerts",
            params={"limit": limit, "hours": hours},
            request_id=request_id,
        )

    def get_system_metrics(self, *, request_id: str | None = None) -> Any:
        return self._json("GET", "/monitoring/system", request_id=request_id)

    # --- WebSocket streams --------------------------------------------------------------------

    def subscribe_monitoring(
        self,
        tenant_id: str,
        metrics: Sequence[str] = ("cpu", "memory", "gpu"),
        interval_ms: int = 5000,
        *,
        open_timeout: float = 10,
    ) -> Generator[dict[str, Any], None, None]:
        """Yields {timestamp, tenant_id, metrics} every interval until the caller stops."""
        command = {"action": "subscribe", "metrics": list(metrics), "interval": interval_ms}
        yield from self._stream(f"/ws/monitoring/{_segment(tenant_id)}", command, open_timeout)

    def subscribe_alerts(
        self, tenant_id: str, *, open_timeout: float = 10
    ) -> Generator[dict[str, Any], None, None]:
        """Yields each new alert of the tenant as it fires."""
        yield from self._stream(f"/ws/alerts/{_segment(tenant_id)}", None, open_timeout)

    def subscribe_deployment(
        self, deployment_id: str, *, open_timeout: float = 10
    ) -> Generator[dict[str, Any], None, None]:
        """Yields progress updates; ends after the final one (the server closes normally)."""
        yield from self._stream(f"/ws/deployment/{_segment(deployment_id)}", None, open_timeout)

    def ws_url(self, path: str) -> str:
        """ws(s)://host/ws/... from the HTTP base URL (its /api/v1 path is not part of it)."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = f"demo={'true' if self.is_demo else 'false'}"
        return urlunsplit((scheme, parts.netloc, path, query, ""))

    def _stream(
        self, path: str, command: Mapping[str, Any] | None, open_timeout: float
    ) -> Generator[dict[str, Any], None, None]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        with connect(
            self.ws_url(path), open_timeout=open_timeout, additional_headers=headers
        ) as ws:
            if command is not None:
                ws.send(json.dumps(command))
            while True:
                try:
                    raw = ws.recv()
                except ConnectionClosed:
                    return
                message = json.loads(raw)
                if isinstance(message, dict) and isinstance(message.get("error"), dict):
                    # The close (code 4000 + HTTP status) follows the error frame.
                    with contextlib.suppress(ConnectionClosed, TimeoutError):
                        ws.recv(timeout=5)
                    code = ws.close_code or 4500
                    status = code - 4000 if 4000 <= code < 5000 else 500
                    raise error_from_response(status, message, None)
                if isinstance(message, dict):
                    yield message


def _segment(value: str) -> str:
    return quote(value, safe="")

"""ECPClient: the reference's Python SDK, a synchronous httpx client for the /api/v1 endpoints.

Input: plain dicts shaped like the reference's request bodies. Output: the reference's response
bodies as dicts (get_manifest: text). Every error answer raises a typed ECPError subclass carrying
the error code and the request id. Never imports the server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from ecp_orchestrator.errors import ECPConnectionError, error_from_response
from ecp_orchestrator.monitoring import MonitoringCalls

DEFAULT_BASE_URL = "http://localhost:8001/api/v1"
# Writes compile and publish before they answer; a generous default keeps them from timing out.
DEFAULT_TIMEOUT = 60.0


class ECPClient(MonitoringCalls):
    """client = ECPClient(base_url="http://localhost:8001/api/v1", is_demo=False)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        is_demo: bool = False,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        debug: bool = False,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.is_demo = is_demo
        self.last_request_id: str | None = None
        # An API token or OIDC JWT; default $ECP_TOKEN. None: anonymous (the demo sandbox only,
        # where the server allows it).
        self.token = token if token is not None else (os.environ.get("ECP_TOKEN") or None)
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        default_headers = {
            "Content-Type": "application/json",
            "X-Demo-Mode": "true" if is_demo else "false",
            **auth,
            **({"X-Debug": "true"} if debug else {}),
            **dict(headers or {}),
        }
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=default_headers)

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ECPClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- tenants ------------------------------------------------------------------------------

    def create_tenant(self, tenant: Mapping[str, Any], *, request_id: str | None = None) -> Any:
        return self._json("POST", "/tenants/", body=tenant, request_id=request_id)

    def get_tenants(
        self,
        skip: int = 0,
        limit: int = 100,
        *,
        preset: str | None = None,
        status: str | None = None,
        request_id: str | None = None,
    ) -> Any:
        params: dict[str, Any] = {"skip": skip, "limit": limit}
        if preset is not None:
            params["preset"] = preset
        if status is not None:
            params["status"] = status
        return self._json("GET", "/tenants/", params=params, request_id=request_id)

    def get_tenant(self, tenant_id: str, *, request_id: str | None = None) -> Any:
        return self._json("GET", f"/tenants/{_segment(tenant_id)}", request_id=request_id)

    def get_tenant_etag(self, tenant_id: str) -> str:
        """The spec's current ETag, for update_tenant/delete_tenant(if_match=...)."""
        response = self._send("GET", f"/tenants/{_segment(tenant_id)}")
        return str(response.headers.get("etag", ""))

    def update_tenant(
        self,
        tenant_id: str,
        changes: Mapping[str, Any],
        *,
        if_match: str | None = None,
        request_id: str | None = None,
    ) -> Any:
        headers = {"If-Match": if_match} if if_match else {}
        return self._json(
            "PUT",
            f"/tenants/{_segment(tenant_id)}",
            body=changes,
            headers=headers,
            request_id=request_id,
        )

    def delete_tenant(
        self,
        tenant_id: str,
        force: bool = False,
        *,
        if_match: str | None = None,
        request_id: str | None = None,
    ) -> Any:
        headers = {"If-Match": if_match} if if_match else {}
        return self._json(
            "DELETE",
            f"/tenants/{_segment(tenant_id)}",
            params={"force": "true" if force else "false"},
            headers=headers,
            request_id=request_id,
        )

    def preview_tenant_update(
        self,
        tenant_id: str,
        changes: Mapping[str, Any],
        *,
        if_match: str | None = None,
        request_id: str | None = None,
    ) -> Any:
        """The dry run of update_tenant: deltas and the manifest's unified diff, nothing written."""
        headers = {"If-Match": if_match} if if_match else {}
        return self._json(
            "POST",
            f"/tenants/{_segment(tenant_id)}/preview",
            body=changes,
            headers=headers,
            request_id=request_id,
        )

    def get_tenant_history(
        self, tenant_id: str, limit: int = 50, *, request_id: str | None = None
    ) -> Any:
        """The tenant's commits, newest first, with their compiled resources and deltas."""
        return self._json(
            "GET",
            f"/tenants/{_segment(tenant_id)}/history",
            params={"limit": limit},
            request_id=request_id,
        )

    def get_auth_config(self, *, request_id: str | None = None) -> Any:
        """How to sign in here: tokens, and the OIDC issuer/client_id/scopes when configured."""
        return self._json("GET", "/auth/config", request_id=request_id)

    def calculate_resources(
        self, requirements: Mapping[str, Any], *, request_id: str | None = None
    ) -> Any:
        return self._json(
            "POST", "/tenants/calculate-resources", body=requirements, request_id=request_id
        )

    # --- manifests ----------------------------------------------------------------------------

    def get_manifest(
        self,
        tenant_id: str,
        format: str = "yaml",
        *,
        include_monitoring: bool = True,
        include_ingress: bool = False,
        namespace: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """The rendered manifest as text (YAML, or JSON when format="json")."""
        params: dict[str, Any] = {
            "format": format,
            "include_monitoring": str(include_monitoring).lower(),
            "include_ingress": str(include_ingress).lower(),
        }
        if namespace is not None:
            params["namespace"] = namespace
        response = self._send(
            "GET",
            f"/tenants/{_segment(tenant_id)}/manifest",
            params=params,
            request_id=request_id,
        )
        return response.text

    def validate_manifest(
        self,
        manifest_content: str,
        tenant_id: str | None = None,
        *,
        request_id: str | None = None,
    ) -> Any:
        body: dict[str, Any] = {"manifest_content": manifest_content}
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        return self._json("POST", "/tenants/validate-manifest", body=body, request_id=request_id)

    def get_deployment_status(self, tenant_id: str, *, request_id: str | None = None) -> Any:
        return self._json(
            "GET", f"/tenants/{_segment(tenant_id)}/deployment-status", request_id=request_id
        )

    # --- transport ----------------------------------------------------------------------------

    def _json(self, method: str, path: str, **request: Any) -> Any:
        """`_send`'s answer as JSON (same keywords: body, params, headers, request_id)."""
        return self._send(method, path, **request).json()

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
    ) -> httpx.Response:
        rid = request_id or f"sdk-{uuid.uuid4().hex[:16]}"
        try:
            response = self._http.request(
                method,
                path,
                json=dict(body) if body is not None else None,
                params=dict(params) if params else None,
                headers={**dict(headers or {}), "X-Request-ID": rid},
            )
        except httpx.HTTPError as exc:
            raise ECPConnectionError(
                f"cannot reach {self.base_url}: {exc}", code="CONNECTION_ERROR", request_id=rid
            ) from exc
        self.last_request_id = response.headers.get("x-request-id", rid)
        if response.status_code >= 400:
            try:
                payload: Any = response.json()
            except ValueError:
                payload = None
            raise error_from_response(response.status_code, payload, self.last_request_id)
        return response


def _segment(value: str) -> str:
    """A path segment: quoted, so an ID can never change the path it is sent to."""
    return quote(value, safe="")

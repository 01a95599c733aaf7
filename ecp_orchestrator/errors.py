"""Typed SDK exceptions, one per error code of the API reference, each carrying code and request_id.

Input: an HTTP status and the reference's error body. Output: the most specific ECPError subclass.
A pure HTTP client: nothing here imports the server.
"""

from __future__ import annotations

from typing import Any


class ECPError(Exception):
    """An error answer from the API: `code`, `message`, `details`, `request_id`, `status_code`."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "UNKNOWN",
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        timestamp: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.details: dict[str, Any] = dict(details or {})
        self.request_id = request_id
        self.timestamp = timestamp

    def __str__(self) -> str:
        rid = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.code}: {self.message}{rid}"


class ECPConnectionError(ECPError):
    """The server could not be reached or did not answer in time."""


class BadRequestError(ECPError):
    pass


class ValidationError(ECPError):
    """422: the body or a parameter failed validation; details["errors"] lists field paths."""


class InvalidPresetError(ValidationError):
    pass


class InsufficientResourcesError(ValidationError):
    pass


class ManifestInvalidError(ValidationError):
    pass


class TenantNotFoundError(ECPError):
    pass


class TenantAlreadyExistsError(ECPError):
    pass


class ConflictError(ECPError):
    pass


class PreconditionFailedError(ECPError):
    """412: If-Match named a version of the spec that is no longer current."""


class PayloadTooLargeError(ECPError):
    pass


class NotFoundError(ECPError):
    pass


class DeploymentFailedError(ECPError):
    pass


class MonitoringUnavailableError(ECPError):
    pass


class DatabaseError(ECPError):
    pass


class KubernetesError(ECPError):
    pass


class ServerError(ECPError):
    pass


class UnauthorizedError(ECPError):
    """401: no token, or a token that is unknown, expired or revoked."""


class ForbiddenError(ECPError):
    """403: the token's role or the editor policy does not allow this (details name it)."""


class RateLimitedError(ECPError):
    """429: slow down; details["retry_after"] says for how many seconds."""


_BY_CODE: dict[str, type[ECPError]] = {
    "BAD_REQUEST": BadRequestError,
    "VALIDATION_ERROR": ValidationError,
    "SLA_UNACHIEVABLE": ValidationError,
    "INVALID_PRESET": InvalidPresetError,
    "INSUFFICIENT_RESOURCES": InsufficientResourcesError,
    "MANIFEST_INVALID": ManifestInvalidError,
    "TENANT_NOT_FOUND": TenantNotFoundError,
    "TENANT_ALREADY_EXISTS": TenantAlreadyExistsError,
    "CONFLICT": ConflictError,
    "PRECONDITION_FAILED": PreconditionFailedError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
    "NOT_FOUND": NotFoundError,
    "DEPLOYMENT_FAILED": DeploymentFailedError,
    "MONITORING_UNAVAILABLE": MonitoringUnavailableError,
    "DATABASE_ERROR": DatabaseError,
    "KUBERNETES_ERROR": KubernetesError,
    "UNAUTHORIZED": UnauthorizedError,
    "FORBIDDEN": ForbiddenError,
    "RATE_LIMITED": RateLimitedError,
}

_BY_STATUS: dict[int, type[ECPError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_from_response(status_code: int, body: Any, request_id: str | None) -> ECPError:
    """The typed exception for an error answer (any body shape is tolerated)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        cls = _BY_STATUS.get(status_code, ServerError if status_code >= 500 else ECPError)
        return cls(
            f"HTTP {status_code}",
            code=f"HTTP_{status_code}",
            status_code=status_code,
            request_id=request_id,
        )
    code = str(error.get("code", f"HTTP_{status_code}"))
    default = _BY_STATUS.get(status_code, ServerError if status_code >= 500 else ECPError)
    cls = _BY_CODE.get(code, default)
    details = error.get("details")
    return cls(
        str(error.get("message", "")),
        code=code,
        status_code=status_code,
        details=details if isinstance(details, dict) else {},
        request_id=str(error.get("request_id") or request_id or "") or None,
        timestamp=error.get("timestamp"),
    )

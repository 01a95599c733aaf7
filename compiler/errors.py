"""The one error hierarchy. Every failure a user can cause is an OrchestratorError.

Each carries a stable machine code (the API reference's codes), a human message, an HTTP status
for the API shell and structured details. The shells map these to exit codes and error bodies in
one place each.
No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is: file path (as given), 1-based line, dotted field path."""

    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.field}" if self.field else where


class OrchestratorError(Exception):
    """Base of every expected failure. `code` is stable; `message` is for people."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        location: Location | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.location = location
        if location is not None:
            for key in ("file", "line", "field"):
                value = getattr(location, key)
                if value is not None:
                    self.details.setdefault(key, value)

    def __str__(self) -> str:
        if self.location is not None:
            return f"{self.location}: {self.message}"
        return self.message


class ValidationFailed(OrchestratorError):
    """Input that does not satisfy a schema: a spec, a request body, a query parameter."""

    code = "VALIDATION_ERROR"
    http_status = 422


class SpecInvalid(ValidationFailed):
    """A tenant spec file that cannot be parsed or does not match the model."""


class InvalidPreset(ValidationFailed):
    code = "INVALID_PRESET"


class SlaUnachievable(ValidationFailed):
    """The SLA asks for less than one request takes on an idle replica."""

    code = "SLA_UNACHIEVABLE"


class InsufficientResources(OrchestratorError):
    code = "INSUFFICIENT_RESOURCES"
    http_status = 422


class TenantNotFound(OrchestratorError):
    code = "TENANT_NOT_FOUND"
    http_status = 404


class TenantAlreadyExists(OrchestratorError):
    code = "TENANT_ALREADY_EXISTS"
    http_status = 409


class Conflict(OrchestratorError):
    code = "CONFLICT"
    http_status = 409


class PreconditionFailed(OrchestratorError):
    code = "PRECONDITION_FAILED"
    http_status = 412


class ManifestInvalid(OrchestratorError):
    code = "MANIFEST_INVALID"
    http_status = 422


class PresetDataInvalid(OrchestratorError):
    """presets/ itself is broken: an operator error, reported with file and field."""

    code = "PRESETS_INVALID"
    http_status = 500


class DeploymentFailed(OrchestratorError):
    code = "DEPLOYMENT_FAILED"
    http_status = 500


class DeployRepoError(DeploymentFailed):
    """The deploy repo is missing, dirty, detached or in conflict."""


class DeploymentNotFound(OrchestratorError):
    """No deployment with that id was recorded (the /ws/deployment stream)."""

    code = "DEPLOYMENT_NOT_FOUND"
    http_status = 404


class MonitoringUnavailable(OrchestratorError):
    code = "MONITORING_UNAVAILABLE"
    http_status = 503


class DatabaseError(OrchestratorError):
    code = "DATABASE_ERROR"
    http_status = 503


class KubernetesError(OrchestratorError):
    code = "KUBERNETES_ERROR"
    http_status = 502


class UsageError(OrchestratorError):
    """Bad command-line usage or a malformed request outside any schema."""

    code = "BAD_REQUEST"
    http_status = 400
    exit_code = 2


class UnsupportedMediaType(UsageError):
    """A body in a media type the endpoint does not read (415)."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class RequestTimeout(UsageError):
    """A request whose body did not arrive in time (408)."""

    code = "REQUEST_TIMEOUT"
    http_status = 408


class PayloadTooLarge(UsageError):
    """A request body over the API's size limit (checked while it streams in)."""

    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class Unauthorized(OrchestratorError):
    """No credentials, or credentials that are not (or no longer) valid: a 401 with
    `WWW-Authenticate: Bearer`. The message never repeats the token."""

    code = "UNAUTHORIZED"
    http_status = 401


class Forbidden(OrchestratorError):
    """An authenticated principal asked for something its role or policy does not allow; the
    message names the missing permission or field, never the token."""

    code = "FORBIDDEN"
    http_status = 403


class RateLimited(OrchestratorError):
    code = "RATE_LIMITED"
    http_status = 429

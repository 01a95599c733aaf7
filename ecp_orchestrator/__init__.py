"""Python SDK for the ECP-AI Orchestrator API (reference v1.51): `ECPClient` and typed errors.

    from ecp_orchestrator import ECPClient
    client = ECPClient(base_url="http://localhost:8001/api/v1", is_demo=False)  # token: $ECP_TOKEN

A pure HTTP client (httpx); it never imports the server package.
"""

from ecp_orchestrator.client import DEFAULT_BASE_URL, ECPClient
from ecp_orchestrator.errors import (
    BadRequestError,
    ConflictError,
    DatabaseError,
    DeploymentFailedError,
    ECPConnectionError,
    ECPError,
    ForbiddenError,
    InsufficientResourcesError,
    InvalidPresetError,
    KubernetesError,
    ManifestInvalidError,
    MonitoringUnavailableError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    RateLimitedError,
    ServerError,
    TenantAlreadyExistsError,
    TenantNotFoundError,
    UnauthorizedError,
    ValidationError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "BadRequestError",
    "ConflictError",
    "DatabaseError",
    "DeploymentFailedError",
    "ECPClient",
    "ECPConnectionError",
    "ECPError",
    "ForbiddenError",
    "InsufficientResourcesError",
    "InvalidPresetError",
    "KubernetesError",
    "ManifestInvalidError",
    "MonitoringUnavailableError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "RateLimitedError",
    "ServerError",
    "TenantAlreadyExistsError",
    "TenantNotFoundError",
    "UnauthorizedError",
    "ValidationError",
]

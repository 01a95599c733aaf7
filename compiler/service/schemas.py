"""The API's request and response models in the reference's shapes; /openapi.json comes from them.

Request bodies reuse the spec stage's models (TenantSpec, CalculateRequest) so the API accepts
exactly what a spec file accepts. Responses are built through these models so a shape cannot drift.
No logic here beyond field declarations.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from compiler.spec.models import GpuType, PresetName, ServiceName, ServiceRequirements, SlaTarget

TenantStatus = Literal["pending", "running", "failed", "deleting"]
TENANT_STATUSES: tuple[str, ...] = ("pending", "running", "failed", "deleting")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- requests ---------------------------------------------------------------------------------


class TenantUpdate(_Request):
    """PUT /tenants/{id}: only the given fields change; the spec file keeps comments and order."""

    tenant_id: StrictStr | None = Field(
        default=None, description="May be given, but must equal the path's tenant ID."
    )
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None
    preset: PresetName | None = Field(
        default=None, description="null removes the preset (the sizer then recommends one)."
    )
    service_requirements: ServiceRequirements | None = Field(
        default=None, description="Counts given here replace those in the spec; others stay."
    )
    sla_target: SlaTarget | None = None
    description: Annotated[StrictStr, Field(max_length=2000)] | None = None
    gpu_type: GpuType | None = None
    images: dict[ServiceName, StrictStr] | None = None
    ingress_host: StrictStr | None = None
    labels: dict[StrictStr, StrictStr] | None = None


class ValidateManifestRequest(_Request):
    tenant_id: StrictStr | None = Field(
        default=None, description="Optional: the tenant the manifest is for (cost estimate)."
    )
    manifest_content: StrictStr = Field(description="A multi-document Kubernetes YAML stream.")


# --- responses --------------------------------------------------------------------------------


class Resources(_Response):
    cpu: str = Field(examples=["24000m"])
    memory: str = Field(examples=["32Gi"])
    gpu: int
    storage: str = Field(examples=["1.0TB"])


class TenantSummary(_Response):
    tenant_id: str
    name: str
    preset: str | None
    is_demo: bool
    status: TenantStatus
    services_count: int
    cpu_limit: str
    memory_limit: str
    gpu_limit: int
    storage_limit: str
    gpu_type: str | None
    sla_availability: str
    sla_response_time: str
    created_at: str | None
    description: str
    labels: dict[str, str] = Field(
        default_factory=dict, description="The spec's extra labels (on every object)."
    )


class Pagination(_Response):
    skip: int
    limit: int
    has_more: bool


class TenantList(_Response):
    tenants: list[TenantSummary]
    total_count: int = Field(description="Tenants matching the filters, before skip/limit.")
    demo_count: int
    active_count: int = Field(description="Matching tenants whose status is running.")
    pagination: Pagination


class ServiceResources(_Response):
    cpu_request: str | None = None
    memory_request: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None
    gpu: int = 0


class ServiceInfo(_Response):
    service_name: str
    service_type: str
    enabled: bool
    count: int = Field(description="Concurrent channels requested for the service.")
    replicas: int = Field(description="Pods the compiler planned for the service.")
    image: str | None
    resources: ServiceResources = Field(description="Per replica, from the compiled manifest.")


class TenantDetail(_Response):
    tenant_id: str
    name: str
    preset: str | None
    preset_source: str | None = None
    is_demo: bool
    status: TenantStatus
    description: str
    namespace: str
    gpu_type: str | None
    service_requirements: dict[str, int]
    resources: Resources
    sla_target: dict[str, Any]
    services: list[ServiceInfo]
    estimated_cost: str | None
    deployment_id: str | None
    created_at: str | None
    updated_at: str | None
    debug: dict[str, Any] | None = None


class TenantWriteResult(_Response):
    tenant_id: str
    status: TenantStatus
    deployment_id: str | None = Field(
        description="The publish commit, dep-<sha>; null if no change"
    )
    estimated_resources: Resources
    estimated_cost: str
    deployment_time: str
    debug: dict[str, Any] | None = None


class TenantCreated(TenantWriteResult):
    created_at: str


class TenantUpdated(TenantWriteResult):
    updated_at: str


class DeleteResult(_Response):
    message: str
    deletion_id: str | None
    estimated_time: str
    tenant_id: str


class Alternative(_Response):
    model_config = ConfigDict(extra="allow", frozen=True)
    preset: str
    resources: dict[str, Any]
    cost: str
    performance_impact: str | None = None


class CalculateResult(_Response):
    model_config = ConfigDict(extra="allow", frozen=True)
    recommended_preset: str
    resources: Resources
    gpu_type: str | None
    estimated_cost: str
    alternatives: list[Alternative]
    debug: dict[str, Any] | None = None


class ResourceSummary(_Response):
    model_config = ConfigDict(extra="allow", frozen=True)
    namespaces: int = 0
    deployments: int = 0
    services: int = 0
    configmaps: int = 0
    secrets: int = 0
    total_cpu: str = "0m"
    total_memory: str = "0Mi"
    total_gpu: int = 0
    estimated_pods: int = 0


class ValidateResult(_Response):
    valid: bool
    warnings: list[str] = Field(description="At most 1,000 findings are listed, errors first.")
    errors: list[str]
    error_count: int = Field(ge=0, description="Every error found, listed or not.")
    warning_count: int = Field(ge=0, description="Every warning found, listed or not.")
    truncated: bool = Field(description="True when not every finding is listed.")
    resource_summary: ResourceSummary
    estimated_cost: str | None
    deployment_time: str
    debug: dict[str, Any] | None = None


class ResourceState(_Response):
    model_config = ConfigDict(extra="allow", frozen=True)
    type: str
    name: str
    status: str


class LogEntry(_Response):
    timestamp: str
    level: str
    message: str


class DeploymentStatus(_Response):
    tenant_id: str
    deployment_id: str | None
    status: str = Field(description="committed, awaiting-sync, deploying, deployed, failed ...")
    progress: int = Field(ge=0, le=100)
    phase: str
    created_resources: list[ResourceState]
    pending_resources: list[ResourceState]
    estimated_completion: str | None
    logs: list[LogEntry]
    simulated: bool = Field(description="True in demo mode: the status is simulated, not observed.")
    source: str = Field(description="Where the status comes from.")


class ErrorDetail(_Response):
    code: str
    message: str
    details: dict[str, Any]
    timestamp: str
    request_id: str


class ErrorBody(_Response):
    error: ErrorDetail

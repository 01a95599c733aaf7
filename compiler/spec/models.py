"""Tenant spec models: the reference's create-tenant body plus what a real spec needs.

Strict pydantic models (unknown keys, wrong types and out-of-range values are errors), frozen, so
later stages can hash and share them. No file I/O here: see loader.py.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from compiler.spec.ids import (
    MAX_TENANT_ID,
    RESERVED_IDS,
    TENANT_ID_PATTERN,
    tenant_id_problem,
)
from compiler.spec.ids import SERVICES as SERVICES  # re-exported: the spec names the services

PRESETS: tuple[str, ...] = ("micro", "small", "medium", "large")
GPU_TYPES: tuple[str, ...] = ("t4", "v100", "l4", "a10", "a100", "h100")
PresetName = Literal["micro", "small", "medium", "large"]
GpuType = Literal["t4", "v100", "l4", "a10", "a100", "h100"]
ServiceName = Literal["callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa"]
Engine = Literal["nlu", "llm"]

# 100,000 concurrent channels per service is far beyond any single-namespace tenant; larger
# numbers are typos (10^9) and would only produce absurd plans.
MAX_CHANNELS = 100_000
Channels = Annotated[StrictInt, Field(ge=0, le=MAX_CHANNELS)]

# ASCII digits only: Python's \d also matches other scripts' digits, which float() would read.
_PERCENT = re.compile(r"(?P<value>\d{1,3}(\.\d{1,4})?)%", re.ASCII)
_PERCENTILE = re.compile(r"p(?P<value>\d{2}(\.\d{1,2})?)", re.ASCII)
_DURATION = re.compile(r"(?P<value>\d+(\.\d+)?)(?P<unit>ms|s)", re.ASCII)
_LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
)
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_IMAGE = re.compile(r"[a-z0-9]+([._/:@-][A-Za-z0-9_.+-]+)*")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_REDIS_URL = re.compile(r"rediss?://(?P<user>[^@/\s]*@)?[A-Za-z0-9.-]+(:\d{1,5})?(/\d{1,2})?")


def redis_url_problem(value: str) -> str | None:
    """Why `value` is not a usable REDIS_URL, or None. A password would land in the manifest."""
    match = _REDIS_URL.fullmatch(value)
    if match is None:
        return f"{value[:100]!r} is not a redis:// or rediss:// URL (rediss://host:6380/0)"
    if match["user"] and ":" in match["user"]:
        return (
            "the URL holds a password, which would be written into the manifest: give the "
            "host only and pass the password to the services through a Secret"
        )
    return None


_HOST = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+")


# The schema states what tenant_id_problem checks.
_TENANT_ID_SCHEMA: dict[str, Any] = {
    "pattern": TENANT_ID_PATTERN,
    "maxLength": MAX_TENANT_ID,
    "not": {"enum": sorted(RESERVED_IDS)},
}
# The schema says what _at_least_one_service checks: some service has a count above 0.
_SOME_SERVICE_SCHEMA: dict[str, Any] = {
    "anyOf": [{"required": [s], "properties": {s: {"minimum": 1}}} for s in SERVICES]
}


def _at_least_one_service(value: ServiceRequirements) -> ServiceRequirements:
    if not value.enabled():
        raise ValueError("at least one service needs a count above 0")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ServiceRequirements(_Strict):
    """Concurrent channels per service; 0 (or absent) disables a service."""

    callbot: Channels = 0
    chatbot: Channels = 0
    advisor: Channels = 0
    stt: Channels = 0
    tts: Channels = 0
    ta: Channels = 0
    qa: Channels = 0

    def enabled(self) -> dict[str, int]:
        """Requested services with a count above zero, in catalogue order."""
        return {name: getattr(self, name) for name in SERVICES if getattr(self, name) > 0}

    def given(self) -> dict[str, int]:
        """The counts as a person wrote them (explicitly set fields only)."""
        return {name: getattr(self, name) for name in SERVICES if name in self.model_fields_set}


class SlaTarget(_Strict):
    availability: StrictStr = Field(
        default="99.9%",
        description="A percentage above 0% and below 100%.",
        json_schema_extra={"pattern": r"^[0-9]{1,3}(\.[0-9]{1,4})?%$"},
    )
    response_time: StrictStr = Field(
        default="300ms",
        description="A duration from 1ms to 600s.",
        json_schema_extra={"pattern": r"^[0-9]+(\.[0-9]+)?(ms|s)$"},
    )
    concurrent_users: Annotated[StrictInt, Field(ge=0, le=10_000_000)] | None = Field(
        default=None,
        description="People connected at once. Sizing uses the channels; a figure below the "
        "user-facing channels contradicts them and is reported as a warning.",
    )
    percentile: StrictStr | None = Field(
        default=None,
        json_schema_extra={"pattern": r"^p[0-9]{2}(\.[0-9]{1,2})?$"},
        description="The percentile of each path's end-to-end time that response_time bounds, "
        "'p50' to 'p99.9' (default p95).",
    )

    @field_validator("percentile")
    @classmethod
    def _percentile_is_p50_to_p999(cls, value: str | None) -> str | None:
        match = _PERCENTILE.fullmatch(value) if value is not None else None
        if value is not None and (not match or not 50 <= float(match["value"]) <= 99.9):
            raise ValueError(
                f"percentile must be 'p50' to 'p99.9', like 'p95' or 'p99.9' (got {value!r})"
            )
        return value

    def percentile_value(self, default: float) -> float:
        """The percentile as a number (95.0), or `default` when the spec names none."""
        return default if self.percentile is None else float(self.percentile[1:])

    @field_validator("availability")
    @classmethod
    def _availability_is_a_percentage(cls, value: str) -> str:
        match = _PERCENT.fullmatch(value)
        if not match or not 0 < float(match["value"]) < 100:
            raise ValueError(
                f"availability must be a percentage above 0% and below 100%, like '99.9%' "
                f"(got {value!r})"
            )
        return value

    @field_validator("response_time")
    @classmethod
    def _response_time_is_a_duration(cls, value: str) -> str:
        match = _DURATION.fullmatch(value)
        if not match:
            raise ValueError(
                f"response_time must be a duration like '200ms' or '1.5s' (got {value!r})"
            )
        ms = float(match["value"]) * (1000 if match["unit"] == "s" else 1)
        if not 1 <= ms <= 600_000:
            raise ValueError(f"response_time must be between 1ms and 600s (got {value!r})")
        return value

    @property
    def availability_fraction(self) -> float:
        # Rounded so that "99.9%" is exactly the float 0.999 (99.9 / 100 is 0.9990000000000001).
        return round(float(self.availability.rstrip("%")) / 100, 12)

    @property
    def response_time_ms(self) -> float:
        match = _DURATION.fullmatch(self.response_time)
        assert match is not None  # checked by the validator
        return float(match["value"]) * (1000 if match["unit"] == "s" else 1)


class TenantSpec(_Strict):
    """tenants/<tenant_id>.yaml."""

    tenant_id: StrictStr = Field(
        description="A DNS-1123 label; the namespace is ecp-ai-<tenant_id>.",
        json_schema_extra=_TENANT_ID_SCHEMA,
    )
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    preset: PresetName | None = None
    service_requirements: ServiceRequirements = Field(json_schema_extra=_SOME_SERVICE_SCHEMA)
    sla_target: SlaTarget = SlaTarget()
    description: Annotated[StrictStr, Field(max_length=2000)] = ""
    gpu_type: GpuType | None = Field(
        default=None,
        description="Pin every GPU service to this GPU type (default: the cheapest that meets "
        "the SLA, per service).",
    )
    engines: dict[ServiceName, Engine] = Field(
        default_factory=dict,
        description="How a bot answers: 'nlu' (CPU intent model, the default) or 'llm' (the "
        "catalogue's LLM profile on GPUs), e.g. {callbot: llm, chatbot: llm}.",
    )
    images: dict[ServiceName, StrictStr] = Field(
        default_factory=dict,
        description="Per-service image overrides, e.g. {stt: 'registry.local/stt:1.4.2'}.",
    )
    ingress_host: StrictStr | None = Field(
        default=None, description="Host for the optional Ingress (include_ingress)."
    )
    labels: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, description="Extra labels on every object."
    )
    redis_url: StrictStr | None = Field(
        default=None,
        description="An external Redis (redis:// or rediss://host:port); unset: the tenant's "
        "own Redis is rendered beside its services.",
    )

    @field_validator("tenant_id")
    @classmethod
    def _tenant_id_is_a_label(cls, value: str) -> str:
        problem = tenant_id_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    _some_service = field_validator("service_requirements")(_at_least_one_service)

    @field_validator("images")
    @classmethod
    def _images_are_references(cls, value: dict[str, str]) -> dict[str, str]:
        for service, image in value.items():
            if not _IMAGE.fullmatch(image) or len(image) > 255:
                raise ValueError(f"images.{service}: {image!r} is not an image reference")
            if "@" in image and not _DIGEST.fullmatch(image.split("@", 1)[1]):
                raise ValueError(
                    f"images.{service}: {image!r}: a digest is 'sha256:' and 64 lowercase hex "
                    "digits (registry/stt@sha256:...)"
                )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        problem = None if value is None else redis_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("ingress_host")
    @classmethod
    def _host_is_dns(cls, value: str | None) -> str | None:
        if value is not None and (not _HOST.fullmatch(value) or len(value) > 253):
            raise ValueError(f"{value!r} is not a DNS host name")
        return value

    @field_validator("labels")
    @classmethod
    def _labels_are_kubernetes_labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, label in value.items():
            if not _LABEL_KEY.fullmatch(key) or key.startswith(("ecp.ai/", "app.kubernetes.io/")):
                raise ValueError(f"label key {key!r} is invalid or reserved")
            if not _LABEL_VALUE.fullmatch(label) or len(label) > 63:
                raise ValueError(f"label {key}: value {label!r} is not a label value")
        return value


class CalculateRequest(_Strict):
    """The calculate-resources body: requirements and SLA, optionally a preset and GPU type."""

    service_requirements: ServiceRequirements = Field(json_schema_extra=_SOME_SERVICE_SCHEMA)
    sla_target: SlaTarget = SlaTarget()
    preset: PresetName | None = None
    gpu_type: GpuType | None = None
    engines: dict[ServiceName, Engine] = Field(default_factory=dict)

    _some_service = field_validator("service_requirements")(_at_least_one_service)

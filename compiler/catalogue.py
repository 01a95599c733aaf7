"""The catalogue: presets/*.yaml (tiers, services, GPU types, prices) as frozen models.

Input: the presets directory. Output: a Catalogue, or PresetDataInvalid naming file:line and
field. Loaded once per run and passed explicitly; nothing here is cached at module level.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from compiler.errors import Location, PresetDataInvalid, ValidationFailed
from compiler.quantity import parse_bytes, parse_cpu, parse_memory_mib, parse_storage_gb
from compiler.spec.loader import line_of, spec_errors
from compiler.spec.models import GPU_TYPES, PRESETS, SERVICES

PRESET_FILES = ("tiers.yaml", "services.yaml", "gpus.yaml", "prices.yaml")
# Read when present: a config repo made before the file existed still compiles (without Redis).
OPTIONAL_PRESET_FILES = ("redis.yaml",)
Positive = Annotated[float, Field(gt=0)]

# libyaml's safe loader when built with it: several times faster than the pure-Python one.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Frozen(BaseModel):
    # Quantities parsed from these strings are cached_property: sizing reads them per tenant.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _checked(parse: Callable[[str], object], value: str) -> str:
    """Run a quantity parser as a pydantic validator (which reports ValueError with the field)."""
    try:
        parse(value)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from exc
    return value


class Tier(_Frozen):
    name: str = ""
    cpu: str
    memory: str
    gpu: Annotated[int, Field(ge=0)]
    storage: str
    gpu_type: str
    deployment_time: str

    @cached_property
    def cpu_millicores(self) -> int:
        return parse_cpu(self.cpu)

    @cached_property
    def memory_mib(self) -> int:
        return parse_memory_mib(self.memory)

    @cached_property
    def storage_gb(self) -> float:
        return parse_storage_gb(self.storage)

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, v: str) -> str:
        return _checked(parse_cpu, v)

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str) -> str:
        return _checked(parse_memory_mib, v)

    @field_validator("storage")
    @classmethod
    def _storage(cls, v: str) -> str:
        return _checked(parse_storage_gb, v)


class ServiceProfile(_Frozen):
    name: str = ""
    description: str
    cpu_request: str
    cpu_limit: str
    memory: str
    gpu: Annotated[int, Field(ge=0, le=8)]
    slots: Annotated[int, Field(ge=1)]
    first_response_ms: Positive
    hold_ms: Positive
    requests_per_channel_per_s: Positive
    availability: Annotated[float, Field(gt=0, lt=1)]
    leans_on: dict[str, Annotated[float, Field(gt=0)]]
    storage_gb_per_channel: Annotated[float, Field(ge=0)]
    storage_gb_per_replica: Annotated[float, Field(ge=0)]

    @cached_property
    def cpu_request_m(self) -> int:
        return parse_cpu(self.cpu_request)

    @cached_property
    def cpu_limit_m(self) -> int:
        return parse_cpu(self.cpu_limit)

    @cached_property
    def memory_mib(self) -> int:
        return parse_memory_mib(self.memory)

    @field_validator("cpu_request", "cpu_limit")
    @classmethod
    def _cpu_quantity(cls, v: str) -> str:
        return _checked(parse_cpu, v)

    @field_validator("memory")
    @classmethod
    def _memory_quantity(cls, v: str) -> str:
        return _checked(parse_memory_mib, v)

    @field_validator("leans_on")
    @classmethod
    def _known_services(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(SERVICES))
        if unknown:
            raise ValueError(f"leans on unknown services: {', '.join(unknown)}")
        return v


class RedisSize(_Frozen):
    cpu_request: str
    cpu_limit: str
    memory: str
    maxmemory: str  # Redis's own unit syntax ("200mb"), passed to --maxmemory
    storage: str  # the volume's request ("1Gi")

    @cached_property
    def cpu_request_m(self) -> int:
        return parse_cpu(self.cpu_request)

    @cached_property
    def memory_mib(self) -> int:
        return parse_memory_mib(self.memory)

    @cached_property
    def storage_gb(self) -> float:
        return parse_bytes(self.storage) / 1e9

    @field_validator("cpu_request", "cpu_limit")
    @classmethod
    def _cpu_quantity(cls, v: str) -> str:
        return _checked(parse_cpu, v)

    @field_validator("memory")
    @classmethod
    def _memory_quantity(cls, v: str) -> str:
        return _checked(parse_memory_mib, v)

    @field_validator("storage")
    @classmethod
    def _storage_quantity(cls, v: str) -> str:
        return _checked(parse_bytes, v)


class RedisPreset(_Frozen):
    image: str
    port: Annotated[int, Field(ge=1, le=65535)]
    sizes: dict[str, RedisSize]

    @field_validator("sizes")
    @classmethod
    def _every_tier(cls, v: dict[str, RedisSize]) -> dict[str, RedisSize]:
        missing = [tier for tier in PRESETS if tier not in v]
        if missing:
            raise ValueError(f"sizes is missing {', '.join(missing)}")
        return v


class GpuProfile(_Frozen):
    memory_gb: Positive
    relative_throughput: Positive


class Prices(_Frozen):
    hours_per_month: Positive
    cpu_core_hour: Positive
    memory_gib_hour: Positive
    storage_gb_month: Positive
    gpu_hour_default: Positive
    gpu_hour: dict[str, Positive]


class Catalogue(_Frozen):
    tiers: dict[str, Tier]
    cpu_limit_factor: Positive
    services: dict[str, ServiceProfile]
    image_registry: str
    image_tag: str
    port: Annotated[int, Field(ge=1, le=65535)]
    redis_url: str
    gpus: dict[str, GpuProfile]
    prices: Prices
    redis: RedisPreset | None = None  # presets/redis.yaml; None: the tenant brings its own
    digest: str = Field(description="sha256 over the preset files, for incremental compiles")

    def tiers_ascending(self) -> list[Tier]:
        return [self.tiers[name] for name in PRESETS]

    def gpu_price(self, gpu_type: str) -> float:
        return self.prices.gpu_hour.get(gpu_type, self.prices.gpu_hour_default)

    def image(self, service: str) -> str:
        return f"{self.image_registry}/{service}:{self.image_tag}"


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader
    except OSError as exc:
        raise PresetDataInvalid(
            f"cannot read presets file: {exc.strerror}", location=Location(file=str(path))
        ) from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise PresetDataInvalid(
            f"invalid YAML: {exc.problem}", location=Location(file=str(path), line=line)
        ) from exc
    if not isinstance(data, dict):
        raise PresetDataInvalid("expected a mapping", location=Location(file=str(path), line=1))
    return text, data


def _require_all(
    path: Path, text: str, key: str, found: dict[str, Any], needed: tuple[str, ...]
) -> None:
    missing = [name for name in needed if name not in found]
    if missing:
        raise PresetDataInvalid(
            f"{key} is missing {', '.join(missing)}",
            location=Location(file=str(path), line=line_of(text, (key,)), field=key),
        )


def load_catalogue(presets_dir: Path) -> Catalogue:
    """Read and check presets/: every tier, service and GPU type the spec model knows is present."""
    texts: dict[str, str] = {}
    merged: dict[str, Any] = {}
    owner: dict[str, str] = {}
    present = [f for f in OPTIONAL_PRESET_FILES if (presets_dir / f).is_file()]
    for filename in (*PRESET_FILES, *present):
        path = presets_dir / filename
        texts[filename], data = _read(path)
        for key, value in data.items():
            merged[key] = value
            owner[key] = filename
    digest = hashlib.sha256()
    for filename in (*PRESET_FILES, *present):
        digest.update(filename.encode() + b"\0" + texts[filename].encode() + b"\0")
    for key, needed in (("tiers", PRESETS), ("services", SERVICES), ("gpus", GPU_TYPES)):
        if key in merged and isinstance(merged[key], dict):
            path = presets_dir / owner[key]
            _require_all(path, texts[owner[key]], key, merged[key], needed)
            for name, entry in merged[key].items():
                if isinstance(entry, dict) and key != "gpus":
                    entry.setdefault("name", name)
    try:
        return Catalogue.model_validate({**merged, "digest": digest.hexdigest()})
    except ValidationError as exc:
        first = exc.errors()[0]
        top = str(first["loc"][0]) if first["loc"] else ""
        filename = owner.get(top, PRESET_FILES[0])
        record = spec_errors(exc, texts[filename], str(presets_dir / filename))[0]
        raise PresetDataInvalid(
            record["message"],
            location=Location(file=record["file"], line=record["line"], field=record["field"]),
        ) from exc

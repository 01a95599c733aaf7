"""The catalogue: presets/*.yaml (tiers, services, GPU types, prices) as frozen models.

Input: the presets directory. Output: a Catalogue, or PresetDataInvalid naming file:line and
field. Loaded once per run and passed explicitly; nothing here is cached at module level.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compiler.errors import Location, PresetDataInvalid, ValidationFailed
from compiler.quantity import parse_bytes, parse_cpu, parse_memory_mib, parse_storage_gb
from compiler.spec.loader import line_of, spec_errors
from compiler.spec.models import GPU_TYPES, PRESETS, SERVICES

PRESET_FILES = (
    "tiers.yaml",
    "services.yaml",
    "gpus.yaml",
    "prices.yaml",
    "paths.yaml",
    "llm.yaml",
)
# Read when present: a config repo made before the file existed still compiles (without Redis).
OPTIONAL_PRESET_FILES = ("redis.yaml", "rollout.yaml")
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


class _PodRequests(_Frozen):
    """A pod's CPU and memory requests and limit as Kubernetes quantities, checked at load and
    read as millicores and MiB (shared by every preset that describes a pod)."""

    cpu_request: str
    cpu_limit: str
    memory: str

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


class Tier(_Frozen):
    name: str = ""
    cpu: str
    memory: str
    gpu: Annotated[int, Field(ge=0)]
    storage: str
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


Fraction = Annotated[float, Field(gt=0, le=1)]
Cv = Annotated[float, Field(ge=0, le=4)]


class GpuRequirement(_Frozen):
    compute_capability: Positive
    gpu_memory_gb: Positive


class GpuRun(_Frozen):
    """One way to run a GPU service on one GPU type: streams per GPU and the latency there (and
    how long a request holds its stream, when that differs from the service's hold_ms)."""

    gpu_type: str
    mode: str
    slots: Annotated[int, Field(ge=1)] | None = None
    response_ms: Positive | None = None
    response_cv: Cv | None = None
    hold_ms: Positive | None = None
    hold_cv: Cv | None = None
    scale_from: str | None = None


class GpuPod(_PodRequests):
    """A GPU pod's own requests, for a service that also runs on CPU (whose pod the service's
    top-level figures describe)."""

    storage_gb_per_replica: Annotated[float, Field(ge=0)]


class ServiceProfile(_PodRequests):
    name: str = ""
    description: str
    gpu: Annotated[int, Field(ge=0, le=8)] = 0
    requires: GpuRequirement | None = None
    slots: Annotated[int, Field(ge=1)] = 1
    response_ms: Positive | None = None
    response_cv: Cv = 0.0
    hold_ms: Positive | None = None
    hold_cv: Cv | None = None
    response_is_hold: bool
    utilisation_cap: Fraction
    routing: Literal["random", "least-request", "shared"]
    availability: Annotated[float, Field(gt=0, lt=1)]
    gpu_runs: list[GpuRun] = Field(default_factory=list)
    gpu_pod: GpuPod | None = None  # the GPU runs' pod, when the service also runs on CPU
    llm_profile: str | None = None
    storage_gb_per_channel: Annotated[float, Field(ge=0)]
    storage_gb_per_replica: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _runs_where_it_can(self) -> ServiceProfile:
        # A CPU run is described by response_ms (and slots); GPU runs by gpu (GPUs per pod) and
        # gpu_runs. A service may have both: the planner picks the cheapest that meets the SLA.
        if bool(self.gpu) != bool(self.gpu_runs):
            raise ValueError("gpu (GPUs per pod) and gpu_runs go together")
        if self.response_ms is None and not self.gpu_runs:
            raise ValueError("a service needs response_ms (a CPU run) or gpu_runs")
        if self.gpu_pod is not None and self.response_ms is None:
            raise ValueError("gpu_pod is for a service that also runs on CPU")
        if not self.response_is_hold and (self.hold_ms is None or self.hold_cv is None):
            raise ValueError("hold_ms and hold_cv are needed unless response_is_hold")
        return self


class RedisSize(_PodRequests):
    maxmemory: str  # Redis's own unit syntax ("200mb"), passed to --maxmemory
    storage: str  # the volume's request ("1Gi")

    @cached_property
    def storage_gb(self) -> float:
        return parse_bytes(self.storage) / 1e9

    @field_validator("storage")
    @classmethod
    def _storage_quantity(cls, v: str) -> str:
        return _checked(parse_bytes, v)


class SentinelPreset(_PodRequests):
    """Redis Sentinel for a replicated session store (presets/redis.yaml, with its sources)."""

    port: Annotated[int, Field(ge=1, le=65535)]
    replicas: Annotated[int, Field(ge=3)]  # the Sentinel documentation's minimum
    quorum: Annotated[int, Field(ge=2)]
    master_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
    down_after_ms: Annotated[int, Field(ge=1000)]
    failover_timeout_ms: Annotated[int, Field(ge=1000)]

    @model_validator(mode="after")
    def _quorum_is_a_majority(self) -> SentinelPreset:
        if not self.replicas // 2 < self.quorum <= self.replicas:
            raise ValueError("quorum must be a majority of the sentinels")
        return self


class RedisPreset(_Frozen):
    image: str
    port: Annotated[int, Field(ge=1, le=65535)]
    availability: Annotated[float, Field(gt=0, lt=1)]  # one data pod's
    failover_seconds: Annotated[float, Field(gt=0)]
    failovers_per_month: Annotated[float, Field(ge=0)]
    max_replicas: Annotated[int, Field(ge=2, le=9)]
    sentinel: SentinelPreset
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
    compute_capability: Positive
    relative_throughput: Positive


class LlmRun(_Frozen):
    concurrency: Annotated[int, Field(ge=1)]
    ttft_ms: Positive
    itl_ms: Positive


class LlmProfile(_PodRequests):
    weights_gb: Positive
    kv_cache_mib_per_token: Positive
    gpu_memory_utilisation: Fraction
    overhead_gb: Annotated[float, Field(ge=0)]
    tokens_in: Annotated[int, Field(ge=1)]
    tokens_out: Annotated[int, Field(ge=1)]
    ttft_cv: Cv
    hold_cv: Cv
    min_compute_capability: Positive
    storage_gb_per_replica: Annotated[float, Field(ge=0)]
    runs: dict[str, list[LlmRun]]

    def sequences_on(self, gpu: GpuProfile) -> int:
        """Sequences whose KV cache fits beside the weights on one GPU (rounded down)."""
        free_gb = gpu.memory_gb * self.gpu_memory_utilisation - self.weights_gb - self.overhead_gb
        per_sequence_mib = (self.tokens_in + self.tokens_out) * self.kv_cache_mib_per_token
        return max(0, math.floor(free_gb * 1024 / per_sequence_mib))


class PathStage(_Frozen):
    service: str


class PathDef(_Frozen):
    name: str = ""
    label: str
    entry: str
    requests_per_channel_per_s: Positive
    stages: Annotated[list[PathStage], Field(min_length=1)]
    session_state: bool = False  # the path's answers need the tenant's session store (Redis)

    @cached_property
    def services(self) -> tuple[str, ...]:
        return tuple(stage.service for stage in self.stages)


class SizingPolicy(_Frozen):
    default_percentile: Annotated[float, Field(ge=50, le=99.9)]
    wait_share: Annotated[float, Field(ge=0, lt=1)]
    rollout_hours_per_month: Annotated[float, Field(ge=0)]


class Prices(_Frozen):
    hours_per_month: Positive
    cpu_core_hour: Positive
    memory_gib_hour: Positive
    storage_gb_month: Positive
    gpu_hour_default: Positive
    gpu_hour: dict[str, Positive]


class RolloutPreset(_Frozen):
    """presets/rollout.yaml: what a new tenant's rollout waits for (sizing/deployment_time.py)."""

    sync_delay_s: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]]
    pull_mb_per_s: Positive
    container_start_s: Annotated[float, Field(ge=0)]
    readiness_s: Annotated[float, Field(ge=0)]
    model_load_gb_per_s: Positive
    image_gb: dict[str, Annotated[float, Field(ge=0)]]
    llm_image_gb: Annotated[float, Field(ge=0)]


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
    paths: dict[str, PathDef]
    sizing_policy: SizingPolicy
    llm_profiles: dict[str, LlmProfile]
    redis: RedisPreset | None = None  # presets/redis.yaml; None: the tenant brings its own
    rollout: RolloutPreset | None = None  # presets/rollout.yaml; None: tiers' nominal figures
    digest: str = Field(description="sha256 over the preset files, for incremental compiles")

    @cached_property
    def memo(self) -> dict[Any, Any]:
        """Scratch space for figures sizing derives from this catalogue alone (idle floors per
        hardware combination): computed once per loaded catalogue, read by nothing else."""
        return {}

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
    for name, entry in (merged.get("paths") or {}).items():
        if isinstance(entry, dict):
            entry.setdefault("name", name)
    try:
        catalogue = Catalogue.model_validate({**merged, "digest": digest.hexdigest()})
    except ValidationError as exc:
        first = exc.errors()[0]
        top = str(first["loc"][0]) if first["loc"] else ""
        filename = owner.get(top, PRESET_FILES[0])
        record = spec_errors(exc, texts[filename], str(presets_dir / filename))[0]
        raise PresetDataInvalid(
            record["message"],
            location=Location(file=record["file"], line=record["line"], field=record["field"]),
        ) from exc
    check_consistency(catalogue, presets_dir, texts, owner)
    return catalogue


def _problem(
    presets_dir: Path,
    texts: dict[str, str],
    owner: dict[str, str],
    loc: tuple[str | int, ...],
    message: str,
) -> PresetDataInvalid:
    filename = owner.get(str(loc[0]), PRESET_FILES[0])
    return PresetDataInvalid(
        message,
        location=Location(
            file=str(presets_dir / filename),
            line=line_of(texts[filename], loc),
            field=".".join(str(p) for p in loc),
        ),
    )


def check_consistency(
    catalogue: Catalogue, presets_dir: Path, texts: dict[str, str], owner: dict[str, str]
) -> None:
    """Cross-file rules: paths name known services; every GPU run is on a type that can run the
    service's model; every LLM profile fits the GPUs it lists (and at least one)."""

    def fail(loc: tuple[str | int, ...], message: str) -> PresetDataInvalid:
        return _problem(presets_dir, texts, owner, loc, message)

    for name, path in catalogue.paths.items():
        for i, service in enumerate((path.entry, *path.services)):
            if service not in SERVICES:
                at: tuple[str | int, ...] = ("paths", name, "entry")
                raise fail(
                    at if i == 0 else ("paths", name, "stages", i - 1), f"unknown {service!r}"
                )
    for name, profile in catalogue.services.items():
        for i, run in enumerate(profile.gpu_runs):
            loc = ("services", name, "gpu_runs", i)
            gpu = catalogue.gpus.get(run.gpu_type)
            if gpu is None:
                raise fail((*loc, "gpu_type"), f"unknown GPU type {run.gpu_type!r}")
            need = profile.requires
            if need and (
                gpu.compute_capability < need.compute_capability
                or gpu.memory_gb < need.gpu_memory_gb
            ):
                raise fail(
                    (*loc, "gpu_type"),
                    f"{run.gpu_type} (compute capability {gpu.compute_capability:g}, "
                    f"{gpu.memory_gb:g} GB) cannot run {name}'s model (needs >= "
                    f"{need.compute_capability:g} and >= {need.gpu_memory_gb:g} GB)",
                )
            if run.scale_from is not None:
                base = next(
                    (
                        r
                        for r in profile.gpu_runs
                        if r.gpu_type == run.scale_from and r.mode == run.mode and r.slots
                    ),
                    None,
                )
                base_gpu = catalogue.gpus.get(base.gpu_type) if base else None
                if base is None or base_gpu is None or base.scale_from is not None:
                    raise fail((*loc, "scale_from"), f"no {run.scale_from} {run.mode} run to scale")
                ratio = gpu.relative_throughput / base_gpu.relative_throughput
                if (base.slots or 0) * ratio < 1:
                    # rounding up to one stream would claim the base's latency on a slower GPU
                    raise fail(
                        (*loc, "scale_from"),
                        f"{run.gpu_type} at {ratio:g} x {run.scale_from}'s throughput carries "
                        f"less than one of its {base.slots} stream(s) at that latency",
                    )
            elif run.slots is None or run.response_ms is None or run.response_cv is None:
                raise fail(loc, "a run needs slots, response_ms and response_cv (or scale_from)")
        llm = profile.llm_profile
        if llm is not None and llm not in catalogue.llm_profiles:
            raise fail(("services", name, "llm_profile"), f"unknown {llm!r}")
    for name, model in catalogue.llm_profiles.items():
        for gpu_type in model.runs:
            gpu = catalogue.gpus.get(gpu_type)
            where: tuple[str | int, ...] = ("llm_profiles", name, "runs", gpu_type)
            if gpu is None:
                raise fail(where, f"unknown GPU type {gpu_type!r}")
            if gpu.compute_capability < model.min_compute_capability:
                raise fail(
                    where,
                    f"{gpu_type} is below compute capability {model.min_compute_capability:g}",
                )
            if model.sequences_on(gpu) < 1:
                raise fail(
                    ("llm_profiles", name, "weights_gb"),
                    f"{name} does not fit {gpu_type}'s {gpu.memory_gb:g} GB: "
                    f"{model.weights_gb:g} GB of weights + {model.overhead_gb:g} GB overhead "
                    "+ one sequence's KV cache exceed it",
                )

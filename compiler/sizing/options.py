"""The ways each service can run: CPU, a GPU run of presets/services.yaml, or an LLM profile run.

Input: the catalogue, a service, its engine ("nlu" or "llm") and the spec's GPU pin. Output:
the service's options, each a complete description of one pod (slots, service times, requests,
GPU type). Which option a plan uses is decided in choose.py; nothing here looks at load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from compiler.catalogue import Catalogue, GpuRun, ServiceProfile
from compiler.errors import ValidationFailed

# A GPU pod is down more often than a CPU pod (driver resets, GPU node drains): as stt's figure.
LLM_POD_AVAILABILITY = 0.99


@dataclass(frozen=True, slots=True)
class ServiceOption:
    service: str
    key: str  # "cpu", "h100 low-latency", "llm h100 x50": what explain and the answer print
    engine: str  # "cpu", "gpu" or "llm"
    gpu_type: str | None
    gpus_per_pod: int
    slots: int
    hold_ms: float
    hold_cv: float
    response_ms: float
    response_cv: float
    response_is_hold: bool
    cpu_request_m: int
    cpu_limit_m: int
    memory_mib: int
    storage_gb_per_replica: float
    availability: float
    utilisation_cap: float
    routing: str

    def hourly_price(self, catalogue: Catalogue) -> float:
        """What one pod's requests cost per hour (CPU + memory + its GPUs)."""
        prices = catalogue.prices
        gpu = catalogue.gpu_price(self.gpu_type) if self.gpu_type else 0.0
        return (
            self.cpu_request_m / 1000 * prices.cpu_core_hour
            + self.memory_mib / 1024 * prices.memory_gib_hour
            + self.gpus_per_pod * gpu
        )


def scaled_slots(base_slots: int, base_throughput: float, throughput: float) -> int:
    """Streams on a GPU type without a published figure: the base run's, scaled and rounded
    DOWN (a fraction of a stream is not a stream the GPU can carry at the base latency)."""
    return max(1, math.floor(base_slots * throughput / base_throughput))


def _cpu_option(name: str, p: ServiceProfile) -> ServiceOption:
    assert p.response_ms is not None  # checked when the catalogue loads
    hold = p.response_ms if p.response_is_hold else p.hold_ms
    hold_cv = p.response_cv if p.response_is_hold else p.hold_cv
    assert hold is not None and hold_cv is not None
    return ServiceOption(
        service=name,
        key="cpu",
        engine="cpu",
        gpu_type=None,
        gpus_per_pod=0,
        slots=p.slots,
        hold_ms=hold,
        hold_cv=hold_cv,
        response_ms=p.response_ms,
        response_cv=p.response_cv,
        response_is_hold=p.response_is_hold,
        **_pod_fields(p),
    )


def _pod_fields(p: ServiceProfile) -> dict[str, Any]:
    """What a CPU or GPU option's pod takes from the service's own profile, whatever its engine."""
    return {
        "cpu_request_m": p.cpu_request_m,
        "cpu_limit_m": p.cpu_limit_m,
        "memory_mib": p.memory_mib,
        "storage_gb_per_replica": p.storage_gb_per_replica,
        "availability": p.availability,
        "utilisation_cap": p.utilisation_cap,
        "routing": p.routing,
    }


def _gpu_pod_fields(p: ServiceProfile) -> dict[str, Any]:
    """A GPU run's pod: the service's own figures, or its gpu_pod's when it also runs on CPU."""
    fields = _pod_fields(p)
    if p.gpu_pod is not None:
        fields["cpu_request_m"] = p.gpu_pod.cpu_request_m
        fields["cpu_limit_m"] = p.gpu_pod.cpu_limit_m
        fields["memory_mib"] = p.gpu_pod.memory_mib
        fields["storage_gb_per_replica"] = p.gpu_pod.storage_gb_per_replica
    return fields


def _gpu_option(name: str, p: ServiceProfile, run: GpuRun, catalogue: Catalogue) -> ServiceOption:
    base = run
    slots = run.slots
    if run.scale_from is not None:
        base = next(
            r for r in p.gpu_runs if r.gpu_type == run.scale_from and r.mode == run.mode and r.slots
        )
        assert base.slots is not None
        slots = scaled_slots(
            base.slots,
            catalogue.gpus[base.gpu_type].relative_throughput,
            catalogue.gpus[run.gpu_type].relative_throughput,
        )
    assert slots is not None and base.response_ms is not None and base.response_cv is not None
    hold = base.hold_ms if base.hold_ms is not None else p.hold_ms
    hold_cv = base.hold_cv if base.hold_cv is not None else p.hold_cv
    assert hold is not None and hold_cv is not None
    return ServiceOption(
        service=name,
        key=f"{run.gpu_type} {run.mode}",
        engine="gpu",
        gpu_type=run.gpu_type,
        gpus_per_pod=p.gpu,
        slots=slots,
        hold_ms=hold,
        hold_cv=hold_cv,
        response_ms=base.response_ms,
        response_cv=base.response_cv,
        response_is_hold=False,
        **_gpu_pod_fields(p),
    )


def _llm_options(name: str, p: ServiceProfile, catalogue: Catalogue) -> list[ServiceOption]:
    assert p.llm_profile is not None
    profile = catalogue.llm_profiles[p.llm_profile]
    options = []
    for gpu_type, runs in profile.runs.items():
        sequences = profile.sequences_on(catalogue.gpus[gpu_type])
        for run in runs:
            options.append(
                ServiceOption(
                    service=name,
                    key=f"llm {gpu_type} x{min(run.concurrency, sequences)}",
                    engine="llm",
                    gpu_type=gpu_type,
                    gpus_per_pod=1,
                    # KV cache bounds the batch; the latency is the measured one at `concurrency`
                    slots=min(run.concurrency, sequences),
                    hold_ms=run.ttft_ms + profile.tokens_out * run.itl_ms,
                    hold_cv=profile.hold_cv,
                    response_ms=run.ttft_ms,
                    response_cv=profile.ttft_cv,
                    response_is_hold=False,
                    cpu_request_m=profile.cpu_request_m,
                    cpu_limit_m=profile.cpu_limit_m,
                    memory_mib=profile.memory_mib,
                    storage_gb_per_replica=profile.storage_gb_per_replica,
                    availability=LLM_POD_AVAILABILITY,
                    utilisation_cap=p.utilisation_cap,
                    routing=p.routing,
                )
            )
    return options


def options_for(
    name: str, engine: str, gpu_pin: str | None, catalogue: Catalogue
) -> tuple[ServiceOption, ...]:
    """Every way `name` can run under the spec's engine and GPU pin, catalogue order (derived
    from the catalogue alone, so memoised on it)."""
    key = ("options", name, engine, gpu_pin)
    if key not in catalogue.memo:
        catalogue.memo[key] = _options(name, engine, gpu_pin, catalogue)
    options: tuple[ServiceOption, ...] = catalogue.memo[key]
    return options


def _options(
    name: str, engine: str, gpu_pin: str | None, catalogue: Catalogue
) -> tuple[ServiceOption, ...]:
    p = catalogue.services[name]
    if engine == "llm":
        if p.llm_profile is None:
            raise ValidationFailed(
                f"{name} has no LLM profile in presets/services.yaml: engine 'llm' is for "
                + ", ".join(n for n, s in catalogue.services.items() if s.llm_profile),
                details={"field": f"engines.{name}"},
            )
        options = _llm_options(name, p, catalogue)
    else:
        options = [_cpu_option(name, p)] if p.response_ms is not None else []
        options += [_gpu_option(name, p, run, catalogue) for run in p.gpu_runs]
    if gpu_pin is not None and any(o.gpu_type for o in options):
        # the pin chooses among GPU types; a CPU run stays available beside it
        pinned = [o for o in options if o.gpu_type in (None, gpu_pin)]
        if not pinned:
            can = sorted({o.gpu_type for o in options if o.gpu_type})
            gpu = catalogue.gpus[gpu_pin]
            raise ValidationFailed(
                f"gpu_type {gpu_pin} (compute capability {gpu.compute_capability:g}, "
                f"{gpu.memory_gb:g} GB) cannot run {name}'s model; it runs on {', '.join(can)}",
                details={"field": "gpu_type", "service": name},
            )
        options = pinned
    return tuple(options)

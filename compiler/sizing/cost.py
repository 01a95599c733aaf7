"""Monthly cost of a set of requests, from presets/prices.yaml (OpenCost's method: hourly x 730)."""

from __future__ import annotations

from collections.abc import Sequence

from compiler.catalogue import Catalogue
from compiler.sizing.models import Cost, ServicePlan, Totals


def monthly_cost(totals: Totals, gpu_type: str | None, catalogue: Catalogue) -> Cost:
    """Cost of totals whose GPUs are all of one type (or of an unknown type when None)."""
    prices = catalogue.prices
    hours = prices.hours_per_month
    gpu_hour = catalogue.gpu_price(gpu_type) if gpu_type else prices.gpu_hour_default
    return Cost(
        cpu=round(totals.cpu_millicores / 1000 * prices.cpu_core_hour * hours, 2),
        memory=round(totals.memory_mib / 1024 * prices.memory_gib_hour * hours, 2),
        gpu=round(totals.gpu * gpu_hour * hours, 2),
        storage=round(totals.storage_gb * prices.storage_gb_month, 2),
    )


def plan_cost(services: Sequence[ServicePlan], catalogue: Catalogue) -> Cost:
    """Cost of a plan whose services may run on different GPU types (one pass over the
    services; the float sums are sum() over the same terms in the same order as ever)."""
    prices = catalogue.prices
    hours = prices.hours_per_month
    gpu_hour, gpu_default = prices.gpu_hour, prices.gpu_hour_default  # Catalogue.gpu_price's
    gpu_terms: list[float] = []
    storages: list[float] = []
    cpu_m = memory = 0
    for s in services:
        option, n = s.option, s.replicas
        if option.gpu_type:
            gpu_terms.append(n * option.gpus_per_pod * gpu_hour.get(option.gpu_type, gpu_default))
        cpu_m += n * option.cpu_request_m
        memory += n * option.memory_mib
        storages.append(s.storage_gb)
    gpu = sum(gpu_terms)
    storage = round(sum(storages), 3)
    return Cost(
        cpu=round(cpu_m / 1000 * prices.cpu_core_hour * hours, 2),
        memory=round(memory / 1024 * prices.memory_gib_hour * hours, 2),
        gpu=round(gpu * hours, 2),
        storage=round(storage * prices.storage_gb_month, 2),
    )


def service_cost(service: ServicePlan, catalogue: Catalogue) -> float:
    """One service's monthly cost; plan_cost is the sum of these (up to cent rounding)."""
    hours = catalogue.prices.hours_per_month
    pods = service.replicas * service.option.hourly_price(catalogue) * hours
    return pods + service.storage_gb * catalogue.prices.storage_gb_month

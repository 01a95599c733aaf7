"""Monthly cost of a set of requests, from presets/prices.yaml (OpenCost's method: hourly x 730)."""

from __future__ import annotations

from compiler.catalogue import Catalogue
from compiler.sizing.models import Cost, Totals


def monthly_cost(totals: Totals, gpu_type: str | None, catalogue: Catalogue) -> Cost:
    prices = catalogue.prices
    hours = prices.hours_per_month
    gpu_hour = catalogue.gpu_price(gpu_type) if gpu_type else prices.gpu_hour_default
    return Cost(
        cpu=round(totals.cpu_millicores / 1000 * prices.cpu_core_hour * hours, 2),
        memory=round(totals.memory_mib / 1024 * prices.memory_gib_hour * hours, 2),
        gpu=round(totals.gpu * gpu_hour * hours, 2),
        storage=round(totals.storage_gb * prices.storage_gb_month, 2),
    )

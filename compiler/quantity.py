"""Kubernetes quantities for the sizing model: CPU in millicores, memory in MiB, storage in GB.

Parsing and canonical formatting only ("24000m", "32Gi", "1536Mi", "1.0TB"); pure functions.
"""

from __future__ import annotations

import re
from decimal import Decimal

_QUANTITY = re.compile(r"(?P<num>\d+(\.\d+)?)(?P<suffix>m|k|M|G|T|Ki|Mi|Gi|Ti)?")
_STORAGE = re.compile(r"(?P<num>\d+(\.\d+)?)(?P<unit>GB|TB)")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
MIB = 2**20


def parse_cpu_millicores(value: str | int | float) -> int:
    """'500m' -> 500, '2' -> 2000, 1.5 -> 1500."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(Decimal(str(value)) * 1000)
    match = _QUANTITY.fullmatch(str(value))
    if not match or match["suffix"] not in (None, "m"):
        raise ValueError(f"{value!r} is not a CPU quantity like '500m' or '2'")
    number = Decimal(match["num"])
    return round(number if match["suffix"] == "m" else number * 1000)


def parse_memory_mib(value: str | int) -> int:
    """'1Gi' -> 1024, '512Mi' -> 512; decimal suffixes are converted and rounded up."""
    match = _QUANTITY.fullmatch(str(value))
    if not match or match["suffix"] == "m":
        raise ValueError(f"{value!r} is not a memory quantity like '512Mi' or '4Gi'")
    number = Decimal(match["num"])
    suffix = match["suffix"]
    scale = _BINARY.get(suffix or "", 0) or _DECIMAL.get(suffix or "", 1)
    return -(-int(number * scale) // MIB)


def parse_storage_gb(value: str) -> float:
    """'1.0TB' -> 1000.0, '500GB' -> 500.0 (decimal units, as the reference writes them)."""
    match = _STORAGE.fullmatch(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a storage size like '1.0TB' or '500GB'")
    return float(match["num"]) * (1000 if match["unit"] == "TB" else 1)


def format_cpu(millicores: int) -> str:
    return f"{millicores}m"


def format_memory(mib: int) -> str:
    """Gi when whole, else Mi: '32Gi', '1536Mi'."""
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def format_storage(gb: float) -> str:
    """The reference's style: '1.0TB', '0.5TB'; below 100 GB in GB: '20GB'."""
    if gb < 100:
        return f"{gb:g}GB"
    return f"{gb / 1000:.1f}TB"


def storage_quantity(gb: float) -> str:
    """Storage as a Kubernetes quantity (decimal G), e.g. 1000 GB -> '1000G'."""
    return f"{round(gb)}G"

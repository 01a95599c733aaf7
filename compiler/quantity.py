"""Kubernetes quantities: "200m", "1.5", "512Mi", "1e3", "2Gi" to integers and back, plus the
reference's storage sizes ("1.0TB").

parse_cpu gives millicores and parse_bytes bytes, both rounded up as the API server does;
format_cpu / format_bytes / format_memory give the shortest exact form, so formatting then parsing
round-trips. Pure functions any stage may use; errors are ValidationFailed. No I/O.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from compiler.errors import ValidationFailed

MIB = 2**20
_STORAGE = re.compile(r"(?P<num>\d+(\.\d+)?)(?P<unit>GB|TB)")
# The API machinery's grammar (k8s.io/apimachinery/pkg/api/resource): sign, digits with an optional
# point, then a binary-SI suffix, a decimal-SI suffix or a decimal exponent.
_QUANTITY = re.compile(
    r"^(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
# Memory is shown in the largest binary unit that divides it exactly, as `kubectl` users expect.
_MEMORY_UNITS = (
    ("Ei", 2**60),
    ("Pi", 2**50),
    ("Ti", 2**40),
    ("Gi", 2**30),
    ("Mi", 2**20),
    ("Ki", 2**10),
)
# A quantity longer than this is not a resource request; refusing it bounds the work per value.
_MAX_LENGTH = 64


def parse_quantity(quantity: str | int | float) -> Fraction:
    """The exact value of a quantity as a fraction of base units (cores, bytes, GPUs)."""
    if isinstance(quantity, bool):
        raise _invalid(quantity)
    if isinstance(quantity, int):
        return Fraction(quantity)
    if isinstance(quantity, float):
        if not math.isfinite(quantity):
            raise _invalid(quantity)
        return Fraction(repr(quantity))
    if not isinstance(quantity, str) or len(quantity) > _MAX_LENGTH:
        raise _invalid(quantity)
    match = _QUANTITY.match(quantity)
    if match is None:
        raise _invalid(quantity)
    value = Fraction(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        value *= _BINARY[suffix]
    elif suffix in _DECIMAL:
        value *= _DECIMAL[suffix]
    else:
        exponent = int(suffix[1:])
        if abs(exponent) > 30:  # far beyond any real request; keeps Fraction arithmetic small
            raise _invalid(quantity)
        value *= Fraction(10) ** exponent
    return -value if match["sign"] == "-" else value


def parse_cpu(quantity: str | int | float) -> int:
    """CPU in millicores, rounded up: "200m" -> 200, "1.5" -> 1500, 2 -> 2000."""
    return math.ceil(parse_quantity(quantity) * 1000)


def parse_bytes(quantity: str | int | float) -> int:
    """Memory or storage in bytes, rounded up: "512Mi" -> 536870912, "1G" -> 10**9."""
    return math.ceil(parse_quantity(quantity))


def format_cpu(millicores: int) -> str:
    """Millicores as the reference shows them: 24000 -> "24000m"."""
    return f"{millicores}m"


def format_bytes(num_bytes: int) -> str:
    """Bytes in the largest binary unit that divides them exactly: 34359738368 -> "32Gi"."""
    if num_bytes == 0:
        return "0"
    sign = "-" if num_bytes < 0 else ""
    magnitude = abs(num_bytes)
    for suffix, size in _MEMORY_UNITS:
        if magnitude % size == 0:
            return f"{sign}{magnitude // size}{suffix}"
    return f"{sign}{magnitude}"


def _invalid(quantity: object) -> ValidationFailed:
    shown = (
        repr(quantity) if len(repr(quantity)) <= _MAX_LENGTH else f"{repr(quantity)[:_MAX_LENGTH]}…"
    )
    return ValidationFailed(
        f"{shown} is not a Kubernetes quantity (expected e.g. 200m, 1.5, 512Mi, 2Gi)",
        details={"quantity": shown},
    )


def parse_memory_mib(quantity: str | int) -> int:
    """Memory in MiB, rounded up: "1Gi" -> 1024, "1G" -> 954."""
    return -(-parse_bytes(quantity) // MIB)


def format_memory(mib: int) -> str:
    """MiB as kubectl users write memory: 32768 -> "32Gi", 1536 -> "1536Mi"."""
    return format_bytes(mib * MIB)


def parse_storage_gb(value: str) -> float:
    """The reference's storage sizes: '1.0TB' -> 1000.0, '500GB' -> 500.0 (decimal units)."""
    match = _STORAGE.fullmatch(str(value))
    if not match:
        raise ValidationFailed(
            f"{value!r} is not a storage size like '1.0TB' or '500GB'", details={"quantity": value}
        )
    return float(match["num"]) * (1000 if match["unit"] == "TB" else 1)


def format_storage(gb: float) -> str:
    """The reference's style: '1.0TB', '0.5TB'; below 100 GB in GB: '20GB'."""
    if gb < 100:
        return f"{gb:g}GB"
    return f"{gb / 1000:.1f}TB"


def storage_quantity(gb: float) -> str:
    """Storage as a Kubernetes quantity (decimal G), e.g. 1000 GB -> '1000G'."""
    return f"{round(gb)}G"

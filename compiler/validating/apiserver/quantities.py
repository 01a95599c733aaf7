"""Resource quantities as the API server compares and prints them (resource.Quantity).

value() gives the exact amount (None when the string is not a quantity: the schema's pattern
reports that); canonical() gives Quantity.String(): "0.5" -> "500m", "1024Mi" -> "1Gi". Pure.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from compiler.errors import ValidationFailed
from compiler.quantity import parse_quantity

_DECIMAL_SUFFIX = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P",
                   18: "E"}  # fmt: skip
_BINARY_SUFFIX = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20),
                  ("Ki", 2**10))  # fmt: skip


def value(quantity: object) -> Fraction | None:
    if isinstance(quantity, bool) or not isinstance(quantity, str | int | float):
        return None
    return _parsed(quantity)


# Pure and bounded: the same few quantity strings ("500m", "1Gi") recur in every workload, and
# parsing them exactly (Fractions) is most of what the resource rules cost.
@lru_cache(maxsize=4096)
def _parsed(quantity: str | int | float) -> Fraction | None:
    try:
        return parse_quantity(quantity)
    except ValidationFailed:
        return None


def canonical(quantity: object) -> str:
    amount = value(quantity)
    if amount is None:
        return str(quantity)
    text = str(quantity)
    if amount == 0:
        return "0"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if text.endswith("i") and amount.denominator == 1:
        for suffix, size in _BINARY_SUFFIX:
            if amount % size == 0:
                return f"{sign}{amount // size}{suffix}"
        return f"{sign}{amount}"
    exponent_form = "e" in text.lower() and not text.endswith(("Ei", "E"))
    for exp in sorted(_DECIMAL_SUFFIX, reverse=True):
        mantissa = amount / Fraction(10) ** exp
        if mantissa.denominator == 1:
            if exponent_form:
                return f"{sign}{mantissa}e{exp}" if exp else f"{sign}{mantissa}"
            return f"{sign}{mantissa}{_DECIMAL_SUFFIX[exp]}"
    # finer than a nano-unit: the API server rounds up to 1n
    nanos = -(-amount * 10**9 // 1)
    return f"{sign}{nanos}n"

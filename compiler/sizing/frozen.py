"""Frozen slotted dataclasses built nearly as fast as unfrozen ones, still frozen.

A frozen dataclass's generated __init__ sets each field through object.__setattr__, several
times the cost of an ordinary assignment; sizing 1,000 tenants builds tens of thousands of
plans, paths, totals and costs (bench/bench_sizing.py). `quick_init` gives such a class an
__init__ with the same signature that writes each slot through its own descriptor: the same
objects (fields, defaults, eq, hash, repr, replace), and assigning after __init__ still raises
FrozenInstanceError. Input: a frozen dataclass with slots. Output: the same class.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Replace the frozen slotted dataclass `cls`'s __init__ by one that sets slots directly."""
    params: Any = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init is for frozen dataclasses with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: __post_init__ is not called by quick_init")
    namespace: dict[str, Any] = {}
    arguments = []
    lines = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: only plain positional fields")
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is dataclasses.MISSING:
            arguments.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            arguments.append(f"{f.name}=_default_{f.name}")
        lines.append(f"    _set_{f.name}(self, {f.name})\n")
    source = f"def __init__(self, {', '.join(arguments)}):\n{''.join(lines) or '    pass'}\n"
    # generated source, as dataclasses itself builds __init__: the names are the class's fields
    exec(source, namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    type.__setattr__(cls, "__init__", init)
    return cls

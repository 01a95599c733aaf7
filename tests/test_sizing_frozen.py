"""quick_init: a frozen slotted dataclass keeps every behaviour of its generated __init__."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from compiler.sizing.frozen import quick_init
from compiler.sizing.models import Totals


@quick_init
@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: float = 2.5
    label: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class PlainPoint:
    x: int
    y: float = 2.5
    label: tuple[str, ...] = ()


def test_arguments_defaults_and_keywords_land_as_the_dataclass_init_puts_them() -> None:
    pairs = [
        (Point(1), PlainPoint(1)),
        (Point(1, 3.0), PlainPoint(1, 3.0)),
        (Point(x=4, label=("a",)), PlainPoint(x=4, label=("a",))),
    ]
    for quick, plain in pairs:
        assert (quick.x, quick.y, quick.label) == (plain.x, plain.y, plain.label)


def test_missing_and_unknown_arguments_are_refused_as_before() -> None:
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, 2.0, (), 4)  # type: ignore[call-arg]


def test_the_object_stays_frozen_and_compares_hashes_and_prints_by_its_fields() -> None:
    p = Point(1, 3.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    assert p == Point(1, 3.0) and p != Point(2, 3.0)
    assert hash(p) == hash(Point(1, 3.0))
    assert repr(p) == "Point(x=1, y=3.0, label=())"
    assert dataclasses.replace(p, y=9.0) == Point(1, 9.0)
    assert pickle.loads(pickle.dumps(Totals(1, 2, 3, 4.5))) == Totals(1, 2, 3, 4.5)


def test_only_frozen_dataclasses_with_slots_and_plain_fields_are_accepted() -> None:
    with pytest.raises(TypeError, match="frozen dataclasses with slots"):
        quick_init(
            dataclasses.dataclass(frozen=True)(type("NoSlots", (), {"__annotations__": {"a": int}}))
        )
    with pytest.raises(TypeError, match="frozen dataclasses with slots"):
        quick_init(
            dataclasses.dataclass(slots=True)(type("Mutable", (), {"__annotations__": {"a": int}}))
        )
    factory = type(
        "Factory",
        (),
        {"__annotations__": {"a": list[int]}, "a": dataclasses.field(default_factory=list)},
    )
    with pytest.raises(TypeError, match="only plain positional fields"):
        quick_init(dataclasses.dataclass(frozen=True, slots=True)(factory))

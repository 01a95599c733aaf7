"""Field errors worded as the API server words them (apimachinery's util/validation/field).

`path: Type: value: detail`, e.g. `metadata.name: Required value: name or generateName is
required`. Values are shown as Go shows them: strings quoted (%q), numbers bare, maps and lists as
JSON (the API server's form since 1.31). Paths are built as field.Path renders them: `.child`,
`[0]`, `[key]` (keys unquoted). Pure data, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str
    message: str  # the error body: everything after "path: "

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def show(value: Any) -> str:
    """A bad value as field.Error.ErrorBody prints it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def required(path: str, detail: str = "") -> FieldError:
    return FieldError(path, f"Required value: {detail}" if detail else "Required value")


def invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError(path, f"Invalid value: {show(value)}: {detail}")


def duplicate(path: str, value: Any) -> FieldError:
    return FieldError(path, f"Duplicate value: {show(value)}")


def not_found(path: str, value: Any) -> FieldError:
    return FieldError(path, f"Not found: {show(value)}")


def not_supported(path: str, value: Any, supported: tuple[str, ...]) -> FieldError:
    choices = ", ".join(json.dumps(choice) for choice in supported)
    return FieldError(path, f"Unsupported value: {show(value)}: supported values: {choices}")


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(path, f"Forbidden: {detail}")


def too_long(path: str, max_bytes: int) -> FieldError:
    return FieldError(path, f"Too long: must have at most {max_bytes} bytes")


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def key(path: str, name: str) -> str:
    return f"{path}[{name}]"

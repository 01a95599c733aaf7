"""The editor policy, as data: which image registries, GPU types and presets a non-admin writer
may put in a spec, and which fields only an admin may set.

Input: settings.access.editor, the catalogue's own registry and GPU types, a principal and the
fields a write sets. Output: nothing, or Forbidden naming the field. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.access.roles import Action, Principal
from compiler.errors import Forbidden
from compiler.settings import EditorPolicy as PolicySettings


@dataclass(frozen=True)
class EditorPolicy:
    registries: tuple[str, ...]
    gpu_types: frozenset[str] | None
    presets: frozenset[str] | None
    admin_only: frozenset[str]

    @classmethod
    def of(cls, settings: PolicySettings, catalogue_registry: str) -> EditorPolicy:
        return cls(
            registries=settings.allowed_registries or (catalogue_registry,),
            gpu_types=_set(settings.allowed_gpu_types),
            presets=_set(settings.allowed_presets),
            admin_only=frozenset(settings.admin_only_fields),
        )

    def check(self, principal: Principal, fields: Mapping[str, Any]) -> None:
        """Raise Forbidden for the first field `principal` may not set to the given value."""
        if principal.may(Action.ADMIN):
            return
        for name in sorted(self.admin_only & fields.keys()):
            _refuse(name, f"{name} may be set by an admin only", "admin")
        images = fields.get("images")
        if isinstance(images, Mapping):
            for service, image in sorted(images.items()):
                if not any(str(image).startswith(f"{r.rstrip('/')}/") for r in self.registries):
                    _refuse(
                        f"images.{service}",
                        f"images.{service}: registry not allowed; allowed: "
                        + ", ".join(self.registries),
                        "images:registry",
                        allowed=list(self.registries),
                    )
        _choice("gpu_type", fields.get("gpu_type"), self.gpu_types)
        _choice("preset", fields.get("preset"), self.presets)


def _set(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _choice(name: str, value: Any, allowed: frozenset[str] | None) -> None:
    if value is not None and allowed is not None and value not in allowed:
        _refuse(
            name,
            f"{name} {value!r} is not allowed for editors; allowed: {', '.join(sorted(allowed))}",
            f"{name}:{value}",
            allowed=sorted(allowed),
        )


def _refuse(field: str, message: str, permission: str, **extra: Any) -> None:
    raise Forbidden(message, details={"field": field, "permission": permission, **extra})

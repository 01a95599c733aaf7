"""OIDC group -> role and tenant scope, from an Argo CD policy.csv-style file.

Lines `g, GROUP, ROLE[, SCOPE]` (`#` comments; ROLE may be written `role:admin`); SCOPE is `*`
(the default), tenant IDs separated by `;`, or KEY=VALUE label selectors separated by `;` (every
one must match). Input: the file's text. Output: a GroupPolicy mapping a token's groups to Grants.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from compiler.access.roles import ROLES, Grant, Role, TenantScope
from compiler.errors import Location, UsageError


@dataclass(frozen=True)
class GroupPolicy:
    rules: tuple[tuple[str, Grant], ...] = ()

    def grants(self, groups: Iterable[str]) -> tuple[Grant, ...]:
        given = set(groups)
        return tuple(grant for group, grant in self.rules if group in given)

    @classmethod
    def load(cls, path: Path) -> GroupPolicy:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, source: str = "access-policy.csv") -> GroupPolicy:
        rules = []
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [cell.strip() for cell in row]
            if not cells or not cells[0] or cells[0].startswith("#"):
                continue
            where = Location(file=source, line=number)
            if cells[0] != "g" or len(cells) not in (3, 4):
                raise UsageError("expected `g, GROUP, ROLE[, SCOPE]`", location=where)
            role = cells[2].removeprefix("role:")
            if role not in ROLES:
                raise UsageError(
                    f"role must be one of {', '.join(ROLES)} (got {cells[2]!r})", location=where
                )
            scope = _scope(cells[3] if len(cells) == 4 else "*", where)
            rules.append((cells[1], Grant(_role(role), scope)))
        return cls(tuple(rules))


def _role(name: str) -> Role:
    return next(r for r in ROLES if r == name)


def _scope(text: str, where: Location) -> TenantScope:
    if text in ("", "*"):
        return TenantScope()
    items = [item.strip() for item in text.split(";") if item.strip()]
    selectors = tuple(item for item in items if "=" in item)
    tenants = tuple(item for item in items if "=" not in item)
    try:
        return TenantScope.parse(tenants, selectors)
    except ValueError as exc:
        raise UsageError(str(exc), location=where) from exc

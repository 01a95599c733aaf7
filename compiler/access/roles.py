"""Roles, tenant scopes and principals: the vocabulary every access decision is made in.

Input: a role name and a scope (tenant IDs and/or a label selector over the spec's `labels`).
Output: frozen values that answer "may this principal do ACTION on this tenant?". No I/O here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["viewer", "ingest", "editor", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "ingest", "editor", "admin")


class Action(enum.Enum):
    """What a route does; the value is the permission a 403 names."""

    READ = "tenants:read"  # tenants, manifests, status, monitoring, alerts, streams
    COMPUTE = "tenants:calculate"  # calculate-resources, validate-manifest (no tenant touched)
    WRITE = "tenants:write"  # create, update, delete
    INGEST = "monitoring:ingest"  # POST monitoring
    ADMIN = "admin"  # tokens, admin-only fields, the whole audit log


ROLE_ACTIONS: Mapping[str, frozenset[Action]] = {
    "viewer": frozenset({Action.READ, Action.COMPUTE}),
    "ingest": frozenset({Action.INGEST}),
    "editor": frozenset({Action.READ, Action.COMPUTE, Action.WRITE}),
    "admin": frozenset(Action),
}


@dataclass(frozen=True)
class TenantScope:
    """Tenant IDs and/or a label selector (every key=value must match); neither = every tenant."""

    tenant_ids: frozenset[str] = frozenset()
    selector: tuple[tuple[str, str], ...] = ()

    @property
    def is_all(self) -> bool:
        return not self.tenant_ids and not self.selector

    def admits(self, tenant_id: str, labels: Mapping[str, str]) -> bool:
        if self.is_all or tenant_id in self.tenant_ids:
            return True
        return bool(self.selector) and all(labels.get(k) == v for k, v in self.selector)

    def describe(self) -> str:
        parts = sorted(self.tenant_ids)
        parts += [f"{k}={v}" for k, v in self.selector]
        return ", ".join(parts) if parts else "*"

    @classmethod
    def parse(cls, tenants: tuple[str, ...] = (), selectors: tuple[str, ...] = ()) -> TenantScope:
        """From `--tenant ID ...` and `--tenant-selector KEY=VALUE ...` (ValueError when bad)."""
        pairs = []
        for item in selectors:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"a tenant selector is KEY=VALUE (got {item!r})")
            pairs.append((key.strip(), value.strip()))
        return cls(frozenset(tenants), tuple(sorted(pairs)))


@dataclass(frozen=True)
class Grant:
    role: Role
    scope: TenantScope = TenantScope()

    def allows(self, action: Action) -> bool:
        return action in ROLE_ACTIONS[self.role]


Labels = Callable[[str], Mapping[str, str]]


@dataclass(frozen=True)
class Principal:
    """Who is calling. `name` is what audit trails show ("token:ci-bot", "oidc:alice");
    `email` and `display` author its git commits. `token_id` / `expires_at` let a long-lived
    stream notice a revocation or an expiry."""

    name: str
    kind: Literal["token", "oidc", "anonymous", "none"]
    grants: tuple[Grant, ...]
    display: str = ""
    email: str = ""
    subject: str = ""
    token_id: str | None = None
    expires_at: float | None = None  # epoch seconds
    client: str = ""  # the client address, for anonymous demo callers
    groups: tuple[str, ...] = field(default=(), compare=False)

    @property
    def role(self) -> Role:
        """The strongest role among the grants (what rate limits and lists are keyed on)."""
        best = max((ROLES.index(g.role) for g in self.grants), default=0)
        return ROLES[best] if self.grants else "viewer"

    @property
    def rate_key(self) -> str:
        return f"addr:{self.client}" if self.kind == "anonymous" else self.name

    def may(self, action: Action) -> bool:
        """The role allows `action` on some tenant."""
        return any(g.allows(action) for g in self.grants)

    def sees_all(self, action: Action = Action.READ) -> bool:
        return any(g.allows(action) and g.scope.is_all for g in self.grants)

    def may_on(self, action: Action, tenant_id: str, labels: Mapping[str, str]) -> bool:
        return any(g.allows(action) and g.scope.admits(tenant_id, labels) for g in self.grants)

    def sees(self, tenant_id: str, labels: Mapping[str, str]) -> bool:
        """The tenant exists for this principal (some grant's scope admits it)."""
        return any(g.scope.admits(tenant_id, labels) for g in self.grants)

    def needs_labels(self) -> bool:
        return any(g.scope.selector for g in self.grants) and not self.sees_all()


def demo_principal(client: str) -> Principal:
    """An anonymous caller of the demo sandbox: an editor there, per client address."""
    return Principal(
        name="anonymous",
        kind="anonymous",
        grants=(Grant("editor"),),
        display="anonymous demo user",
        client=client,
    )


def unauthenticated_admin() -> Principal:
    """auth = "none" (loopback only): every caller is an admin, said at start-up."""
    return Principal(name="auth-disabled", kind="none", grants=(Grant("admin"),))

"""AccessControl: the one object the service holds, bundling the authenticator, the rate
limiter, the editor policy, the refusal log and a cache of tenants' labels (for selectors).

Input: Settings and the catalogue's image registry; spec text on demand (labels). Output:
decisions: authorize(principal, action, tenant) -> None or Forbidden / TenantNotFound;
check_spec_fields; visible(...). Reads nothing by itself but the token file and the policy file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

from compiler.access.audit_log import AuditLog
from compiler.access.authenticator import Authenticator
from compiler.access.editor_policy import EditorPolicy
from compiler.access.ratelimit import RateLimiter
from compiler.access.roles import Action, Grant, Principal, TenantScope
from compiler.errors import Forbidden, TenantNotFound
from compiler.settings import Settings

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SpecText = Callable[[str], tuple[str, str] | None]  # tenant -> (etag, text), None when absent
_NO_LABELS: Mapping[str, str] = {}


class AccessControl:
    def __init__(self, settings: Settings, catalogue_registry: Callable[[], str]) -> None:
        self.settings = settings
        self.authenticator = Authenticator(settings)
        self.limiter = RateLimiter(settings.access.rate_limits)
        self._registry = catalogue_registry
        self._policy: EditorPolicy | None = None
        self.audit = AuditLog(
            settings.resolve(".ecp/audit.sqlite3"), settings.access.audit_log_size
        )
        self._labels: dict[str, tuple[str, Mapping[str, str]]] = {}

    @property
    def policy(self) -> EditorPolicy:
        """Built on first use: the default registry is the catalogue's, read from presets/."""
        if self._policy is None:
            self._policy = EditorPolicy.of(self.settings.access.editor, self._registry())
        return self._policy

    # -- scope -----------------------------------------------------------------------------

    def labels(self, tenant_id: str, spec_text: SpecText) -> Mapping[str, str]:
        found = spec_text(tenant_id)
        if found is None:
            return _NO_LABELS
        etag, text = found
        cached = self._labels.get(tenant_id)
        if cached is not None and cached[0] == etag:
            return cached[1]
        try:
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 - the C safe loader
        except yaml.YAMLError:
            data = None
        raw = data.get("labels") if isinstance(data, dict) else None
        labels = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        self._labels[tenant_id] = (etag, labels)
        return labels

    def authorize(
        self,
        principal: Principal,
        action: Action,
        tenant_id: str | None = None,
        spec_text: SpecText | None = None,
    ) -> None:
        """Forbidden when the role lacks `action`; TenantNotFound when the tenant is outside
        every scope (it does not exist for this caller); Forbidden when it is visible but the
        grant that may do `action` does not cover it."""
        if not principal.may(action):
            raise Forbidden(
                f"this needs the {action.value!r} permission, which role "
                f"{principal.role!r} does not have",
                details={"permission": action.value, "role": principal.role},
            )
        if tenant_id is None or principal.sees_all(action):
            return
        labels = (
            self.labels(tenant_id, spec_text)
            if spec_text is not None and principal.needs_labels()
            else _NO_LABELS
        )
        if not principal.sees(tenant_id, labels):
            raise TenantNotFound(
                f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id}
            )
        if not principal.may_on(action, tenant_id, labels):
            raise Forbidden(
                f"this needs the {action.value!r} permission on tenant {tenant_id}",
                details={"permission": action.value, "tenant_id": tenant_id},
            )

    def check_create(
        self,
        principal: Principal,
        tenant_id: str,
        labels: Mapping[str, str],
        fields: Mapping[str, Any],
    ) -> None:
        """A create must land inside a scope that may write, and obey the editor policy."""
        self.authorize(principal, Action.WRITE)
        if not principal.may_on(Action.WRITE, tenant_id, labels):
            raise Forbidden(
                f"tenant {tenant_id} with these labels would be outside your scope",
                details={"permission": Action.WRITE.value, "field": "labels"},
            )
        self.policy.check(principal, fields)

    def check_update(self, principal: Principal, tenant_id: str, fields: Mapping[str, Any]) -> None:
        labels = fields.get("labels")
        if isinstance(labels, Mapping) and not principal.may_on(Action.WRITE, tenant_id, labels):
            raise Forbidden(
                "these labels would move the tenant outside your scope",
                details={"permission": Action.WRITE.value, "field": "labels"},
            )
        self.policy.check(principal, fields)

    def visible(
        self, principal: Principal, tenant_ids: Iterable[str], spec_text: SpecText
    ) -> frozenset[str] | None:
        """The tenants a principal may see among `tenant_ids`; None = all of them."""
        if principal.sees_all():
            return None
        need = principal.needs_labels()
        return frozenset(
            t
            for t in tenant_ids
            if principal.sees(t, self.labels(t, spec_text) if need else _NO_LABELS)
        )


def sandboxed(principal: Principal) -> Principal:
    """In the demo sandbox every caller's scope is the whole sandbox (no real tenant is there);
    the role still decides what they may do."""
    grants = tuple(Grant(g.role, TenantScope()) for g in principal.grants)
    return Principal(
        name=principal.name,
        kind=principal.kind,
        grants=grants,
        display=principal.display,
        email=principal.email,
        subject=principal.subject,
        token_id=principal.token_id,
        expires_at=principal.expires_at,
        client=principal.client,
    )

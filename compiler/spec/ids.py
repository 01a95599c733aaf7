"""Tenant IDs: DNS-1123 labels, checked before an ID reaches any path, namespace or git ref.

Every name and label value the compiler and the publisher derive from an ID is listed in
DERIVED_FROM_TENANT_ID with its Kubernetes limit; MAX_TENANT_ID is the longest ID for which all
of them fit, so a spec that loads can never render a name the API server rejects.
"""

from __future__ import annotations

import re

from compiler.errors import Location, ValidationFailed

NAMESPACE_PREFIX = "ecp-ai-"
TENANT_ID_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_LABEL = re.compile(TENANT_ID_PATTERN.strip("^$"))
MAX_LABEL = 63  # a DNS-1123 label, a label value, a label key's name part
MAX_SUBDOMAIN = 253  # a DNS-1123 subdomain (most object names)
# The services a tenant can run (the spec's service_requirements keys); here because the longest
# of them is part of a generated label value.
SERVICES: tuple[str, ...] = ("callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa")
_LONGEST_SERVICE = max(SERVICES, key=len)

# (what, its form, its limit): every name and label value built from a tenant ID.
DERIVED_FROM_TENANT_ID: tuple[tuple[str, str, int], ...] = (
    ("namespace", NAMESPACE_PREFIX + "{tenant_id}", MAX_LABEL),
    ("label app.kubernetes.io/instance", "{tenant_id}-{service}", MAX_LABEL),
    ("label ecp.ai/tenant", "{tenant_id}", MAX_LABEL),
    # Argo CD labels what it syncs with app.kubernetes.io/instance=<Application name>
    ("Argo CD Application name", "ecp-{tenant_id}", MAX_LABEL),
    ("Flux Kustomization name", "ecp-{tenant_id}", MAX_SUBDOMAIN),
    ("default ingress host's first label", "{tenant_id}", MAX_LABEL),
)


def _room(form: str, limit: int) -> int:
    return limit - len(form.format(tenant_id="", service=_LONGEST_SERVICE))


_BINDING = min(DERIVED_FROM_TENANT_ID, key=lambda item: _room(item[1], item[2]))
MAX_TENANT_ID = _room(_BINDING[1], _BINDING[2])
# Names the API serves under /api/v1/tenants/: a tenant called so would be shadowed by the route.
RESERVED_IDS = frozenset({"calculate-resources", "validate-manifest"})
_ECHO = 200  # at most this much of a bad value is quoted back


def _quoted(value: str) -> str:
    return repr(value) if len(value) <= _ECHO else f"{value[:_ECHO]!r}... ({len(value)} characters)"


def tenant_id_problem(value: object) -> str | None:
    """Why `value` is not a usable tenant ID, or None when it is one."""
    if not isinstance(value, str):
        return "tenant_id must be a string"
    if not _LABEL.fullmatch(value):
        return (
            f"tenant_id {_quoted(value)} is not a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        )
    if len(value) > MAX_TENANT_ID:
        what, form, limit = _BINDING
        shown = form.format(tenant_id="<tenant_id>", service=_LONGEST_SERVICE)
        return (
            f"tenant_id {_quoted(value)} has {len(value)} characters; at most {MAX_TENANT_ID} "
            f"fit the {what} '{shown}' ({limit} characters at most)"
        )
    if value in RESERVED_IDS:
        return f"tenant_id {value!r} is reserved: the API serves /api/v1/tenants/{value} itself"
    return None


def check_tenant_id(value: object, *, location: Location | None = None) -> str:
    """Return `value` as a valid tenant ID or raise ValidationFailed naming the field."""
    problem = tenant_id_problem(value)
    if problem is not None:
        raise ValidationFailed(
            problem,
            details={"field": "tenant_id", "value": str(value)[:100]},
            location=location or Location(field="tenant_id"),
        )
    assert isinstance(value, str)  # narrowed by tenant_id_problem
    return value


def namespace_for(tenant_id: str) -> str:
    return f"{NAMESPACE_PREFIX}{tenant_id}"

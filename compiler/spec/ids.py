"""Tenant IDs: DNS-1123 labels, checked before an ID reaches any path, namespace or git ref.

The namespace is `ecp-ai-<tenant_id>` and must itself fit a 63-character label.
"""

from __future__ import annotations

import re

from compiler.errors import Location, ValidationFailed

NAMESPACE_PREFIX = "ecp-ai-"
TENANT_ID_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_LABEL = re.compile(TENANT_ID_PATTERN.strip("^$"))
MAX_LABEL = 63
MAX_TENANT_ID = MAX_LABEL - len(NAMESPACE_PREFIX)
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
        return (
            f"tenant_id {_quoted(value)} has {len(value)} characters; at most {MAX_TENANT_ID} fit "
            f"the namespace '{NAMESPACE_PREFIX}<tenant_id>' (63)"
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

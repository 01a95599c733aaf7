"""Tenant IDs: DNS-1123 labels, checked before an ID reaches any path, namespace or git ref.

The namespace is `ecp-ai-<tenant_id>` and must itself fit a 63-character label.
"""

from __future__ import annotations

import re

from compiler.errors import Location, ValidationFailed

NAMESPACE_PREFIX = "ecp-ai-"
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
MAX_LABEL = 63
MAX_TENANT_ID = MAX_LABEL - len(NAMESPACE_PREFIX)


def tenant_id_problem(value: object) -> str | None:
    """Why `value` is not a usable tenant ID, or None when it is one."""
    if not isinstance(value, str):
        return "tenant_id must be a string"
    if not _LABEL.fullmatch(value):
        return (
            f"tenant_id {value!r} is not a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        )
    if len(value) > MAX_TENANT_ID:
        return (
            f"tenant_id {value!r} has {len(value)} characters; at most {MAX_TENANT_ID} fit "
            f"the namespace '{NAMESPACE_PREFIX}<tenant_id>' (63)"
        )
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

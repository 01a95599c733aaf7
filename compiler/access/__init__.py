"""Access control: who is calling (API tokens, OIDC JWTs), what their role and tenant scope let
them do, how fast they may go, and what is recorded about them.

Input: a request's credentials and what it asks for (an action, a tenant, a spec body). Output: a
Principal, an allow / Forbidden / not-found decision, a rate-limit decision, audit entries. The
service calls this package through one middleware and one guard per route; nothing here knows
HTTP routing, and nothing here opens or writes a tenant spec (labels come from spec text the
service hands over).
"""

from compiler.access.authenticator import Authenticator
from compiler.access.editor_policy import EditorPolicy
from compiler.access.ratelimit import RateDecision, RateLimiter
from compiler.access.roles import (
    ROLES,
    Action,
    Grant,
    Principal,
    Role,
    TenantScope,
)
from compiler.access.tokens import TokenRecord, TokenStore

__all__ = [
    "ROLES",
    "Action",
    "Authenticator",
    "EditorPolicy",
    "Grant",
    "Principal",
    "RateDecision",
    "RateLimiter",
    "Role",
    "TenantScope",
    "TokenRecord",
    "TokenStore",
]

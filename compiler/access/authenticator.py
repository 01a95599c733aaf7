"""Who is calling: an `Authorization: Bearer` credential (an API token or an OIDC JWT), an
anonymous demo caller, or nobody.

Input: Settings, the credential, whether the call is for the demo sandbox, the client address.
Output: a Principal, or Unauthorized with a reason that never repeats the credential. A token
check is a dict lookup and a constant-time compare; a JWT may fetch a JWKS, so callers run
`verify_slow` off the event loop (see `is_slow`).
"""

from __future__ import annotations

import time

from compiler.access.group_policy import GroupPolicy
from compiler.access.oidc import OidcVerifier, looks_like_jwt
from compiler.access.roles import Principal, demo_principal, unauthenticated_admin
from compiler.access.tokens import PREFIX, TokenStore
from compiler.errors import Unauthorized
from compiler.settings import Settings


def bearer_of(header: str | None) -> str | None:
    """The credential in an Authorization header ('Bearer X', any case), or None."""
    if not header:
        return None
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return credential.strip()


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self.disabled = settings.auth == "none"
        self.demo_anonymous = settings.demo_anonymous
        self.tokens = TokenStore(settings.resolve(settings.tokens_path))
        self.oidc: OidcVerifier | None = None
        if settings.oidc_issuer and settings.oidc_audience:
            access = settings.access
            jwks = settings.oidc_jwks
            if jwks and not jwks.startswith(("http://", "https://")):
                jwks = str(settings.resolve(jwks))
            self.oidc = OidcVerifier(
                settings.oidc_issuer,
                settings.oidc_audience,
                jwks,
                GroupPolicy.load(settings.resolve(access.oidc_policy)),
                access.oidc_groups_claim,
                access.oidc_leeway_s,
            )

    def is_slow(self, credential: str | None) -> bool:
        return credential is not None and self.oidc is not None and looks_like_jwt(credential)

    def authenticate(self, credential: str | None, demo: bool, client: str) -> Principal:
        if self.disabled:
            return unauthenticated_admin()
        if credential is None:
            if demo and self.demo_anonymous:
                return demo_principal(client)
            raise Unauthorized(
                "authentication required: send 'Authorization: Bearer <token>'",
                details={"header": "Authorization"},
            )
        if credential.startswith(PREFIX):
            return self._api_token(credential)
        if self.oidc is not None and looks_like_jwt(credential):
            return self.oidc.verify(credential)
        raise Unauthorized("the bearer token is not one this server knows")

    def _api_token(self, credential: str) -> Principal:
        record = self.tokens.lookup(credential)
        if record is None:
            raise Unauthorized("the bearer token is not one this server knows")
        state = record.state(time.time())
        if state != "active":
            raise Unauthorized(f"the token {record.name!r} is {state}", details={"token": state})
        return self.tokens.principal(record)

    def still_valid(self, principal: Principal) -> str | None:
        """Why a principal authenticated earlier may no longer act (for long-lived streams)."""
        if principal.kind not in ("token", "oidc"):
            return None
        now = time.time()
        if principal.token_id is not None:
            record = self.tokens.current(principal.token_id)
            if record is None:
                return "the token was removed"
            if record.state(now) != "active":
                return f"the token is {record.state(now)}"
        elif principal.expires_at is not None and now >= principal.expires_at:
            return "the token has expired"
        return None

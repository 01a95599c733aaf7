"""GET /api/v1/auth/config: how a browser signs in here, asked before it has a credential.

Answers the sign-in methods: API tokens always; OIDC when an issuer and audience are configured,
with what a public client needs for the authorization-code + PKCE flow (issuer, client_id,
scopes). Never a secret: a public client has none, and the JWKS stays the server's business.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from compiler.service.openapi import ApiRoute, RouteDoc
from compiler.service.replies import json_reply
from compiler.service.state import app_state


class OidcClientConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    issuer: str
    client_id: str
    scopes: tuple[str, ...]
    # The token the dashboard sends as Bearer: the ID token, whose `aud` is the client ID.
    bearer: Literal["id_token"] = "id_token"


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    token: bool = True  # API tokens (ecp token create) are always accepted
    oidc: OidcClientConfig | None = None


async def get_auth_config(request: Request) -> Response:
    settings = app_state(request).settings
    oidc = None
    if settings.oidc_issuer and settings.oidc_audience:
        oidc = OidcClientConfig(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id or settings.oidc_audience,
            scopes=tuple(settings.oidc_scopes.split()),
        )
    return json_reply(AuthConfig(oidc=oidc), headers={"Cache-Control": "no-store"})


def routes() -> list[BaseRoute]:
    return [
        ApiRoute(
            "/api/v1/auth/config",
            get_auth_config,
            methods=["GET"],
            doc=RouteDoc("How to sign in: tokens, and OIDC when configured", response=AuthConfig),
        )
    ]

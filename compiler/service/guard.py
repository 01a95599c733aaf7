"""The one guard per route: every protected route declares the action it performs, and the
guard asks compiler.access whether the caller may, before the handler runs.

ROUTE_ACTIONS is the whole table (path template -> method -> action); `guard_routes` wraps each
protected route and refuses to start when one has no entry, so a new route cannot ship
unguarded. Handlers read the caller with `principal_of` / `author_of` and the visible tenants with
`visible_tenants`; none of them looks at a credential.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from compiler.access.control import AccessControl, SpecText
from compiler.access.roles import Action, Principal
from compiler.errors import Forbidden, OrchestratorError
from compiler.publishing import CommitAuthor
from compiler.service.access_middleware import is_protected
from compiler.service.error_responses import error_body
from compiler.service.middleware import new_request_id
from compiler.service.state import AppState, Workspace

READ, COMPUTE, WRITE, INGEST = Action.READ, Action.COMPUTE, Action.WRITE, Action.INGEST


@dataclass(frozen=True)
class Rule:
    action: Action
    all_tenants: bool = False  # answers about every tenant at once: needs a scope of all


_TENANTS = {"GET": Rule(READ), "POST": Rule(WRITE)}
_TENANT = {"GET": Rule(READ), "PUT": Rule(WRITE), "DELETE": Rule(WRITE)}
ROUTE_ACTIONS: dict[str, dict[str, Rule]] = {
    "/api/v1/tenants/": _TENANTS,
    "/api/v1/tenants": _TENANTS,
    "/api/v1/tenants/calculate-resources": {"POST": Rule(COMPUTE)},
    "/api/v1/tenants/validate-manifest": {"POST": Rule(COMPUTE)},
    "/api/v1/tenants/{tenant_id}": _TENANT,
    "/api/v1/tenants/{tenant_id}/manifest": {"GET": Rule(READ)},
    "/api/v1/tenants/{tenant_id}/deployment-status": {"GET": Rule(READ)},
    "/api/v1/tenants/{tenant_id}/history": {"GET": Rule(READ)},
    "/api/v1/tenants/{tenant_id}/preview": {"POST": Rule(WRITE)},  # the dry run of a PUT
    "/api/v1/tenants/{tenant_id}/monitoring": {"GET": Rule(READ), "POST": Rule(INGEST)},
    "/api/v1/tenants/{tenant_id}/alerts": {"GET": Rule(READ)},
    "/api/v1/monitoring/system": {"GET": Rule(READ)},  # filtered to the caller's tenants
    "/api/v1/audit": {"GET": Rule(READ)},  # filtered to the caller's tenants
    "/metrics": {"GET": Rule(READ, all_tenants=True)},
    "/ws/monitoring/{tenant_id}": {"WS": Rule(READ)},
    "/ws/alerts/{tenant_id}": {"WS": Rule(READ)},
    "/ws/deployment/{deployment_id}": {"WS": Rule(READ)},  # scope checked by the stream
}


def principal_of(conn: HTTPConnection) -> Principal:
    principal = conn.scope.get("state", {}).get("principal")
    assert isinstance(principal, Principal)  # set by AccessMiddleware for every guarded route
    return principal


def author_of(conn: HTTPConnection) -> CommitAuthor:
    """The caller as git author of the commits its write makes."""
    principal = principal_of(conn)
    return CommitAuthor(
        name=principal.display or principal.name,
        email=principal.email or "unknown@ecp.local",
        principal=principal.name.replace(" ", "_"),
    )


def access_of(conn: HTTPConnection) -> AccessControl:
    state = conn.app.state.ecp
    assert isinstance(state, AppState)
    return state.access


def spec_text_of(ws: Workspace) -> SpecText:
    def read(tenant_id: str) -> tuple[str, str] | None:
        spec = ws.read.spec_file(tenant_id)
        return None if spec is None else (spec.etag, spec.text)

    return read


def visible_tenants(conn: HTTPConnection, ws: Workspace) -> frozenset[str] | None:
    """The tenants of `ws` the caller may see; None = all."""
    principal = principal_of(conn)
    if principal.sees_all():
        return None  # the common case: no listing of the specs at all
    return access_of(conn).visible(principal, ws.read.spec_ids(), spec_text_of(ws))


def _check(scope: Scope, rule: Rule, demo: bool) -> None:
    """Read from the scope itself (no HTTPConnection: this runs before every guarded call)."""
    state = scope["app"].state.ecp
    assert isinstance(state, AppState)
    principal = scope.get("state", {}).get("principal")
    assert isinstance(principal, Principal)  # set by AccessMiddleware for every guarded route
    if rule.all_tenants and not principal.sees_all(rule.action):
        raise Forbidden(
            "this answers about every tenant: it needs a viewer (or higher) of all tenants",
            details={"permission": f"{rule.action.value}:*"},
        )
    tenant_id = scope.get("path_params", {}).get("tenant_id")
    ws = state.workspace(demo)
    state.access.authorize(principal, rule.action, tenant_id, spec_text_of(ws))


def _guard_http(inner: ASGIApp, rules: dict[str, Rule]) -> ASGIApp:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        _check(scope, rules[method], bool(scope.get("state", {}).get("demo", False)))
        await inner(scope, receive, send)

    return guarded


def _guard_ws(inner: ASGIApp, rule: Rule) -> ASGIApp:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        conn = HTTPConnection(scope)
        demo = conn.query_params.get("demo") == "true" or conn.headers.get("x-demo-mode") == "true"
        try:
            _check(scope, rule, demo)
        except OrchestratorError as exc:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                body = error_body(exc.code, exc.message, new_request_id(), exc.details)
                with contextlib.suppress(Exception):
                    await send({"type": "websocket.send", "text": json.dumps(body)})
                await send({"type": "websocket.close", "code": 4000 + exc.http_status})
            return
        await inner(scope, receive, send)

    return guarded


def guard_routes(routes: Sequence[BaseRoute]) -> None:
    """Wrap every protected route in its guard; a protected route without a rule is a bug."""
    for route in routes:
        if not isinstance(route, Route | WebSocketRoute) or not is_protected(route.path):
            continue
        rules = ROUTE_ACTIONS.get(route.path)
        if rules is None:
            raise RuntimeError(f"route {route.path} has no entry in guard.ROUTE_ACTIONS")
        if isinstance(route, WebSocketRoute):
            route.app = _guard_ws(route.app, rules["WS"])
            continue
        missing = sorted((route.methods or set()) - {"HEAD"} - rules.keys())
        if missing:
            raise RuntimeError(f"route {route.path} has no rule for {', '.join(missing)}")
        route.app = _guard_http(route.app, rules)

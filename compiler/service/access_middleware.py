"""The one access middleware: who is calling, may they call this often, and for streams: may
this browser page connect, and is the token still good while the stream runs.

Pure ASGI. For /api/, /ws/ and /metrics it authenticates through compiler.access (401 with
`WWW-Authenticate: Bearer`), spends the caller's rate budget (429 with Retry-After) and puts the
Principal in scope["state"]["principal"]; RateLimit-* headers go on every answer; refusals
(401/403/429) go to the audit log. What a principal may do per route: guard.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compiler.access.audit_log import Refusal
from compiler.access.authenticator import bearer_of
from compiler.access.control import AccessControl, sandboxed
from compiler.access.ratelimit import RateDecision
from compiler.access.roles import Principal
from compiler.errors import Forbidden, OrchestratorError, RateLimited, Unauthorized
from compiler.service.error_responses import error_body, error_response
from compiler.service.middleware import add_raw_headers, new_request_id, parse_flag

_PROTECTED = ("/api/", "/ws/")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TENANT_IN_PATH = re.compile(r"^/(?:api/v1/tenants|ws/monitoring|ws/alerts)/([a-z0-9-]{1,63})")
WATCH_S = 0.5  # how often a stream re-checks its token (revocation is seen within ~1 s)
CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN = 4401, 4403
WS_BEARER_PROTOCOL = "bearer"  # browsers: new WebSocket(url, ["bearer", token])


# Public: how to sign in is asked before there is a credential (auth_config_routes).
PUBLIC_PATHS = frozenset({"/api/v1/auth/config"})


def is_protected(path: str) -> bool:
    return (path.startswith(_PROTECTED) and path not in PUBLIC_PATHS) or path == "/metrics"


def _tenant_of(path: str) -> str | None:
    match = _TENANT_IN_PATH.match(path)
    if match is None or match[1] in ("calculate-resources", "validate-manifest"):
        return None
    return match[1]


class AccessMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not is_protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        control: AccessControl = scope["app"].state.ecp.access
        if scope["type"] == "http":
            await self._http(control, scope, receive, send)
        else:
            await self._websocket(control, scope, receive, send)

    # -- HTTP ------------------------------------------------------------------------------

    async def _http(
        self, control: AccessControl, scope: Scope, receive: Receive, send: Send
    ) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = str(state.get("request_id") or new_request_id())
        demo = bool(state.get("demo", False))
        client = _client(scope)
        writes = scope["method"] not in _READ_METHODS
        try:
            credential = bearer_of(_authorization(scope))
            principal = await _authenticate(control, credential, demo, client)
        except Unauthorized as exc:
            # Failed attempts spend the anonymous budget of their address: guessing is slow.
            decision = control.limiter.spend(f"addr:{client}", "anonymous", writes)
            refusal = exc if decision.allowed else _rate_limited(decision)
            _log(control, scope, refusal, "-", client, request_id)
            await _refuse_http(refusal, request_id, decision, scope, receive, send)
            return
        role = "anonymous" if principal.kind == "anonymous" else principal.role
        decision = control.limiter.spend(principal.rate_key, role, writes)
        if not decision.allowed:
            limited = _rate_limited(decision)
            _log(control, scope, limited, principal.name, client, request_id)
            await _refuse_http(limited, request_id, decision, scope, receive, send)
            return
        state["principal"] = sandboxed(principal) if demo else principal
        rate_headers = decision.raw_headers()
        forbidden = False

        async def send_with_limits(message: Message) -> None:
            nonlocal forbidden
            if message["type"] == "http.response.start":
                add_raw_headers(message, rate_headers)
                forbidden = message["status"] == 403
            elif message["type"] == "http.response.body" and forbidden:
                forbidden = False  # error bodies are one small message: log its reason
                refusal = Forbidden(_reason_of(message.get("body", b"")))
                _log(control, scope, refusal, principal.name, client, request_id)
            await send(message)

        await self.app(scope, receive, send_with_limits)

    # -- WebSocket -------------------------------------------------------------------------

    async def _websocket(
        self, control: AccessControl, scope: Scope, receive: Receive, send: Send
    ) -> None:
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        request_id = new_request_id()
        client = _client(scope)
        offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
        subprotocol = WS_BEARER_PROTOCOL if WS_BEARER_PROTOCOL in offered else None
        demo = parse_flag(query.get("demo") or headers.get("x-demo-mode") or "false") is True
        try:
            _check_origin(control, headers, scope)
            credential = _ws_credential(headers, query, offered)
            principal = await _authenticate(control, credential, demo, client)
            role = "anonymous" if principal.kind == "anonymous" else principal.role
            decision = control.limiter.spend(principal.rate_key, role, False)
            if not decision.allowed:
                raise _rate_limited(decision)
        except OrchestratorError as exc:
            _log(control, scope, exc, "-", client, request_id)
            await _refuse_ws(exc, request_id, subprotocol, receive, send)
            return
        scope.setdefault("state", {})["principal"] = sandboxed(principal) if demo else principal
        await self._watched(control, principal, scope, receive, send, subprotocol, request_id)

    async def _watched(
        self,
        control: AccessControl,
        principal: Principal,
        scope: Scope,
        receive: Receive,
        send: Send,
        subprotocol: str | None,
        request_id: str,
    ) -> None:
        """Run the stream; close it 4401 as soon as its token is revoked or expires."""
        phase = {"accepted": False, "closed": False}

        async def send_tracked(message: Message) -> None:
            if message["type"] == "websocket.accept":
                phase["accepted"] = True
                if subprotocol and not message.get("subprotocol"):
                    message = {**message, "subprotocol": subprotocol}
            elif message["type"] == "websocket.close":
                phase["closed"] = True
            await send(message)

        async def stream() -> None:
            await self.app(scope, receive, send_tracked)

        task = asyncio.create_task(stream())
        while True:
            done, _ = await asyncio.wait({task}, timeout=WATCH_S)
            if done:
                task.result()
                return
            reason = control.authenticator.still_valid(principal)
            if reason is None:
                continue
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            if phase["accepted"] and not phase["closed"]:
                exc = Unauthorized(reason)
                _log(control, scope, exc, principal.name, _client(scope), request_id)
                with contextlib.suppress(Exception):
                    await send(_frame(exc, request_id))
                    await send(
                        {"type": "websocket.close", "code": CLOSE_UNAUTHORIZED, "reason": exc.code}
                    )
            return


async def _authenticate(
    control: AccessControl, credential: str | None, demo: bool, client: str
) -> Principal:
    authenticator = control.authenticator
    if authenticator.is_slow(credential):  # a JWT may need its JWKS fetched: not on the loop
        return await run_in_threadpool(authenticator.authenticate, credential, demo, client)
    return authenticator.authenticate(credential, demo, client)


def _authorization(scope: Scope) -> str | None:
    """The first Authorization header (Headers(scope).get without building the Headers)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


def _ws_credential(headers: Headers, query: QueryParams, offered: list[str]) -> str | None:
    """Authorization header (SDKs); the protocol after "bearer" in Sec-WebSocket-Protocol or an
    access_token query parameter (browsers cannot set headers on a WebSocket)."""
    if headers.get("authorization"):
        return bearer_of(headers["authorization"])
    if WS_BEARER_PROTOCOL in offered:
        position = offered.index(WS_BEARER_PROTOCOL)
        if position + 1 < len(offered):
            return offered[position + 1]
    return query.get("access_token") or None


def _check_origin(control: AccessControl, headers: Headers, scope: Scope) -> None:
    """Browsers always send Origin: it must be the server's own or on the allow-list. Clients
    that send none (SDKs, agents) are not browsers, so no other page can ride on them."""
    origin = headers.get("origin")
    if origin is None:
        return
    host = headers.get("host", "")
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    allowed = {f"{scheme}://{host}", *control.settings.access.allowed_origins}
    if origin not in allowed:
        raise Forbidden(
            f"origin {origin[:100]!r} may not open streams here",
            details={"header": "Origin", "permission": "origin"},
        )


def _reason_of(body: bytes) -> str:
    try:
        error = json.loads(body)["error"]
        return f"{error['message']} ({error['details'].get('permission', '')})"
    except (ValueError, KeyError, TypeError):
        return "forbidden"


def _rate_limited(decision: RateDecision) -> RateLimited:
    return RateLimited(
        f"too many requests on the {decision.budget} budget; retry in {decision.retry_after_s} s",
        details={"budget": decision.budget, "retry_after": decision.retry_after_s},
    )


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _log(
    control: AccessControl,
    scope: Scope,
    exc: OrchestratorError,
    principal: str,
    client: str,
    request_id: str,
) -> None:
    refusal = Refusal(
        status=exc.http_status,
        code=exc.code,
        principal=principal,
        client=client,
        method=str(scope.get("method", "WS")),
        path=str(scope["path"]),
        tenant_id=_tenant_of(str(scope["path"])),
        reason=exc.message,
        request_id=request_id,
    )
    with contextlib.suppress(Exception):  # the audit log never turns a refusal into a 500
        control.audit.record(refusal)


async def _refuse_http(
    exc: OrchestratorError,
    request_id: str,
    decision: RateDecision,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    headers = decision.headers()
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="ecp"'
    response = error_response(
        exc.http_status, exc.code, exc.message, request_id, exc.details, headers
    )
    await response(scope, receive, send)


def _frame(exc: OrchestratorError, request_id: str) -> Message:
    body = error_body(exc.code, exc.message, request_id, exc.details)
    return {"type": "websocket.send", "text": json.dumps(body)}


async def _refuse_ws(
    exc: OrchestratorError, request_id: str, subprotocol: str | None, receive: Receive, send: Send
) -> None:
    """Accept, send the error body, close 4401 / 4403 / 4429: a browser sees the code, where a
    refused handshake would show it nothing."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept", "subprotocol": subprotocol})
    await send(_frame(exc, request_id))
    await send({"type": "websocket.close", "code": 4000 + exc.http_status, "reason": exc.code})

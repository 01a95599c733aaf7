"""The one place where failures become the reference's error body.

{"error": {code, message, details, timestamp, request_id}} for OrchestratorError, Starlette's
HTTPException (unknown route, wrong method) and anything unexpected (a 500 that never carries a
stack trace). Input: an exception and the request's id. Output: a JSONResponse. No other logic.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from compiler.errors import OrchestratorError

log = logging.getLogger("ecp.api")
# An error answer quotes at most this much of any one value (a client's input included), and a
# message (ours, with what it quotes) at most MAX_MESSAGE.
MAX_ECHO = 200
MAX_MESSAGE = 600

# HTTP statuses Starlette raises itself, named like the reference's codes.
_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def utc_now() -> str:
    """Now as ISO-8601 with a Z, to the second (the reference's timestamp format)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_body(
    code: str, message: str, request_id: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "timestamp": utc_now(),
            "request_id": request_id,
        }
    }


def error_response(
    status: int,
    code: str,
    message: str,
    request_id: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, request_id, details), status_code=status, headers=headers
    )


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def server_paths(request: Request) -> tuple[str, ...]:
    """Folders of this server an error may name (the workspace, deploy repo, database), longest
    first: answers name paths relative to the workspace, or not at all."""
    settings = getattr(getattr(request.app.state, "ecp", None), "settings", None)
    if settings is None:
        return ()
    folders = {settings.root, settings.resolve(settings.database).parent, settings.cache_dir}
    if settings.deploy_repo_path is not None:
        folders.add(settings.deploy_repo_path)
    found = {str(path) for folder in folders for path in (folder, folder.resolve())}
    return tuple(sorted(found, key=len, reverse=True))


def _bounded(value: Any, roots: tuple[str, ...], limit: int = MAX_ECHO) -> Any:
    """Strings cut to `limit` characters with server paths made relative; lists to 100 items."""
    if isinstance(value, str):
        for root in roots:
            value = value.replace(root + "/", "").replace(root, ".")
        return value if len(value) <= limit else value[:limit] + "..."
    if isinstance(value, dict):
        return {str(k)[:limit]: _bounded(v, roots, limit) for k, v in list(value.items())[:100]}
    if isinstance(value, list | tuple):
        return [_bounded(v, roots, limit) for v in value[:100]]
    return value


def orchestrator_error_response(
    exc: OrchestratorError, request_id: str, roots: tuple[str, ...] = ()
) -> JSONResponse:
    if exc.http_status >= 500:
        # Operator-side failures are logged in full; the client gets the message and the id.
        log.error("request %s failed: %s %s", request_id, exc.code, exc)
    message = _bounded(exc.message, roots, MAX_MESSAGE)
    details = _bounded(exc.details, roots)
    return error_response(exc.http_status, exc.code, message, request_id, details)


def unexpected_error_response(exc: BaseException, request_id: str) -> JSONResponse:
    log.exception("request %s: unexpected error", request_id, exc_info=exc)
    return error_response(
        500,
        "INTERNAL_ERROR",
        "internal error; quote the request_id when reporting it",
        request_id,
    )


async def handle_orchestrator_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OrchestratorError)  # registered for this class only
    return orchestrator_error_response(exc, request_id_of(request), server_paths(request))


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for this class only
    request_id = request_id_of(request)
    code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
    if exc.status_code == 404:
        message = f"no route for {request.method[:20]} {request.url.path[:200]}"
        details: dict[str, Any] = {"path": request.url.path[:200]}
    elif exc.status_code == 405:
        message = f"method {request.method[:20]} is not allowed on {request.url.path[:200]}"
        details = {"path": request.url.path[:200], "method": request.method[:20]}
    else:
        message, details = str(exc.detail), {}
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405 and request.method == "OPTIONS":
        # OPTIONS is answered for every routed path: the methods this path's own routes serve.
        allow = ", ".join([*allowed_methods(request), "OPTIONS"])
        return Response(status_code=204, headers={"Allow": allow})
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        details["allowed"] = allowed
    return error_response(exc.status_code, code, message, request_id, details, headers or None)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path: Starlette's own 405 names only the first
    matching route's, and one path (the tenant collection) has a route per method. A route with
    a literal path (calculate-resources) owns it: the {tenant_id} route's methods do not count."""
    literal: set[str] = set()
    templated: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match != Match.NONE:
                (templated if route.param_convertors else literal).update(route.methods)
    return sorted(literal or templated)


EXCEPTION_HANDLERS = {
    OrchestratorError: handle_orchestrator_error,
    HTTPException: handle_http_exception,
}

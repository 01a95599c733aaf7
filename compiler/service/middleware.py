"""Request context for every HTTP request: X-Request-ID, X-Demo-Mode, X-Debug, last-resort errors.

A pure ASGI middleware (no response buffering): it reads the headers into scope["state"], refuses
/api/ requests without a valid X-Demo-Mode (400), echoes X-Request-ID on every response and turns
any exception that escaped the handlers into the reference's 500 body. Body limits: bodies.py.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compiler.service.error_responses import error_response, unexpected_error_response

# A client's request id is echoed into headers and logs: only a safe, bounded alphabet is accepted
# (anything else could split headers or forge log lines), otherwise a fresh id is generated.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_API_PREFIX = "/api/"
_NO_CACHE = (b"cache-control", b"no-cache")
log = logging.getLogger("ecp.api")


def new_request_id() -> str:
    return f"req-{secrets.token_hex(8)}"


def set_headers(message: Message, values: Mapping[str, str]) -> None:
    """`MutableHeaders(scope=message)[name] = value` for each pair, in order."""
    add_raw_headers(
        message, [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in values.items()]
    )


def add_raw_headers(message: Message, pairs: list[tuple[bytes, bytes]]) -> None:
    """set_headers for (lower-case name, value) byte pairs: appended when new (the usual case,
    without MutableHeaders' scan of every header per name), replacing in place when present."""
    raw = list(message.get("headers", ()))
    names = {name for name, _ in pairs}
    for name, _ in raw:
        if name in names:
            out = MutableHeaders(raw=raw)
            for new_name, value in pairs:
                out[new_name.decode("latin-1")] = value.decode("latin-1")
            message["headers"] = out.raw
            return
    raw.extend(pairs)
    message["headers"] = raw


def _has_header(message: Message, name: bytes) -> bool:
    return name in [present for present, _ in message.get("headers", ())]  # (no generator)


def parse_flag(value: str | None) -> bool | None:
    """'true'/'false' (any case, trimmed) to a bool; anything else to None."""
    if value is None:
        return None
    return {"true": True, "false": False}.get(value.strip().lower())


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = debug_flag = demo_flag = None
        for name, value in scope["headers"]:  # one pass; the first of a repeated header counts
            if name == b"x-request-id":
                given = value.decode("latin-1") if given is None else given
            elif name == b"x-demo-mode":
                demo_flag = value.decode("latin-1") if demo_flag is None else demo_flag
            elif name == b"x-debug":
                debug_flag = value.decode("latin-1") if debug_flag is None else debug_flag
        request_id = given if given and _REQUEST_ID.fullmatch(given) else new_request_id()
        debug = parse_flag(debug_flag) is True
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["debug"] = debug
        state["started"] = started
        state["timings"] = {}
        api = scope["path"].startswith(_API_PREFIX)
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        response_started = False

        async def send_with_context(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                extra = [id_header]
                if api and not _has_header(message, b"cache-control"):
                    # An answer with Last-Modified is otherwise heuristically fresh to a browser,
                    # which then shows a tenant as it was before the last write; and an answer
                    # varies with X-Demo-Mode and the token. Revalidate every time.
                    extra.append(_NO_CACHE)
                if debug:
                    elapsed = (time.perf_counter() - started) * 1000
                    extra.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                add_raw_headers(message, extra)
            await send(message)

        demo = parse_flag(demo_flag)
        if api and demo is None:
            raw = demo_flag
            message = (
                "the X-Demo-Mode header is required (true or false)"
                if raw is None
                else f"X-Demo-Mode must be 'true' or 'false' (got {raw[:40]!r})"
            )
            response = error_response(
                400,
                "BAD_REQUEST",
                message,
                request_id,
                {"header": "X-Demo-Mode", "allowed": ["true", "false"]},
            )
            await response(scope, receive, send_with_context)
            return
        state["demo"] = bool(demo)

        try:
            await self.app(scope, receive, send_with_context)
        except ClientDisconnect:
            # The client went away mid-request: nobody to answer, nothing broken on our side.
            log.info("request %s: client disconnected", request_id)
        except Exception as exc:
            if response_started:
                raise
            await unexpected_error_response(exc, request_id)(scope, receive, send_with_context)

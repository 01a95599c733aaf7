"""Serving the app on uvicorn with limits a hostile client cannot outlast.

Input: the Starlette app, host, port, log level and Settings (the timeouts). Output: a running
uvicorn server whose connections must deliver their request headers within
`http_header_timeout` seconds (from connecting, or from the previous answer on a kept-alive
connection), whose bodies must keep arriving (`BodyTimeoutMiddleware`: a 408 otherwise), at most
MAX_CONNECTIONS at once (503 past it) and idle keep-alive connections closed after 5 s.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from compiler.errors import RequestTimeout
from compiler.settings import Settings

MAX_CONNECTIONS = 256
KEEP_ALIVE_SECONDS = 5


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers do not arrive in time
    (uvicorn's own keep-alive timer stops at the first byte, so a slow sender is held forever)."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        timer: asyncio.TimerHandle | None = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        self._header_timer = None

    def _headers_late(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # the headers are in: the body has its own timeout

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class BodyTimeoutMiddleware:
    """Pure ASGI: each body chunk must arrive within `timeout` seconds and the whole body within
    `timeout` seconds of the headers; otherwise the request is answered 408 (and the connection
    closed, since its body was not read to the end)."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.timeout
        complete = False

        async def timed_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            left = max(0.0, min(self.timeout, deadline - time.monotonic()))
            try:
                message = await asyncio.wait_for(receive(), left)
            except TimeoutError:
                raise RequestTimeout(
                    f"the request body did not arrive within {self.timeout:g} s",
                    details={"timeout_seconds": self.timeout},
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, timed_receive, send)


def serve(app: ASGIApp, settings: Settings, host: str, port: int, log_level: str) -> None:
    # The writer thread's Python work (spec edits, publish planning) would hold the GIL for up to
    # 5 ms at a time against the event loop; 1 ms keeps reads quick during writes.
    sys.setswitchinterval(0.001)
    protocol = type(
        "ConfiguredHeaderTimeoutProtocol",
        (HeaderTimeoutProtocol,),
        {"header_timeout": settings.http_header_timeout},
    )
    config = uvicorn.Config(
        BodyTimeoutMiddleware(app, settings.http_body_timeout),
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        http=protocol,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=MAX_CONNECTIONS,
    )
    uvicorn.Server(config).run()

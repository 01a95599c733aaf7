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


class _HeaderDeadline:
    """Closes a connection whose request headers do not arrive in time (uvicorn's own keep-alive
    timer stops at the first byte, so a slow sender is held forever). Mixed into uvicorn's
    protocols below, which provide loop, transport and cycle."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any

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


class HeaderTimeoutProtocol(_HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol (pure Python) with the header deadline: used where httptools is
    not installed."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

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


class OneWriteTransport:
    """The transport one response cycle writes through: a write is held until the next one or
    the end of the loop turn, so the status line and headers leave with the body in one send
    (one syscall, one TCP segment, one wake-up of the client) instead of two. A head whose body
    comes in a later turn (a stream) still leaves at the end of its own turn."""

    __slots__ = ("_loop", "_pending", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: bytes | None = None

    def write(self, data: bytes) -> None:
        pending = self._pending
        if pending is None:
            self._pending = data
            self._loop.call_soon(self.flush)
            return
        self._pending = None
        self.transport.write(pending + data)

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and not self.transport.is_closing():
            self.transport.write(pending)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def _httptools_protocol() -> type[asyncio.Protocol] | None:
    """uvicorn's httptools protocol (llhttp, in C) with the header deadline, or None when
    httptools is not installed. It parses a request in a few µs where h11 takes ~100 µs of
    Python: most of a cached read's cost on the server (bench/bench_api.py)."""
    try:
        import httptools
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return None

    class HttpToolsHeaderTimeoutProtocol(_HeaderDeadline, HttpToolsProtocol):
        """llhttp refuses some requests h11 answers (methods it does not know, such as BREW,
        get the app's 405 from h11 but a plain-text 400 from llhttp): a request llhttp cannot
        parse is handed, with its connection, to the h11 protocol, so every answer to a bad
        request stays the one h11 gives."""

        h11_protocol: type[H11Protocol] = H11Protocol
        # The chunks of the request being received while its headers are incomplete (None:
        # past them, or its start is not known apart from the request before it).
        _head: list[bytes] | None = None
        _between = True  # the last request is complete: the next chunk starts a new one

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            self._unset_keepalive_if_required()  # as uvicorn's: a request stops the idle timer
            if self._between:
                self._head = [data]
            elif self._head is not None:
                self._head.append(data)
            self._between = False
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
            except httptools.HttpParserError:
                busy = self.cycle is not None and not self.cycle.response_complete
                if self._head is None or busy:
                    self.send_400_response("Invalid HTTP request received.")
                else:
                    self._hand_to_h11(b"".join(self._head))

        def _hand_to_h11(self, received: bytes) -> None:
            self._disarm()
            self._unset_keepalive_if_required()
            self.connections.discard(self)
            h11 = self.h11_protocol(
                config=self.config, server_state=self.server_state, app_state=self.app_state
            )
            h11.connection_made(self.transport)
            self.transport.set_protocol(h11)
            h11.data_received(received)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._between = True

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._between:  # it began inside the chunk that ended the one before it
                self._head = None
            self._between = False

        def on_headers_complete(self) -> None:
            before = self.cycle
            super().on_headers_complete()
            self._head = None
            self._disarm()  # the headers are in: the body has its own timeout
            if self.cycle is not None and self.cycle is not before:  # (none for an upgrade)
                self.cycle.transport = OneWriteTransport(self.transport, self.loop)

        def handle_websocket_upgrade(self) -> None:
            self._disarm()
            super().handle_websocket_upgrade()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HttpToolsHeaderTimeoutProtocol


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


def http_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """The HTTP protocol `serve` runs: httptools' with the h11 hand-over when installed, else
    h11's; both with the header deadline from settings."""
    timeout = {"header_timeout": settings.http_header_timeout}
    slow = type("ConfiguredHeaderTimeoutProtocol", (HeaderTimeoutProtocol,), timeout)
    fast = _httptools_protocol()
    if fast is None:
        return slow
    return type(fast.__name__, (fast,), {**timeout, "h11_protocol": slow})


def serve(app: ASGIApp, settings: Settings, host: str, port: int, log_level: str) -> None:
    # The writer thread's Python work (spec edits, publish planning) would hold the GIL for up to
    # 5 ms at a time against the event loop; 1 ms keeps reads quick during writes.
    sys.setswitchinterval(0.001)
    protocol = http_protocol(settings)
    config = uvicorn.Config(
        BodyTimeoutMiddleware(app, settings.http_body_timeout),
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        http=protocol,
        # asyncio's loop, not uvloop even when installed: under uvloop, 200 concurrent
        # read-modify-write clients (test_api_consistency) met uvicorn's connection limit (503).
        loop="asyncio",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # uvicorn builds each access-log line's arguments (the quoted path among them) before
        # the logger drops it: below info nobody reads them, so they are not built.
        access_log=log_level in ("info", "debug", "trace"),
        limit_concurrency=MAX_CONNECTIONS,
    )
    uvicorn.Server(config).run()

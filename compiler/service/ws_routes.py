"""The reference's three WebSocket streams: live metrics, deployment progress, alerts.

/ws/monitoring/{tenant_id}   client sends {action: "subscribe", metrics: [...], interval: ms};
                             the server pushes {timestamp, tenant_id, metrics} as soon as a
                             sample is stored, and at that interval besides.
/ws/deployment/{id}          {deployment_id, status, progress, phase, message} until it ends,
                             then a normal close (1000).
/ws/alerts/{tenant_id}       every new alert as it fires.
Demo sandbox: `?demo=true` (browsers cannot set X-Demo-Mode on a WebSocket) or the header.
Any bad input gets one error frame in the reference's error body, then a close with code
4000 + the HTTP status (4400, 4404, 4422, 4503); a client too slow for its alerts is closed 1013.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from compiler.access.roles import Action, Principal
from compiler.errors import (
    DeploymentNotFound,
    MonitoringUnavailable,
    OrchestratorError,
    TenantNotFound,
    UsageError,
    ValidationFailed,
)
from compiler.monitoring import MonitoringService, MonitoringSpace
from compiler.monitoring.broadcast import Overflowed, Subscription
from compiler.monitoring.deployments import (
    Resolver,
    check_deployment_id,
    is_terminal,
    topic_for,
)
from compiler.monitoring.space import BY_SHORT
from compiler.publishing import find_deployment
from compiler.service.bodies import parse_json
from compiler.service.deployments import cluster_source, observed_status, simulated_status
from compiler.service.error_responses import error_body
from compiler.service.guard import principal_of, spec_text_of
from compiler.service.middleware import new_request_id, parse_flag
from compiler.service.monitoring_routes import monitoring_service
from compiler.service.state import AppState

CLOSE_NORMAL = 1000
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455 registry: the server is overloaded (a slow consumer)
MIN_INTERVAL_MS = 250  # below this a browser tab is not watching, it is polling a database
MAX_INTERVAL_MS = 3_600_000
DEFAULT_INTERVAL_MS = 5000  # the reference's example
POLL_S = 2.0  # how often a running deployment's resolver, or a demo tenant's generator, is run
MAX_FRAME_CHARS = 4096  # client messages are small JSON commands
_CLOSED = object()


@dataclass(frozen=True)
class Subscribe:
    metrics: tuple[str, ...]
    interval_s: float


def _request_id(ws: WebSocket) -> str:
    given = ws.headers.get("x-request-id", "")
    return given if given.isascii() and given.isalnum() and len(given) <= 64 else new_request_id()


def _demo(ws: WebSocket) -> bool:
    raw = ws.query_params.get("demo") or ws.headers.get("x-demo-mode") or "false"
    flag = parse_flag(raw)
    if flag is None:
        raise ValidationFailed(
            "demo must be 'true' or 'false'", details={"field": "query.demo", "value": raw[:40]}
        )
    return flag


def parse_command(frame: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """A client frame as a JSON object whose `action` is one of `allowed`."""
    if not isinstance(frame, str) or len(frame) > MAX_FRAME_CHARS:
        raise UsageError(
            f"messages must be JSON text frames of at most {MAX_FRAME_CHARS} characters",
            details={"field": "message"},
        )
    message = parse_json(frame, "message")
    if not isinstance(message, dict) or message.get("action") not in allowed:
        raise ValidationFailed(
            f"message must be an object with action one of {', '.join(allowed)}",
            details={"field": "action", "allowed": list(allowed)},
        )
    return message


def parse_subscribe(message: dict[str, Any]) -> Subscribe:
    unknown = sorted(set(message) - {"action", "metrics", "interval"})
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: unknown field", details={"field": unknown[0]})
    names = message.get("metrics", ["cpu", "memory", "gpu"])
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValidationFailed(
            "metrics must be a non-empty list of names", details={"field": "metrics"}
        )
    shorts: list[str] = []
    for name in names:
        expanded = ["network_in", "network_out"] if name == "network" else [name]
        for short in expanded:
            if short not in BY_SHORT:
                raise ValidationFailed(
                    f"metrics: unknown metric {name[:40]!r}",
                    details={"field": "metrics", "allowed": [*BY_SHORT, "network"]},
                )
            if short not in shorts:
                shorts.append(short)
    interval = message.get("interval", DEFAULT_INTERVAL_MS)
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int | float)
        or not MIN_INTERVAL_MS <= interval <= MAX_INTERVAL_MS
    ):
        raise ValidationFailed(
            f"interval must be milliseconds from {MIN_INTERVAL_MS} to {MAX_INTERVAL_MS}",
            details={"field": "interval"},
        )
    return Subscribe(tuple(shorts), interval / 1000)


async def _read_frames(ws: WebSocket, inbox: asyncio.Queue[object]) -> None:
    """Client frames into `inbox` (bounded: a flooding client waits), then _CLOSED."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            await inbox.put(text if text is not None else message.get("bytes"))
    finally:
        await inbox.put(_CLOSED)


async def _fail(ws: WebSocket, exc: OrchestratorError, request_id: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        if ws.client_state == WebSocketState.CONNECTED:
            await ws.send_json(error_body(exc.code, exc.message, request_id, exc.details))
            await ws.close(code=4000 + exc.http_status, reason=exc.code)


Owner = Callable[[str], tuple[bool, str] | None]  # deployment id -> (demo, tenant)


class Streams:
    def __init__(self, service: MonitoringService, owner: Owner, state: AppState) -> None:
        self.service = service
        self.owner = owner
        self.state = state

    async def _check_watcher(self, ws: WebSocket, deployment_id: str) -> None:
        """A deployment exists for a caller only in its own sandbox and scope: a demo caller
        never follows a real deployment, a scoped one only its tenants' (else: not found)."""
        principal = principal_of(ws)
        where = await run_in_threadpool(self.owner, deployment_id)
        if where is None:
            allowed = not _demo(ws) and principal.sees_all()  # reported, not in a deploy repo
        elif where[0]:
            allowed = True  # the demo sandbox holds nothing real
        else:
            allowed = not _demo(ws) and await run_in_threadpool(
                _may_read, self.state, principal, where[1]
            )
        if not allowed:
            raise DeploymentNotFound(
                f"deployment {deployment_id} is not known", details={"deployment_id": deployment_id}
            )

    async def _run(
        self, ws: WebSocket, body: Callable[[str, asyncio.Queue[object]], Awaitable[None]]
    ) -> None:
        """Accept, run `body` with the client's frames, turn errors into an error frame + close."""
        request_id = _request_id(ws)
        await ws.accept()
        inbox: asyncio.Queue[object] = asyncio.Queue(maxsize=16)
        reader = asyncio.create_task(_read_frames(ws, inbox))
        try:
            await body(request_id, inbox)
        except OrchestratorError as exc:
            await _fail(ws, exc, request_id)
        except (WebSocketDisconnect, OSError):
            pass  # the client went away; there is no one left to tell
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await reader

    async def _tenant(self, ws: WebSocket) -> tuple[MonitoringSpace, str]:
        space = await run_in_threadpool(self.service.space, _demo(ws))
        tenant = await run_in_threadpool(space.require_tenant, ws.path_params["tenant_id"])
        return space, tenant

    async def monitoring(self, ws: WebSocket) -> None:
        async def body(request_id: str, inbox: asyncio.Queue[object]) -> None:
            space, tenant = await self._tenant(ws)
            # Pushed when a sample is stored (the hub wakes us), and at the interval besides:
            # the interval is the fallback for samples that reach the store another way.
            wakeups = space.hub.subscribe(space.samples_topic(tenant), coalesce=True)
            try:
                await self._monitor(ws, inbox, space, tenant, wakeups)
            finally:
                wakeups.close()

        await self._run(ws, body)

    async def _monitor(
        self,
        ws: WebSocket,
        inbox: asyncio.Queue[object],
        space: MonitoringSpace,
        tenant: str,
        wakeups: Subscription,
    ) -> None:
        loop = asyncio.get_running_loop()
        subscription: Subscribe | None = None
        due = 0.0
        frame_task: asyncio.Task[object] = asyncio.create_task(inbox.get())
        wake_task: asyncio.Task[dict[str, Any]] = asyncio.create_task(wakeups.get())
        try:
            while True:
                timeout = None if subscription is None else max(0.0, due - loop.time())
                done, _ = await asyncio.wait(
                    {frame_task, wake_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                woken = wake_task in done
                if woken:
                    wake_task = asyncio.create_task(wakeups.get())
                if subscription is not None and (woken or not done):  # a sample, or the interval
                    update = await run_in_threadpool(space.latest, tenant, subscription.metrics)
                    await ws.send_json(update)
                    # A slow send does not build a backlog: the next interval push is one
                    # interval after this push (after the due time, for an interval push).
                    base = loop.time() if woken else due
                    due = max(base + subscription.interval_s, loop.time())
                if frame_task not in done:
                    continue
                frame = frame_task.result()
                if frame is _CLOSED:
                    return
                frame_task = asyncio.create_task(inbox.get())
                command = parse_command(frame, ("subscribe", "unsubscribe", "ping"))
                if command["action"] == "subscribe":
                    subscription, due = parse_subscribe(command), loop.time()
                elif command["action"] == "unsubscribe":
                    subscription = None
                    await ws.send_json({"action": "unsubscribed", "tenant_id": tenant})
                else:
                    await ws.send_json({"action": "pong"})
        finally:
            frame_task.cancel()
            wake_task.cancel()

    async def _relay(
        self,
        ws: WebSocket,
        inbox: asyncio.Queue[object],
        subscription: Subscription,
        poll: Callable[[], Awaitable[dict[str, Any] | None]] | None = None,
    ) -> None:
        """Forward hub events; answer pings; stop on close, a terminal event or an overflow."""
        frame_task: asyncio.Task[object] = asyncio.create_task(inbox.get())
        event_task: asyncio.Task[dict[str, Any]] = asyncio.create_task(subscription.get())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {frame_task, event_task},
                    timeout=POLL_S if poll else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                events: list[dict[str, Any]] = []
                if frame_task in done:
                    frame = frame_task.result()
                    if frame is _CLOSED:
                        return
                    parse_command(frame, ("ping",))
                    await ws.send_json({"action": "pong"})
                    frame_task = asyncio.create_task(inbox.get())
                if event_task in done:
                    try:
                        events.append(event_task.result())
                    except Overflowed as exc:
                        raise _SlowConsumer(exc.dropped) from exc
                    event_task = asyncio.create_task(subscription.get())
                if not done and poll is not None:
                    polled = await poll()
                    events.extend([polled] if polled is not None else [])
                for event in events:
                    await ws.send_json(event)
                    if is_terminal(event):
                        await ws.close(code=CLOSE_NORMAL)
                        return
        finally:
            frame_task.cancel()
            event_task.cancel()
            subscription.close()

    async def alerts(self, ws: WebSocket) -> None:
        async def body(request_id: str, inbox: asyncio.Queue[object]) -> None:
            space, tenant = await self._tenant(ws)
            poll: Callable[[], Awaitable[dict[str, Any] | None]] | None = None
            if space.demo:
                # Demo data is generated when asked for: catch up before subscribing (spikes of
                # the past day are history, not news), then keep generating while watched.
                await run_in_threadpool(space.fill_demo, tenant)

                async def poll() -> dict[str, Any] | None:
                    await run_in_threadpool(space.fill_demo, tenant)
                    return None  # its alerts arrive through the hub like any other

            subscription = space.hub.subscribe(space.alerts_topic(tenant))
            try:
                await self._relay(ws, inbox, subscription, poll)
            except _SlowConsumer as exc:
                await _close_slow(ws, exc.dropped, request_id, f"/api/v1/tenants/{tenant}/alerts")

        await self._run(ws, body)

    async def deployment(self, ws: WebSocket) -> None:
        async def body(request_id: str, inbox: asyncio.Queue[object]) -> None:
            deployment_id = check_deployment_id(ws.path_params["deployment_id"])
            await self._check_watcher(ws, deployment_id)
            feed = self.service.deployments
            # Subscribe before reading the latest state, so no update falls in between.
            subscription = self.service.hub.subscribe(topic_for(deployment_id))
            last = await run_in_threadpool(feed.latest, deployment_id)
            if last is None:
                subscription.close()
                raise DeploymentNotFound(
                    f"deployment {deployment_id} is not known",
                    details={"deployment_id": deployment_id},
                )
            await ws.send_json(last)
            if is_terminal(last):
                subscription.close()
                await ws.close(code=CLOSE_NORMAL)
                return

            async def poll() -> dict[str, Any] | None:
                nonlocal last
                current = await run_in_threadpool(feed.latest, deployment_id)
                if current is None or current == last:
                    return None
                last = current
                return current

            # With a cluster, updates come from its watches through the hub: no polling. The
            # follower blocks on watches, so it gets a thread of its own, not a pool's.
            stop = threading.Event()
            live = feed.live_source is not None
            if live:
                name = f"follow-{deployment_id}"
                args = (deployment_id, stop)
                threading.Thread(target=feed.follow, args=args, daemon=True, name=name).start()
            try:
                await self._relay(ws, inbox, subscription, None if live else poll)
            except _SlowConsumer as exc:
                await _close_slow(ws, exc.dropped, request_id, f"/ws/deployment/{deployment_id}")
            finally:
                stop.set()

        await self._run(ws, body)


class _SlowConsumer(Exception):
    def __init__(self, dropped: int) -> None:
        super().__init__(dropped)
        self.dropped = dropped


async def _close_slow(ws: WebSocket, dropped: int, request_id: str, where: str) -> None:
    exc = MonitoringUnavailable(
        f"this connection fell behind and missed {dropped} messages; reconnect and read {where}",
        details={"dropped": dropped, "recover_from": where},
    )
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await ws.send_json(error_body(exc.code, exc.message, request_id, exc.details))
        await ws.close(code=CLOSE_TRY_AGAIN_LATER, reason="slow consumer")


def _may_read(state: AppState, principal: Principal, tenant_id: str) -> bool:
    try:
        state.access.authorize(principal, Action.READ, tenant_id, spec_text_of(state.real))
    except OrchestratorError:
        return False
    return True


def deployment_owner(state: AppState) -> Owner:
    """Which sandbox and tenant a published deployment belongs to (its deploy repo's record)."""
    found: dict[str, tuple[bool, str]] = {}  # deployment id -> (demo, tenant); records never change

    def locate(deployment_id: str) -> tuple[bool, str] | None:
        if deployment_id in found:
            return found[deployment_id]
        for demo in (False, True):
            try:
                record = find_deployment(state.workspace(demo).settings, deployment_id)
            except OrchestratorError:
                record = None  # no deploy repo yet: nothing was published there
            if record is not None and record.tenants:
                found[deployment_id] = (demo, record.tenants[0].tenant_id)
                return found[deployment_id]
        return None

    return locate


def deployment_resolver(state: AppState, locate: Owner) -> Resolver:
    """Deployments the API published: the deploy repo's record names the tenant; its status is
    what GET .../deployment-status answers (observed in real mode, simulated in demo mode)."""

    def resolve(deployment_id: str) -> dict[str, Any] | None:
        where = locate(deployment_id)
        if where is None:
            return None
        demo, tenant = where
        workspace = state.workspace(demo)
        try:
            status = (simulated_status if demo else observed_status)(workspace, tenant)
        except TenantNotFound:
            return {
                "status": "deleted",
                "progress": 100,
                "phase": "removed",
                "message": f"tenant {tenant} no longer exists",
            }
        if status.deployment_id != deployment_id:
            return {
                "status": "superseded",
                "progress": status.progress,
                "phase": status.phase,
                "message": f"superseded by {status.deployment_id}",
            }
        message = status.logs[-1].message if status.logs else status.source
        return {
            "status": status.status,
            "progress": status.progress,
            "phase": status.phase,
            "message": message,
        }

    return resolve


def routes(state: AppState) -> list[BaseRoute]:
    service = monitoring_service(state)
    owner = deployment_owner(state)
    service.deployments.resolver = deployment_resolver(state, owner)
    service.deployments.live_source = cluster_source(state)
    streams = Streams(service, owner, state)
    return [
        WebSocketRoute("/ws/monitoring/{tenant_id}", streams.monitoring),
        WebSocketRoute("/ws/deployment/{deployment_id}", streams.deployment),
        WebSocketRoute("/ws/alerts/{tenant_id}", streams.alerts),
    ]

"""The app factory: create_app(settings) -> Starlette, with every route and the one error mapper.

Mounts the tenant and manifest routes, /openapi.json and /docs, /health, and the monitoring
engineer's route modules when they are present (each exposes `routes(state) -> list[BaseRoute]`
and may add startup/shutdown hooks to the AppState), and the static dashboard at /dashboard/.
No request logic here.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from compiler import __version__
from compiler.service import (
    audit_routes,
    auth_config_routes,
    change_routes,
    manifest_routes,
    readiness,
    tenant_routes,
)
from compiler.service.access_middleware import AccessMiddleware
from compiler.service.error_responses import EXCEPTION_HANDLERS
from compiler.service.guard import guard_routes
from compiler.service.metrics_routes import RequestMetricsMiddleware
from compiler.service.middleware import RequestContextMiddleware
from compiler.service.monitoring_docs import MONITORING_DOCS
from compiler.service.openapi import openapi_routes
from compiler.service.state import AppState
from compiler.settings import Settings

# Route modules owned by the monitoring work; mounted when they exist, so the API runs either way.
OPTIONAL_ROUTE_MODULES = (
    "compiler.service.monitoring_routes",
    "compiler.service.ws_routes",
    "compiler.service.metrics_routes",
)


def _optional_routes(state: AppState) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name in OPTIONAL_ROUTE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise  # the module exists but something it imports does not: a real bug
            continue
        factory: Callable[[AppState], list[BaseRoute]] = module.routes
        routes.extend(factory(state))
    return routes


async def _health(request: Request) -> Response:
    """Liveness: the process serves HTTP (no X-Demo-Mode needed; readiness is /ready)."""
    return JSONResponse({"status": "ok", "version": __version__})


async def _root(request: Request) -> Response:
    """Redirects to the dashboard (the API docs stay at /docs)."""
    return RedirectResponse("/dashboard/")


# The dashboard's static ES modules; its node_modules (uPlot, the JS SDK as a symlink into
# sdk/js) come from `npm ci` in dashboard/, hence follow_symlink.
DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "dashboard"


def create_app(
    settings: Settings,
    *,
    extra_routes: list[BaseRoute] | None = None,
    freeze_heap: bool = False,
) -> Starlette:
    """`freeze_heap` (gc.freeze after start-up) is for a process that serves this one app
    (`ecp serve`): frozen objects are never collected, so tests that build many apps leave it
    off."""
    state = AppState.from_settings(settings)

    async def recover_writes() -> None:
        # Before serving: an interrupted batch is completed or rolled back (writer.py, again
        # before every batch).
        for ws in (state.real, state.demo):
            await anyio.to_thread.run_sync(ws.writer.recover)
        state.real.writer.warm()
        if freeze_heap:
            # The start-up state (modules, catalogue, index, the writer's warm-up) is never
            # traversed by a collection again: unfrozen, full collections held the event loop
            # for 100-300 ms each on 1,000 tenants as parsed manifests piled up (bench/).
            gc.freeze()

    async def stop_writers() -> None:
        for ws in (state.real, state.demo):
            await anyio.to_thread.run_sync(ws.writer.stop)

    state.startup.insert(0, recover_writes)
    state.shutdown.insert(0, stop_writers)
    routes: list[BaseRoute] = [
        *tenant_routes.routes(),
        *manifest_routes.routes(),
        *_optional_routes(state),
        *readiness.routes(state),
        *audit_routes.routes(),
        *change_routes.routes(),
        *auth_config_routes.routes(),
        *(extra_routes or []),
        Route("/health", _health, methods=["GET"]),
        Route("/", _root, methods=["GET"], include_in_schema=False),
        Mount(
            "/dashboard",
            StaticFiles(directory=DASHBOARD_DIR, html=True, check_dir=False, follow_symlink=True),
        ),
    ]
    routes.extend(openapi_routes(lambda: routes, MONITORING_DOCS))
    guard_routes(routes)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        for hook in state.startup:
            await hook()
        try:
            yield {}
        finally:
            for hook in reversed(state.shutdown):
                await hook()
            state.access.audit.close()

    app = Starlette(
        routes=routes,
        # Request metrics sit inside the request context, so they see the final status code;
        # access control sits between them, so refusals are counted too.
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(AccessMiddleware),
            Middleware(RequestMetricsMiddleware),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=lifespan,
    )
    app.state.ecp = state
    return app

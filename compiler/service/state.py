"""The app's state: settings, one Workspace per sandbox (real, demo), and lifespan hooks.

Held by the Starlette app (app.state.ecp), never at module level. Other route modules (monitoring,
WebSocket, metrics) receive this object and may register startup/shutdown hooks on it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from compiler.access.control import AccessControl
from compiler.cluster import ClusterReader, open_cluster
from compiler.service.answer_cache import AnswerCache
from compiler.service.ledger import DeploymentLedger
from compiler.service.read_model import TenantReadModel
from compiler.service.workspace_git import SpecDates
from compiler.service.writer import WriteQueue
from compiler.settings import Settings
from compiler.validating.validate import ManifestValidator

Hook = Callable[[], Awaitable[None]]


@dataclass
class Workspace:
    """One sandbox: its settings, its read model, its deployment ledger and its one writer.

    `in_flight` names the tenants with a write queued or running (compile + publish);
    `failed` those whose spec was accepted but whose last publish failed.
    """

    settings: Settings
    read: TenantReadModel
    ledger: DeploymentLedger
    in_flight: set[str] = field(default_factory=set)
    deleting: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # tenant -> last publish error
    # Real-mode list and detail answers, serialised, with the data version they were built
    # from (tenant_views.list_answer, tenant_routes.get_tenant).
    answers: AnswerCache = field(default_factory=AnswerCache)
    # The cluster's tenant statuses, refreshed every few seconds (cluster_status.list_status).
    list_cache: dict[Any, tuple[Any, Any]] = field(default_factory=dict)
    # The configured cluster (real mode only): deployment and tenant status read it when set.
    cluster: ClusterReader | None = None
    writer: WriteQueue = field(init=False)

    def __post_init__(self) -> None:
        self.writer = WriteQueue(self)

    def dates(self, tenant_id: str) -> SpecDates | None:
        """created_at / updated_at from git history: the spec's commits in the workspace repo,
        else (demo sandbox, a workspace outside git) the tenant's publishes in the deploy repo."""
        if self.read.is_git():
            return self.read.dates(tenant_id)
        return self.ledger.dates(tenant_id)

    @classmethod
    def of(cls, settings: Settings) -> Workspace:
        return cls(
            settings=settings,
            read=TenantReadModel(settings),
            ledger=DeploymentLedger(settings),
            cluster=None if settings.demo else open_cluster(settings.cluster),
        )


@dataclass
class AppState:
    settings: Settings
    real: Workspace
    demo: Workspace
    access: AccessControl
    startup: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)
    _validator: ManifestValidator | None = None
    _validator_lock: threading.Lock = field(default_factory=threading.Lock)

    def validator(self) -> ManifestValidator:
        """One validator for the app's life: it compiles each kind's schema once, then reuses it."""
        with self._validator_lock:
            if self._validator is None:
                self._validator = ManifestValidator(self.settings.kubernetes_version)
            return self._validator

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        real = Workspace.of(settings)
        return cls(
            settings=settings,
            real=real,
            demo=Workspace.of(settings.demo_view()),
            access=AccessControl(settings, lambda: real.read.catalogue().image_registry),
        )

    def workspace(self, demo: bool) -> Workspace:
        return self.demo if demo else self.real


def app_state(request: Request) -> AppState:
    state = request.app.state.ecp
    assert isinstance(state, AppState)  # set by create_app
    return state


def workspace_for(request: Request) -> Workspace:
    """The sandbox the request's X-Demo-Mode selects (checked by the middleware)."""
    return app_state(request).workspace(is_demo(request))


def is_demo(request: Request) -> bool:
    # The scope's state dict itself: `request.state` builds a State object per request.
    return bool(request.scope.get("state", {}).get("demo", False))

"""GET /ready: readiness, as a load balancer or Kubernetes probe reads it (/health is liveness).

Input: the AppState (the real workspace, its writer and journal, the monitoring store). Output:
200 {"status": "ready", "checks": {...}} when every check passes, else 503 "degraded" naming the
failing ones: the metrics store cannot read or write, the deploy repo is missing its git folder or
is mid-merge/rebase, the last publish failed, or an interrupted write awaits recovery. Read-only.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from compiler.errors import OrchestratorError
from compiler.service.monitoring_routes import monitoring_service
from compiler.service.state import AppState, Workspace

_IN_PROGRESS = ("rebase-merge", "rebase-apply", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD")


def _deploy_repo(ws: Workspace) -> str:
    repo = ws.settings.deploy_repo_path
    if repo is None:
        return "ok (remote)"
    if not repo.exists():
        return "ok (created on the first publish)"
    git_dir = repo / ".git"
    if not git_dir.is_dir():
        return "degraded: the deploy repo is not a git repository"
    busy = [name for name in _IN_PROGRESS if (git_dir / name).exists()]
    if busy:
        return f"degraded: the deploy repo is in the middle of {busy[0]}"
    if ws.failed:
        return f"degraded: the last publish failed for {len(ws.failed)} tenant(s)"
    return "ok"


def _writes(ws: Workspace) -> str:
    try:
        pending = ws.writer.journal.pending()
    except OrchestratorError as exc:
        return f"degraded: {exc.message}"
    return "ok" if pending is None else "degraded: an interrupted write awaits recovery"


def _store(state: AppState) -> str:
    try:
        monitoring_service(state).space(False).store.check()
    except OrchestratorError as exc:
        return f"degraded: {exc.message}"
    return "ok"


def routes(state: AppState) -> list[BaseRoute]:
    async def ready(request: Request) -> Response:
        """Readiness: 200 when the store, the deploy repo and the write path all work."""
        checks = {
            "store": await run_in_threadpool(_store, state),
            "deploy_repo": _deploy_repo(state.real),
            "writes": _writes(state.real),
        }
        healthy = all(value.startswith("ok") for value in checks.values())
        return JSONResponse(
            {"status": "ready" if healthy else "degraded", "checks": checks},
            status_code=200 if healthy else 503,
        )

    return [Route("/ready", ready, methods=["GET"])]

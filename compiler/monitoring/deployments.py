"""Deployment progress for the /ws/deployment stream: the latest update per deployment.

Input: updates {deployment_id, status, progress, phase, message} reported by whoever drives a
deployment: the cluster follower (live_source, from watches) is the production caller. Output:
the latest update (kept in the store, so it survives a restart) and a hub event per update.
No I/O of its own.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from compiler.errors import ValidationFailed
from compiler.monitoring.broadcast import Hub
from compiler.monitoring.store import MetricsStore

# Statuses after which nothing more will happen to a deployment: the stream ends with them.
TERMINAL_STATUSES = frozenset(
    {
        "completed",
        "deployed",
        "running",
        "succeeded",
        "failed",
        "cancelled",
        "superseded",
        "deleted",
    }
)
DEPLOYMENT_ID = re.compile(r"[a-z0-9]([-a-z0-9]{0,62}[a-z0-9])?")
_TEXT_FIELDS = {"status": 40, "phase": 80, "message": 500}


def topic_for(deployment_id: str) -> str:
    return f"deployment:{deployment_id}"


def check_deployment_id(value: object) -> str:
    if not isinstance(value, str) or not DEPLOYMENT_ID.fullmatch(value):
        raise ValidationFailed(
            "deployment_id must be lowercase letters, digits and '-', like 'dep-abc123'",
            details={"field": "deployment_id", "value": str(value)[:100]},
        )
    return value


def normalise_update(update: Mapping[str, Any]) -> dict[str, Any]:
    """The reference's update shape, checked: every field present and sane."""
    out: dict[str, Any] = {"deployment_id": check_deployment_id(update.get("deployment_id"))}
    for name, limit in _TEXT_FIELDS.items():
        value = update.get(name, "")
        if not isinstance(value, str) or len(value) > limit or (name == "status" and not value):
            raise ValidationFailed(
                f"{name} must be a string of at most {limit} characters",
                details={"field": name},
            )
        out[name] = value
    progress = update.get("progress", 0)
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValidationFailed("progress must be an integer 0-100", details={"field": "progress"})
    out["progress"] = progress
    return {k: out[k] for k in ("deployment_id", "status", "progress", "phase", "message")}


def is_terminal(update: Mapping[str, Any]) -> bool:
    return update.get("status") in TERMINAL_STATUSES


Resolver = Callable[[str], Mapping[str, Any] | None]
# Follows one deployment from a live source (cluster watches), reporting each update, until the
# rollout ends or the event is set.
LiveSource = Callable[[str, Callable[[dict[str, Any]], object], threading.Event], None]


class DeploymentFeed:
    """`resolver` (optional) answers for deployments nobody reported here, e.g. from the deploy
    repo's records; the WebSocket polls it while a deployment is still running. `live_source`
    (optional, a configured cluster) pushes updates through report() instead, from watches."""

    def __init__(self, store: Callable[[], MetricsStore], hub: Hub, clock: Callable[[], float]):
        self._store = store
        self._hub = hub
        self._clock = clock
        self.resolver: Resolver | None = None
        self.live_source: LiveSource | None = None

    def follow(self, deployment_id: str, stop: threading.Event) -> None:
        """Blocking: stream the live source's updates into report() (store + hub)."""
        if self.live_source is not None:
            self.live_source(deployment_id, self.report, stop)

    def report(self, update: Mapping[str, Any]) -> dict[str, Any]:
        body = normalise_update(update)
        self._store().save_deployment(
            body["deployment_id"], int(self._clock() * 1000), json.dumps(body, ensure_ascii=False)
        )
        self._hub.publish(topic_for(body["deployment_id"]), body)
        return body

    def latest(self, deployment_id: str) -> dict[str, Any] | None:
        stored = self._store().deployment(deployment_id)
        if stored is not None:
            return dict(json.loads(stored))
        if self.resolver is not None:
            resolved = self.resolver(deployment_id)
            if resolved is not None:
                return normalise_update({"deployment_id": deployment_id, **resolved})
        return None

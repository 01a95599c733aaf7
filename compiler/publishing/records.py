"""Deployment records: what a publish commit says about the tenants it changed.

A record lives in its commit's message as git trailers (`Ecp-Tenant: <id> <action> key=value ...`),
so the deploy repo itself is the record; the deployment ID is "dep-" + the commit's short SHA.
Input: tenant changes (to write a message) or a commit message (to read one back). No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["added", "changed", "removed"]
ACTIONS: tuple[Action, ...] = ("added", "changed", "removed")
_ACTION_BY_NAME: dict[str, Action] = {action: action for action in ACTIONS}
DEPLOYMENT_PREFIX = "dep-"
# 12 hex digits stay unambiguous in repos far larger than a deploy repo gets.
SHORT_SHA = 12
TENANT_TRAILER = "Ecp-Tenant"
REQUEST_TRAILER = "Ecp-Request-Id"
PRINCIPAL_TRAILER = "Ecp-Principal"
# A commit message lists this many tenants for people; the trailers always list every one.
READABLE_LINES = 50
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_DEPLOYMENT_ID = re.compile(r"dep-([0-9a-f]{4,40})")


class CommitAuthor(BaseModel):
    """Who asked for a write: the git author of its commits (the committer stays the
    orchestrator) and its `Ecp-Principal:` trailer. Values are newline-free (checked)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[^\n\r<>]{1,200}$")
    email: str = Field(pattern=r"^[^\s<>]{1,200}$")
    principal: str = Field(pattern=r"^[^\s]{1,200}$")


class TenantTotals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    cpu: str
    memory: str
    gpu: int
    monthly_cost_usd: float

    def readable(self) -> str:
        return (
            f"cpu {self.cpu}, memory {self.memory}, gpu {self.gpu}, "
            f"${self.monthly_cost_usd:,.2f}/month"
        )


class TenantChange(BaseModel):
    """One tenant in one publish; `totals` is None for a removed tenant."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tenant_id: str
    action: Action
    totals: TenantTotals | None = None


class DeploymentRecord(BaseModel):
    """A publish commit that changed tenants. `timestamp` is the commit time, ISO-8601 UTC (Z)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    deployment_id: str
    commit: str
    timestamp: str
    tenants: tuple[TenantChange, ...]
    request_id: str | None = None
    principal: str | None = None
    subject: str = ""

    def change_for(self, tenant_id: str) -> TenantChange | None:
        return next((c for c in self.tenants if c.tenant_id == tenant_id), None)


def deployment_id_for(commit_sha: str) -> str:
    return f"{DEPLOYMENT_PREFIX}{commit_sha[:SHORT_SHA]}"


def commit_prefix_of(deployment_id: str) -> str | None:
    """The commit SHA prefix inside a deployment ID, or None when it is not one of ours."""
    match = _DEPLOYMENT_ID.fullmatch(deployment_id)
    return match.group(1) if match else None


def safe_request_id(request_id: str | None) -> str | None:
    """A request ID fit for a trailer line; anything else (newlines, spaces) is dropped."""
    if request_id and _REQUEST_ID.fullmatch(request_id):
        return request_id
    return None


def commit_message(
    changes: Sequence[TenantChange],
    *,
    previous: dict[str, TenantTotals],
    request_id: str | None = None,
    author: CommitAuthor | None = None,
    trailers: Sequence[tuple[str, str]] = (),
) -> str:
    """Subject, readable lines with totals (and old totals when known), then the trailers
    (`trailers`: more of them, such as one Ecp-Principal and Ecp-Request-Id per API write)."""
    lines = [_subject(changes), ""]
    for change in changes[:READABLE_LINES]:
        lines.append(_readable_line(change, previous.get(change.tenant_id)))
    if len(changes) > READABLE_LINES:
        lines.append(f"... and {len(changes) - READABLE_LINES} more (see the trailers)")
    lines.append("")
    lines.extend(f"{TENANT_TRAILER}: {_trailer_value(change)}" for change in changes)
    # A batch names each write's principal in `trailers`; then the author adds none of its own.
    if author is not None and not any(key == PRINCIPAL_TRAILER for key, _ in trailers):
        lines.append(f"{PRINCIPAL_TRAILER}: {author.principal}")
    rid = safe_request_id(request_id)
    if rid:
        lines.append(f"{REQUEST_TRAILER}: {rid}")
    lines.extend(f"{key}: {_one_line(value)}" for key, value in trailers)
    return "\n".join(lines) + "\n"


def _one_line(value: str) -> str:
    """A trailer value never breaks the trailer block (no newlines, bounded)."""
    return " ".join(value.split())[:200]


def parse_record(commit_sha: str, committed_at: int, message: str) -> DeploymentRecord | None:
    """Read a record back from a commit; None for commits that changed no tenant."""
    tenants: list[TenantChange] = []
    request_id = principal = None
    for line in message.splitlines():
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        if key == TENANT_TRAILER:
            change = _parse_tenant_trailer(value)
            if change is not None:
                tenants.append(change)
        elif key == REQUEST_TRAILER:
            request_id = safe_request_id(value.strip())
        elif key == PRINCIPAL_TRAILER:
            principal = value.strip()[:200] or None
    if not tenants:
        return None
    stamp = datetime.fromtimestamp(committed_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return DeploymentRecord(
        deployment_id=deployment_id_for(commit_sha),
        commit=commit_sha,
        timestamp=stamp,
        tenants=tuple(tenants),
        request_id=request_id,
        principal=principal,
        subject=message.split("\n", 1)[0],
    )


def _subject(changes: Sequence[TenantChange]) -> str:
    if len(changes) <= 3:
        named = "; ".join(f"{c.action} {c.tenant_id}" for c in changes)
        return f"ecp publish: {named}"
    counts = ", ".join(
        f"{sum(1 for c in changes if c.action == action)} {action}" for action in ACTIONS
    )
    return f"ecp publish: {len(changes)} tenants ({counts})"


def _readable_line(change: TenantChange, before: TenantTotals | None) -> str:
    head = f"{change.action:<8}{change.tenant_id}"
    if change.totals is None:
        return head
    line = f"{head}: {change.totals.readable()}"
    if before is not None and before != change.totals:
        line += f" (was {before.readable()})"
    return line


def _trailer_value(change: TenantChange) -> str:
    value = f"{change.tenant_id} {change.action}"
    if change.totals is not None:
        t = change.totals
        value += (
            f" cpu={t.cpu} memory={t.memory} gpu={t.gpu} monthly_cost_usd={t.monthly_cost_usd:.2f}"
        )
    return value


def _parse_tenant_trailer(value: str) -> TenantChange | None:
    # A hand-written trailer that does not parse is ignored rather than failing every listing.
    parts = value.split()
    if len(parts) < 2 or parts[1] not in ACTIONS:
        return None
    fields = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
    totals = None
    if {"cpu", "memory", "gpu", "monthly_cost_usd"} <= fields.keys():
        try:
            totals = TenantTotals(
                cpu=fields["cpu"],
                memory=fields["memory"],
                gpu=int(fields["gpu"]),
                monthly_cost_usd=float(fields["monthly_cost_usd"]),
            )
        except ValueError:
            totals = None
    return TenantChange(tenant_id=parts[0], action=_ACTION_BY_NAME[parts[1]], totals=totals)


def clean_message(message: str) -> str:
    """A commit message as `git commit` (cleanup mode "strip") would store it: lines starting
    with `#` dropped, trailing whitespace cut, runs of blank lines made one, no blank lines at
    either end, one final newline. For commits written with `git commit-tree`, which stores
    the message as given, so that history reads the same whichever way a commit was made."""
    lines: list[str] = []
    for line in message.splitlines():
        if line.startswith("#"):
            continue
        line = line.rstrip()
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""

"""Tenant write requests: what a create, update or delete asks for, checked against the spec now.

Input: a WriteIntent (the request as data, with the writer's identity) and the spec file as the
last committed batch left it. Output: a PreparedChange (spec text before and after) or the 4xx
error that write alone fails with. Runs for the writer thread only (writer.py: in its compile
worker process, `prepare_all`, between batches), so the If-Match comparison and the write it
guards see the same state. No file writes, git or publishing here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from compiler.catalogue import Catalogue
from compiler.errors import (
    OrchestratorError,
    PreconditionFailed,
    TenantAlreadyExists,
    TenantNotFound,
)
from compiler.publishing import CommitAuthor
from compiler.service.read_model import etag_of
from compiler.sizing import plan_tenant
from compiler.spec.edit import apply_update, new_spec_text
from compiler.spec.loader import parse_spec, spec_from_mapping, spec_path

if TYPE_CHECKING:
    from compiler.service.state import Workspace

Action = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class WriteIntent:
    """One write as data: the access layer fills in the author (None: the orchestrator)."""

    action: Action
    tenant_id: str
    change: Mapping[str, Any] = field(default_factory=dict)  # create: the body; update: the patch
    if_match: str | None = None
    request_id: str = ""
    author: CommitAuthor | None = None


@dataclass(frozen=True)
class PreparedChange:
    intent: WriteIntent
    old: bytes | None  # the spec's bytes now; None when there is none
    new: str | None  # the spec's text after the write; None removes it

    @property
    def tenant_id(self) -> str:
        return self.intent.tenant_id

    @property
    def unchanged(self) -> bool:
        return self.new is not None and self.old == self.new.encode("utf-8")

    @property
    def etag(self) -> str | None:
        return None if self.new is None else etag_of(self.new.encode("utf-8"))


def matches_if_match(current: str, if_match: str | None) -> bool:
    """RFC 9110 13.1.1: `*` matches any current representation; otherwise the strong
    comparison against each listed tag, under which a weak W/"..." tag never matches (a weak
    tag vouches for equivalent content, not for the exact bytes a write would replace)."""
    if if_match is None or if_match.strip() == "*":
        return True
    wanted = [tag.strip() for tag in if_match.split(",")]
    return current in wanted


def _check_if_match(tenant_id: str, old: bytes, if_match: str | None) -> None:
    current = etag_of(old)
    if not matches_if_match(current, if_match):
        raise PreconditionFailed(
            f"{tenant_id} changed since the ETag given in If-Match; GET it again",
            details={"tenant_id": tenant_id, "current_etag": current},
        )


def current_spec(ws: Workspace, tenant_id: str) -> bytes | None:
    """The spec's bytes as the last batch left them; None when there is none."""
    try:
        return spec_path(ws.settings.tenants_dir, tenant_id).read_bytes()
    except FileNotFoundError:
        return None


def _missing(tenant_id: str) -> TenantNotFound:
    return TenantNotFound(f"tenant {tenant_id} does not exist", details={"tenant_id": tenant_id})


def prepare(catalogue: Catalogue, intent: WriteIntent, old: bytes | None) -> PreparedChange:
    """The change `intent` makes to a spec whose bytes are `old` (None: absent); raises the
    error it fails with."""
    tenant_id = intent.tenant_id
    if intent.action == "create":
        spec = spec_from_mapping(intent.change)
        # The body is judged before the state: a body that can never be created (a sizing
        # refusal, 422) says so even when its tenant ID is taken; a valid one then gets 409.
        plan_tenant(spec, catalogue)
        if old is not None:
            raise TenantAlreadyExists(
                f"tenant {tenant_id} already exists", details={"tenant_id": tenant_id}
            )
        return PreparedChange(intent, None, new_spec_text(spec))
    if old is None:
        raise _missing(tenant_id)
    _check_if_match(tenant_id, old, intent.if_match)
    if intent.action == "delete":
        return PreparedChange(intent, old, None)
    current = old.decode("utf-8")  # pragma: no mutate - "UTF-8" names the same codec
    text = apply_update(current, intent.change, f"{tenant_id}.yaml")
    # expected_id cannot differ here (apply_update refuses a tenant_id change): no mutate.
    spec = parse_spec(text, f"{tenant_id}.yaml", expected_id=tenant_id)  # pragma: no mutate
    plan_tenant(spec, catalogue)
    return PreparedChange(intent, old, text)


Prepared = PreparedChange | OrchestratorError


def prepare_all(
    catalogue: Catalogue, intents: Sequence[WriteIntent], current: Mapping[str, bytes | None]
) -> list[Prepared]:
    """Each intent prepared in order, or the error it fails with. `current` is each tenant's
    spec bytes now; a later write of a tenant is prepared against the first change this batch
    makes to it (the one write per tenant that the batch applies), as write_batch expects."""
    first: dict[str, PreparedChange] = {}
    out: list[Prepared] = []
    for intent in intents:
        earlier = first.get(intent.tenant_id)
        if earlier is None:
            old = current.get(intent.tenant_id)
        else:
            old = None if earlier.new is None else earlier.new.encode("utf-8")
        try:
            change = prepare(catalogue, intent, old)
        except OrchestratorError as exc:
            out.append(exc)
            continue
        out.append(change)
        if earlier is None and not change.unchanged:
            first[intent.tenant_id] = change
    return out

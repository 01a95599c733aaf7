"""Conditional writes: If-Match guards every update, delete and preview, as RFC 9110 13.1.1 says.

`*` matches any current spec, a list matches when one of its tags is the current ETag, a weak
W/"..." tag never does (the strong comparison: a weak tag vouches for equivalent content, not for
the bytes a write replaces), and a DELETE with a stale ETag deletes nothing. The write is
prepared in-process against a real workspace on disk (the writer thread's own call), so a mutant
of the comparison is caught by these tests, not only by the HTTP suites' subprocess servers.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from compiler.errors import (
    PreconditionFailed,
    SlaUnachievable,
    SpecInvalid,
    TenantAlreadyExists,
    TenantNotFound,
)
from compiler.pipeline import compile_workspace
from compiler.service.read_model import etag_of
from compiler.service.state import Workspace
from compiler.service.tenant_preview import preview_update
from compiler.service.tenant_writes import (
    PreparedChange,
    WriteIntent,
    current_spec,
    matches_if_match,
    prepare,
)
from compiler.settings import Settings

REPO = Path(__file__).resolve().parent.parent
TENANT = "shop-chat-lite"


_WORKSPACES: list[Workspace] = []


@pytest.fixture(scope="module")
def ws() -> Workspace:
    """One compiled workspace per process; the tests only read it (prepare and preview write
    nothing). Kept for the process, so the forks of a mutation run (make mutation) inherit it
    instead of compiling it again for every mutant; removed when the process exits."""
    if not _WORKSPACES:
        root = Path(tempfile.mkdtemp(prefix="ecp-conditional-")) / "ws"
        atexit.register(shutil.rmtree, root.parent, ignore_errors=True)
        shutil.copytree(REPO / "presets", root / "presets")
        (root / "tenants").mkdir()
        for tenant_id in (TENANT, "my-ai-service"):
            shutil.copy(REPO / "tenants" / f"{tenant_id}.yaml", root / "tenants")
        settings = Settings(root=root)
        compile_workspace(settings)
        _WORKSPACES.append(Workspace.of(settings))
    return _WORKSPACES[0]


def spec_bytes(ws: Workspace) -> bytes:
    found = current_spec(ws, TENANT)
    assert found is not None
    return found


def write(ws: Workspace, action: str, if_match: str | None, **change: object) -> PreparedChange:
    intent = WriteIntent(action=action, tenant_id=TENANT, change=change, if_match=if_match)  # type: ignore[arg-type]
    return prepare(ws, intent, current_spec(ws, TENANT))


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, True),
        ("*", True),
        (" * ", True),
        ('"{etag}"', True),
        ('"stale", "{etag}"', True),
        ('"stale","{etag}"', True),
        ('  "{etag}"  ', True),
        ('W/"{etag}"', False),
        ('"stale"', False),
        ('"stale", W/"{etag}"', False),
        ("", False),
        ('"{etag}*"', False),
    ],
    ids=[
        "absent",
        "star",
        "star-padded",
        "exact",
        "in-a-list",
        "in-a-list-without-spaces",
        "padded",
        "weak-never-matches",
        "stale",
        "stale-and-weak",
        "empty",
        "a-longer-tag",
    ],
)
def test_if_match_is_the_rfc_9110_strong_comparison(header: str | None, matches: bool) -> None:
    current = '"0123abcd"'
    given = None if header is None else header.replace('"{etag}"', current)
    assert matches_if_match(current, given) is matches


def test_an_update_with_the_current_etag_or_a_star_applies(ws: Workspace) -> None:
    etag = etag_of(spec_bytes(ws))
    for header in (etag, "*", f'"stale", {etag}', None):
        change = write(ws, "update", header, description="changed")
        assert change.new is not None and "description: changed" in change.new
        assert change.old == spec_bytes(ws)
        assert not change.unchanged
        assert change.etag == etag_of(change.new.encode("utf-8")) != etag


@pytest.mark.parametrize("action", ["update", "delete"])
@pytest.mark.parametrize("header", ['"stale"', "W/{etag}", '"stale", W/{etag}'])
def test_a_stale_or_weak_etag_refuses_the_update_and_the_delete(
    ws: Workspace, action: str, header: str
) -> None:
    etag = etag_of(spec_bytes(ws))
    with pytest.raises(PreconditionFailed) as refused:
        write(ws, action, header.replace("{etag}", etag), description="changed")
    assert refused.value.code == "PRECONDITION_FAILED"
    assert refused.value.details == {"tenant_id": TENANT, "current_etag": etag}
    assert TENANT in str(refused.value)


def test_a_delete_with_the_current_etag_or_a_star_removes_the_spec(ws: Workspace) -> None:
    for header in (etag_of(spec_bytes(ws)), "*", None):
        change = write(ws, "delete", header)
        assert change.new is None
        assert change.etag is None
        assert change.old == spec_bytes(ws)
        assert not change.unchanged


def test_an_update_that_changes_nothing_is_unchanged_with_the_same_etag(ws: Workspace) -> None:
    change = write(ws, "update", None, description="CPU-only chat bot for a web shop")
    assert change.unchanged
    assert change.etag == etag_of(spec_bytes(ws))


@pytest.mark.parametrize("action", ["update", "delete"])
def test_a_write_of_a_missing_tenant_is_not_found_whatever_the_if_match(
    ws: Workspace, action: str
) -> None:
    intent = WriteIntent(action=action, tenant_id="nobody", if_match="*")  # type: ignore[arg-type]
    with pytest.raises(TenantNotFound) as missing:
        prepare(ws, intent, None)
    assert missing.value.details == {"tenant_id": "nobody"}


def test_a_create_of_a_taken_id_conflicts_and_a_new_one_is_prepared(ws: Workspace) -> None:
    body = {
        "tenant_id": TENANT,
        "name": "Another",
        "service_requirements": {"chatbot": 10},
        "sla_target": {"availability": "99.5%", "response_time": "300ms"},
    }
    with pytest.raises(TenantAlreadyExists) as taken:
        prepare(ws, WriteIntent(action="create", tenant_id=TENANT, change=body), spec_bytes(ws))
    assert taken.value.details == {"tenant_id": TENANT}
    fresh = {**body, "tenant_id": "fresh-one"}
    change = prepare(ws, WriteIntent(action="create", tenant_id="fresh-one", change=fresh), None)
    assert change.old is None
    assert change.new is not None and "tenant_id: fresh-one" in change.new
    assert change.etag == etag_of(change.new.encode("utf-8"))


def test_a_create_that_can_never_be_sized_is_refused_before_the_id_is_judged(
    ws: Workspace,
) -> None:
    body = {
        "tenant_id": TENANT,
        "name": "Too fast",
        "service_requirements": {"chatbot": 10},
        "sla_target": {"availability": "99.5%", "response_time": "1ms"},
    }
    with pytest.raises(SlaUnachievable):
        prepare(ws, WriteIntent(action="create", tenant_id=TENANT, change=body), spec_bytes(ws))


def test_an_update_is_checked_by_sizing_before_it_is_prepared(ws: Workspace) -> None:
    with pytest.raises(SlaUnachievable):
        write(ws, "update", None, sla_target={"response_time": "1ms"})
    with pytest.raises(SpecInvalid):
        write(ws, "update", None, tenant_id="renamed")


def test_a_preview_honours_if_match_as_the_write_does(ws: Workspace) -> None:
    etag = etag_of(spec_bytes(ws))
    preview = preview_update(ws, TENANT, {"service_requirements": {"chatbot": 4000}}, f"{etag}")
    assert preview.etag == etag
    assert preview.changed
    assert preview.replicas["chatbot"]["after"] != preview.replicas["chatbot"]["before"]
    assert preview_update(ws, TENANT, {}, "*").changed is False
    for stale in ('"stale"', f"W/{etag}"):
        with pytest.raises(PreconditionFailed) as refused:
            preview_update(ws, TENANT, {"description": "x"}, stale)
        assert refused.value.details == {"tenant_id": TENANT, "current_etag": etag}
    with pytest.raises(TenantNotFound):
        preview_update(ws, "nobody", {}, None)

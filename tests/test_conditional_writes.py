"""Conditional writes: If-Match guards every update, delete and preview, as RFC 9110 13.1.1 says.

`*` matches any current spec, a list matches when one of its tags is the current ETag, a weak
W/"..." tag never does (the strong comparison: a weak tag vouches for equivalent content, not for
the bytes a write replaces), and a DELETE with a stale ETag deletes nothing. The write is
prepared in-process against a real workspace on disk (the writer thread's own call), so a mutant
of the comparison is caught by these tests, not only by the HTTP suites' subprocess servers.
"""

from __future__ import annotations

import atexit
import difflib
import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.catalogue import Catalogue, load_catalogue
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
    prepare_all,
)
from compiler.settings import Settings
from compiler.spec.edit import apply_update

REPO = Path(__file__).resolve().parent.parent
TENANT = "shop-chat-lite"


_WORKSPACES: list[Workspace] = []
_CATALOGUES: dict[Path, Catalogue] = {}


def catalogue_of(ws: Workspace) -> Catalogue:
    """The catalogue `prepare` judges against (the compile worker loads the same presets/)."""
    presets = ws.settings.presets_dir
    if presets not in _CATALOGUES:
        _CATALOGUES[presets] = load_catalogue(presets)
    return _CATALOGUES[presets]


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
    return prepare(catalogue_of(ws), intent, current_spec(ws, TENANT))


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
    assert refused.value.message == (
        f"{TENANT} changed since the ETag given in If-Match; GET it again"
    )


def test_a_delete_with_the_current_etag_or_a_star_removes_the_spec(ws: Workspace) -> None:
    for header in (etag_of(spec_bytes(ws)), "*", None):
        change = write(ws, "delete", header)
        assert change.intent.action == "delete" and change.tenant_id == TENANT
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
        prepare(catalogue_of(ws), intent, None)
    assert missing.value.details == {"tenant_id": "nobody"}
    assert missing.value.message == "tenant nobody does not exist"


def test_a_create_of_a_taken_id_conflicts_and_a_new_one_is_prepared(ws: Workspace) -> None:
    body = {
        "tenant_id": TENANT,
        "name": "Another",
        "service_requirements": {"chatbot": 10},
        "sla_target": {"availability": "99.5%", "response_time": "300ms"},
    }
    with pytest.raises(TenantAlreadyExists) as taken:
        prepare(
            catalogue_of(ws),
            WriteIntent(action="create", tenant_id=TENANT, change=body),
            spec_bytes(ws),
        )
    assert taken.value.details == {"tenant_id": TENANT}
    assert taken.value.message == f"tenant {TENANT} already exists"
    fresh = {**body, "tenant_id": "fresh-one"}
    intent = WriteIntent(action="create", tenant_id="fresh-one", change=fresh)
    change = prepare(catalogue_of(ws), intent, None)
    assert change.intent is intent and change.tenant_id == "fresh-one"
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
        prepare(
            catalogue_of(ws),
            WriteIntent(action="create", tenant_id=TENANT, change=body),
            spec_bytes(ws),
        )


def test_an_update_is_checked_by_sizing_before_it_is_prepared(ws: Workspace) -> None:
    with pytest.raises(SlaUnachievable):
        write(ws, "update", None, sla_target={"response_time": "1ms"})
    with pytest.raises(SpecInvalid) as renamed:
        write(ws, "update", None, tenant_id="renamed")
    assert renamed.value.details["file"] == f"{TENANT}.yaml"
    with pytest.raises(SpecInvalid) as negative:
        write(ws, "update", None, service_requirements={"chatbot": -5})
    assert negative.value.details["file"] == f"{TENANT}.yaml"


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


PATCH = {"service_requirements": {"chatbot": 4000}}


def compiled_after(ws: Workspace, patch: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The index entry and manifest the edited spec compiles to, by the ordinary compile of a
    copy of the workspace (not the preview's in-memory build)."""
    root = Path(tempfile.mkdtemp(prefix="ecp-after-")) / "ws"
    atexit.register(shutil.rmtree, root.parent, ignore_errors=True)
    shutil.copytree(ws.settings.root / "presets", root / "presets")
    (root / "tenants").mkdir()
    spec = (ws.settings.tenants_dir / f"{TENANT}.yaml").read_text("utf-8")
    edited = apply_update(spec, patch, f"{TENANT}.yaml")
    (root / "tenants" / f"{TENANT}.yaml").write_text(edited, encoding="utf-8")
    settings = Settings(root=root)
    compile_workspace(settings)
    index = json.loads((settings.output_dir / "index.json").read_text("utf-8"))
    entries = index.get("tenants", index)
    manifest = (settings.output_dir / TENANT / "manifest.yaml").read_text("utf-8")
    return entries[TENANT], manifest


def test_a_preview_reports_what_the_ordinary_compile_of_the_edit_gives(ws: Workspace) -> None:
    index = json.loads((ws.settings.output_dir / "index.json").read_text("utf-8"))
    before = index.get("tenants", index)[TENANT]
    old_manifest = (ws.settings.output_dir / TENANT / "manifest.yaml").read_text("utf-8")
    after, new_manifest = compiled_after(ws, PATCH)
    preview = preview_update(ws, TENANT, PATCH, None)
    assert preview.tenant_id == TENANT
    assert preview.dry_run is True
    assert preview.changed is True
    assert preview.estimated_cost == {
        "before": before["estimated_cost"],
        "after": after["estimated_cost"],
    }
    assert before["estimated_cost"] != after["estimated_cost"]
    assert preview.replicas == {
        "chatbot": {"before": before["replicas"]["chatbot"], "after": after["replicas"]["chatbot"]}
    }
    deltas = {d.field: (d.before, d.after) for d in preview.deltas}
    assert deltas["replicas.chatbot"] == (
        before["replicas"]["chatbot"],
        after["replicas"]["chatbot"],
    )
    assert deltas["monthly_cost_usd"] == (before["monthly_cost_usd"], after["monthly_cost_usd"])
    expected = "".join(
        difflib.unified_diff(
            old_manifest.splitlines(keepends=True),
            new_manifest.splitlines(keepends=True),
            fromfile=f"a/{TENANT}/manifest.yaml",
            tofile=f"b/{TENANT}/manifest.yaml",
        )
    )
    assert preview.manifest_diff == expected
    assert preview.manifest_diff.startswith(f"--- a/{TENANT}/manifest.yaml\n+++ b/{TENANT}/")
    assert preview.diff_truncated is False
    assert preview.warnings == ()


def test_a_preview_that_changes_nothing_has_no_diff_and_no_deltas(ws: Workspace) -> None:
    preview = preview_update(ws, TENANT, {}, None)
    assert preview.changed is False
    assert preview.manifest_diff == ""
    assert preview.deltas == ()
    assert preview.replicas["chatbot"]["before"] == preview.replicas["chatbot"]["after"]


def test_a_preview_before_the_first_compile_diffs_from_nothing(ws: Workspace) -> None:
    """No output/index.json yet: the whole manifest is added; a manifest without a final
    newline (written by hand) is marked as diff marks it."""
    root = Path(tempfile.mkdtemp(prefix="ecp-fresh-")) / "ws"
    atexit.register(shutil.rmtree, root.parent, ignore_errors=True)
    shutil.copytree(ws.settings.root / "presets", root / "presets")
    shutil.copytree(ws.settings.tenants_dir, root / "tenants")
    fresh = Workspace.of(Settings(root=root))
    preview = preview_update(fresh, TENANT, {}, None)
    _, manifest = compiled_after(ws, {})
    lines = preview.manifest_diff.splitlines(keepends=True)
    assert lines[:3] == [
        f"--- a/{TENANT}/manifest.yaml\n",
        f"+++ b/{TENANT}/manifest.yaml\n",
        f"@@ -0,0 +1,{len(manifest.splitlines())} @@\n",
    ]
    assert "".join(line[1:] for line in lines[3:]) == manifest
    assert preview.replicas["chatbot"]["before"] is None
    assert preview.estimated_cost["before"] is None
    # Compiled, but this tenant's manifest cut short by hand, without its last newline.
    compile_workspace(fresh.settings)
    target = fresh.settings.output_dir / TENANT / "manifest.yaml"
    target.write_text("kind: Old", encoding="utf-8")
    cut = preview_update(fresh, TENANT, {}, None).manifest_diff.splitlines()
    assert cut[3:5] == ["-kind: Old", "\\ No newline at end of file"]
    target.unlink()
    gone = preview_update(fresh, TENANT, {}, None).manifest_diff.splitlines()
    assert gone[2] == f"@@ -0,0 +1,{len(manifest.splitlines())} @@"


def test_a_refused_preview_says_why_as_the_write_does(ws: Workspace) -> None:
    with pytest.raises(PreconditionFailed) as refused:
        preview_update(ws, TENANT, {"description": "x"}, '"stale"')
    assert refused.value.message == (
        f"{TENANT} changed since the ETag given in If-Match; GET it again"
    )
    with pytest.raises(TenantNotFound) as missing:
        preview_update(ws, "nobody", {}, None)
    assert missing.value.message == "tenant nobody does not exist"
    assert missing.value.details == {"tenant_id": "nobody"}


@pytest.mark.parametrize(
    "patch",
    [{"tenant_id": "renamed"}, {"labels": {"bad key!": "x"}}],
    ids=["refused-by-the-merge", "refused-by-the-spec-check"],
)
def test_a_preview_of_an_invalid_edit_names_the_spec_file_only(
    ws: Workspace, patch: dict[str, Any]
) -> None:
    with pytest.raises(SpecInvalid) as invalid:
        preview_update(ws, TENANT, patch, None)
    assert invalid.value.details["file"] == f"{TENANT}.yaml"


def test_a_preview_carries_the_edits_policy_warnings(ws: Workspace) -> None:
    image = "registry.local/chatbot:latest"
    preview = preview_update(ws, TENANT, {"images": {"chatbot": image}}, None)
    (warning,) = preview.warnings
    assert warning.startswith("doc ") and "Deployment/chatbot" in warning
    assert warning.endswith(f"image '{image}' uses the :latest tag")


def test_a_long_manifest_diff_is_cut_at_the_limit_and_says_so(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = preview_update(ws, TENANT, PATCH, None)
    lines = whole.manifest_diff.splitlines(keepends=True)
    assert whole.diff_truncated is False and len(lines) > 10
    monkeypatch.setattr("compiler.service.tenant_preview.MAX_DIFF_LINES", len(lines))
    exact = preview_update(ws, TENANT, PATCH, None)
    assert exact.diff_truncated is False and exact.manifest_diff == whole.manifest_diff
    monkeypatch.setattr("compiler.service.tenant_preview.MAX_DIFF_LINES", len(lines) - 1)
    cut = preview_update(ws, TENANT, PATCH, None)
    assert cut.diff_truncated is True
    assert cut.manifest_diff == "".join(lines[:-1])


def test_an_update_is_prepared_for_its_own_intent(ws: Workspace) -> None:
    intent = WriteIntent(action="update", tenant_id=TENANT, change={"description": "mine"})
    change = prepare(catalogue_of(ws), intent, spec_bytes(ws))
    assert change.intent is intent and change.tenant_id == TENANT


def update_intent(chatbots: int, if_match: str | None = None) -> WriteIntent:
    return WriteIntent(
        action="update",
        tenant_id=TENANT,
        change={"service_requirements": {"chatbot": chatbots}},
        if_match=if_match,
    )


def test_a_batchs_later_writes_of_a_tenant_are_prepared_on_top_of_its_first(
    ws: Workspace,
) -> None:
    now = spec_bytes(ws)
    original = etag_of(now)
    first, stale, behind, other = prepare_all(
        catalogue_of(ws),
        [
            update_intent(41),
            update_intent(42, if_match=original),
            update_intent(43),
            WriteIntent(action="update", tenant_id="my-ai-service", change={"description": "b"}),
        ],
        {TENANT: now, "my-ai-service": current_spec(ws, "my-ai-service")},
    )
    assert isinstance(first, PreparedChange) and first.old == now
    assert first.new is not None and "chatbot: 41" in first.new
    assert isinstance(stale, PreconditionFailed)  # the ETag it holds is the one before `first`
    assert stale.details["current_etag"] == first.etag
    assert isinstance(behind, PreparedChange) and first.new is not None
    assert behind.old == first.new.encode("utf-8") and behind.intent.change == {
        "service_requirements": {"chatbot": 43}
    }
    assert isinstance(other, PreparedChange) and other.old == current_spec(ws, "my-ai-service")


def test_an_unchanged_or_failed_first_write_is_not_what_the_next_is_prepared_on(
    ws: Workspace,
) -> None:
    now = spec_bytes(ws)
    same = yaml_chatbots(now)
    failed, unchanged, applied = prepare_all(
        catalogue_of(ws),
        [update_intent(-5), update_intent(same), update_intent(41, if_match=etag_of(now))],
        {TENANT: now},
    )
    assert isinstance(failed, SpecInvalid)
    assert isinstance(unchanged, PreparedChange) and unchanged.unchanged
    assert isinstance(applied, PreparedChange) and applied.old == now


def test_after_a_delete_in_the_batch_the_tenant_is_gone_for_its_later_writes(
    ws: Workspace,
) -> None:
    now = spec_bytes(ws)
    deleted, after = prepare_all(
        catalogue_of(ws),
        [WriteIntent(action="delete", tenant_id=TENANT), update_intent(41)],
        {TENANT: now},
    )
    assert isinstance(deleted, PreparedChange) and deleted.new is None
    assert isinstance(after, TenantNotFound)


def yaml_chatbots(text: bytes) -> int:
    return int(yaml.safe_load(text)["service_requirements"]["chatbot"])


def test_every_later_write_of_a_tenant_is_judged_against_the_first_not_the_one_before(
    ws: Workspace,
) -> None:
    """The batch applies a tenant's first write only, so the third is prepared on the first's
    result: an If-Match with the first's ETag holds, though the second changed the spec too."""
    first, second, third = prepare_all(
        catalogue_of(ws),
        [update_intent(41), update_intent(42), update_intent(43, if_match=etag_of(b"?"))],
        {TENANT: spec_bytes(ws)},
    )
    assert isinstance(first, PreparedChange) and first.etag is not None
    assert isinstance(second, PreparedChange) and isinstance(third, PreconditionFailed)
    assert third.details["current_etag"] == first.etag
    *_, guarded = prepare_all(
        catalogue_of(ws),
        [update_intent(41), update_intent(42), update_intent(43, if_match=first.etag)],
        {TENANT: spec_bytes(ws)},
    )
    assert isinstance(guarded, PreparedChange)
    assert guarded.old == second.old

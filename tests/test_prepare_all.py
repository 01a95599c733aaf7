"""A batch's writes prepared in order (in the compile worker): a later write of a tenant is
prepared against the first change the batch makes to it, so a stale If-Match loses there; an
unchanged write changes nothing after it; a bad patch fails alone."""

from __future__ import annotations

from pathlib import Path

from compiler.catalogue import load_catalogue
from compiler.errors import OrchestratorError, PreconditionFailed, TenantNotFound
from compiler.service.read_model import etag_of
from compiler.service.tenant_writes import PreparedChange, WriteIntent, prepare_all
from compiler.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SPEC = (ROOT / "tenants" / "shop-chat-lite.yaml").read_bytes()


def _update(chatbots: int, if_match: str | None = None) -> WriteIntent:
    change = {"service_requirements": {"chatbot": chatbots}}
    return WriteIntent("update", "shop-chat-lite", change, if_match=if_match)


def test_a_later_write_of_a_tenant_is_prepared_against_the_batchs_first_change() -> None:
    catalogue = load_catalogue(Settings.load(ROOT).presets_dir)
    stale = etag_of(SPEC)
    intents = [
        _update(41, if_match=stale),
        _update(42, if_match=stale),  # the first write changed the spec: this ETag is stale
        _update(43),
        WriteIntent("update", "nobody-here", {"name": "x"}),
    ]
    first, second, third, missing = prepare_all(
        catalogue, intents, {"shop-chat-lite": SPEC, "nobody-here": None}
    )
    assert isinstance(first, PreparedChange) and first.old == SPEC
    assert first.new is not None and "chatbot: 41" in first.new
    assert isinstance(second, PreconditionFailed)
    assert second.details["current_etag"] == first.etag
    assert isinstance(third, PreparedChange) and third.old == first.new.encode("utf-8")
    assert isinstance(missing, TenantNotFound)


def test_an_unchanged_write_is_not_what_later_writes_are_prepared_against() -> None:
    catalogue = load_catalogue(Settings.load(ROOT).presets_dir)
    same = prepare_all(catalogue, [_update(40), _update(44)], {"shop-chat-lite": SPEC})
    assert all(not isinstance(p, OrchestratorError) for p in same)
    unchanged, later = same
    assert isinstance(unchanged, PreparedChange) and isinstance(later, PreparedChange)
    assert unchanged.unchanged  # shop-chat-lite asks for 40 chatbots already
    assert later.old == SPEC

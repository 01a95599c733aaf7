"""output/index.json edited line by line gives the bytes a whole rewrite gives; a named compile
reads no other tenant's spec, index line or folder and leaves the index a full compile leaves."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from compiler.output import index_text
from compiler.output.index_lines import IndexLines
from compiler.pipeline import compile as compile_module
from compiler.pipeline import compile_workspace
from compiler.settings import Settings

HEAD = {"compiler_version": "0.9.0", "kubernetes_version": "1.33"}


def _entry(rng: random.Random) -> dict[str, Any]:
    return {
        "name": f"Tenant {rng.randint(0, 999)} é",  # non-ASCII stays as it is written
        "replicas": {"chatbot": rng.randint(1, 9)},
        "monthly_cost_usd": round(rng.uniform(0, 999), 2),
    }


def _index(tenants: dict[str, Any]) -> dict[str, Any]:
    return {**HEAD, "tenants": tenants}


@pytest.mark.parametrize("seed", range(12), ids=lambda s: f"seed-{s}")
def test_spliced_index_is_byte_identical_to_a_whole_rewrite(seed: int) -> None:
    rng = random.Random(seed)
    ids = sorted({f"t-{rng.randint(0, 60):03d}" for _ in range(rng.randint(0, 25))})
    before = {t: _entry(rng) for t in ids}
    lines = IndexLines.parse(index_text(_index(before)))
    assert lines is not None
    removed = {t for t in ids if rng.random() < 0.3} | {"t-999"}  # one it never had
    changed = {f"t-{rng.randint(0, 60):03d}": _entry(rng) for _ in range(rng.randint(0, 8))}
    changed = {t: e for t, e in changed.items() if t not in removed}
    after = {t: e for t, e in before.items() if t not in removed} | changed
    head = {"compiler_version": "1.0.0", "kubernetes_version": "1.34"}
    expected = index_text({**head, "tenants": after})
    assert lines.text(head, changed, removed) == expected
    for tenant_id in ids:
        assert lines.entry(tenant_id) == before[tenant_id]
    assert lines.entry("t-999") is None
    assert lines.head_values() == HEAD


def test_removing_every_tenant_writes_the_empty_form() -> None:
    lines = IndexLines.parse(index_text(_index({"a": {"x": 1}, "b": {"x": 2}})))
    assert lines is not None
    assert lines.text(HEAD, {}, {"a", "b"}) == index_text(_index({}))
    empty = IndexLines.parse(index_text(_index({})))
    assert empty is not None
    assert empty.text(HEAD, {"c": {"x": 3}}, set()) == index_text(_index({"c": {"x": 3}}))


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(_index({"a": {"x": 1}}), indent=2) + "\n",
        index_text(_index({"a": {"x": 1}, "b": {"x": 2}})).replace('"a"', '"z"', 1),  # unsorted
        index_text(_index({"a": {"x": 1}})).replace('"a"', '"a\\u0041"', 1),  # an escaped key
        index_text(_index({"a": {"x": 1}, "b": {"x": 2}})).replace("1},", "1}", 1),
        index_text(_index({"a": {"x": 1}})).rstrip("\n"),
    ],
    ids=["indented", "unsorted", "escaped-key", "missing-comma", "no-final-newline"],
)
def test_an_index_in_another_layout_is_left_to_the_whole_file_parser(text: str) -> None:
    assert IndexLines.parse(text) is None


def test_a_named_compile_reads_no_other_tenant_and_equals_a_full_compile(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    compile_workspace(settings)
    tenants = sorted(p.stem for p in settings.tenants_dir.glob("*.yaml"))
    one, gone = tenants[0], tenants[-1]
    spec = settings.tenants_dir / f"{one}.yaml"
    text = spec.read_text("utf-8")
    spec.write_text(re.sub(r"^name: .*$", "name: Edited", text, count=1, flags=re.M), "utf-8")
    (settings.tenants_dir / f"{gone}.yaml").unlink()

    def listing(*_: object) -> None:
        raise AssertionError("a named compile listed or parsed the whole workspace")

    with monkeypatch.context() as patched:
        for name in ("spec_files", "index_from_text", "tenant_folders"):
            patched.setattr(compile_module, name, listing)
        report = compile_workspace(settings, [one, gone])
    assert {r.tenant_id: r.status for r in report.results} == {one: "compiled", gone: "removed"}
    named = (settings.output_dir / "index.json").read_bytes()
    assert not (settings.output_dir / gone).exists()
    full = compile_workspace(settings)
    assert all(r.status == "unchanged" for r in full.results)
    assert (settings.output_dir / "index.json").read_bytes() == named
    assert json.loads(named)["tenants"][one]["name"] == "Edited"

"""diff_outputs() and `ecp diff`: output/ at a git revision of a real workspace repo vs on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_publish_support import git, workspace, write_output

from compiler.cli import cli
from compiler.errors import UsageError
from compiler.publishing import diff_outputs
from compiler.publishing.diff_format import render_markdown, render_text
from compiler.settings import Settings

BASE = {"acme": {"callbot": 2, "stt": 1}, "beta": {"chatbot": 3}, "gamma": {"callbot": 1}}
HUMAN = ["-c", "user.name=dev", "-c", "user.email=dev@example.com"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = workspace(tmp_path)
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    write_output(s.output_dir, BASE)
    git(tmp_path, "add", "output")
    git(tmp_path, *HUMAN, "commit", "--quiet", "-m", "compiled")
    # The pull request: acme scales up, gamma goes, delta arrives, beta is untouched.
    write_output(
        s.output_dir,
        {"acme": {"callbot": 4, "stt": 2}, "beta": BASE["beta"], "delta": {"chatbot": 1}},
    )
    return s


def test_each_changed_tenant_is_listed_with_its_status(settings: Settings) -> None:
    diff = diff_outputs(settings)
    assert [(t.tenant_id, t.status) for t in diff.tenants] == [
        ("acme", "changed"),
        ("delta", "added"),
        ("gamma", "removed"),
    ]
    assert diff.unchanged == 1
    assert diff.base == "HEAD"


def test_the_deltas_are_the_ones_a_reviewer_weighs(settings: Settings) -> None:
    acme = diff_outputs(settings).tenants[0]
    deltas = {d.field: (d.before, d.after, d.change) for d in acme.deltas}
    assert deltas["cpu"] == ("1500m", "3000m", "+1500m")
    assert deltas["memory"] == ("3Gi", "6Gi", "+3Gi")
    assert deltas["gpu"] == (1, 2, "+1")
    assert deltas["monthly_cost_usd"] == (374.5, 749.0, "+$374.50")
    assert deltas["replicas.callbot"] == (2, 4, "+2")
    assert "preset" not in deltas  # still small: unchanged fields are left out
    assert "+  replicas: 4" in acme.manifest_diff


def test_a_removed_tenant_shows_what_it_gives_back(settings: Settings) -> None:
    gamma = diff_outputs(settings).tenants[-1]
    cost = next(d for d in gamma.deltas if d.field == "monthly_cost_usd")
    assert (cost.before, cost.after, cost.change) == (41.5, None, "-$41.50")


def test_a_preset_change_is_reported(settings: Settings) -> None:
    write_output(settings.output_dir, {**BASE, "acme": {"callbot": 9, "stt": 2}})
    acme = diff_outputs(settings).tenants[0]
    preset = next(d for d in acme.deltas if d.field == "preset")
    assert (preset.before, preset.after) == ("small", "large")


def test_markdown_has_a_summary_table_and_folded_manifest_diffs(settings: Settings) -> None:
    text = render_markdown(diff_outputs(settings))
    assert text.startswith("## ECP compiled output diff")
    assert "| `acme` | changed | callbot 2 → 4 (+2), stt 1 → 2 (+1) |" in text
    assert "<details><summary><code>acme</code> manifest diff</summary>" in text
    assert "```diff" in text


def test_text_output_shows_movements_and_the_unified_diff(settings: Settings) -> None:
    text = render_text(diff_outputs(settings))
    assert "~ acme (changed)" in text
    assert "cpu               1500m -> 3000m (+1500m)" in text
    assert "--- a/output/acme/manifest.yaml" in text
    assert "- gamma (removed)" in text


def test_the_default_base_is_the_merge_base_with_origin_main(
    settings: Settings, tmp_path: Path
) -> None:
    first = git(tmp_path, "rev-parse", "HEAD").strip()
    git(tmp_path, "update-ref", "refs/remotes/origin/main", first)
    git(tmp_path, "checkout", "--quiet", "-b", "feature")
    git(tmp_path, "add", "output")
    git(tmp_path, *HUMAN, "commit", "--quiet", "-m", "pr change")
    diff = diff_outputs(settings)
    assert diff.base == "merge-base(HEAD, origin/main)"
    assert diff.base_commit == first
    assert len(diff.tenants) == 3


def test_an_unknown_base_is_a_usage_error(settings: Settings) -> None:
    with pytest.raises(UsageError, match="unknown git revision"):
        diff_outputs(settings, base="no-such-ref")


def test_a_workspace_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    s = workspace(tmp_path / "plain")
    write_output(s.output_dir, BASE)
    with pytest.raises(UsageError, match="needs a git workspace"):
        diff_outputs(s)


def test_long_manifest_diffs_are_truncated_and_say_so(settings: Settings) -> None:
    diff = diff_outputs(settings, max_diff_lines=5)
    assert all(len(t.manifest_diff.splitlines()) <= 5 for t in diff.tenants)
    assert diff.tenants[0].diff_truncated


def test_ecp_diff_prints_json_for_tools(settings: Settings) -> None:
    result = CliRunner().invoke(
        cli, ["--root", str(settings.root), "diff", "--base", "HEAD", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [t["tenant_id"] for t in data["tenants"]] == ["acme", "delta", "gamma"]


def test_ecp_diff_markdown_is_ready_for_a_job_summary(settings: Settings) -> None:
    result = CliRunner().invoke(cli, ["--root", str(settings.root), "diff", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("## ECP compiled output diff")


def test_a_tenant_whose_index_entry_moved_only_in_bookkeeping_is_unchanged(
    settings: Settings,
) -> None:
    # A compiler upgrade changes every input_hash; what is deployed, and the deltas, do not move.
    index_path = settings.output_dir / "index.json"
    index = json.loads(index_path.read_text(encoding="utf-8"))
    index["tenants"]["beta"]["input_hash"] = "0" * 64
    index_path.write_text(json.dumps(index), encoding="utf-8")
    diff = diff_outputs(settings)
    assert [t.tenant_id for t in diff.tenants] == ["acme", "delta", "gamma"]
    assert diff.unchanged == 1


def test_a_change_the_api_server_refuses_on_an_existing_object_is_named(
    settings: Settings,
) -> None:
    manifest = settings.output_dir / "acme" / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    # the Deployment's selector and its template labels move together: it compiles, but
    # spec.selector of an existing Deployment cannot change
    manifest.write_text(text.replace("app: callbot", "app: callbot-v2"), encoding="utf-8")
    acme = diff_outputs(settings).tenants[0]
    assert acme.immutable == (
        'Deployment/callbot: spec.selector: Invalid value: {"matchLabels":{"app":"callbot-v2"}}: '
        "field is immutable",
    )
    assert "refused on apply: Deployment/callbot: spec.selector" in render_text(
        diff_outputs(settings)
    )
    assert "The API server refuses these changes" in render_markdown(diff_outputs(settings))


def test_changes_the_api_server_accepts_carry_no_immutable_hint(settings: Settings) -> None:
    assert all(t.immutable == () for t in diff_outputs(settings).tenants)

"""Renders an OutputDiff for people (text), for a CI job summary (Markdown) and for tools (JSON).

Input: an OutputDiff. Output: a string. No I/O, no git.
"""

from __future__ import annotations

from compiler.publishing.diff import FieldDelta, OutputDiff, TenantDiff

_MARK = {"added": "+", "changed": "~", "removed": "-"}
_LABELS = {"monthly_cost_usd": "monthly cost"}
_COLUMNS = ("cpu", "memory", "gpu", "monthly_cost_usd", "preset")


def render(diff: OutputDiff, fmt: str) -> str:
    if fmt == "json":
        return diff.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(diff)
    return render_text(diff)


def summary_line(diff: OutputDiff) -> str:
    return (
        f"{diff.count('changed')} changed, {diff.count('added')} added, "
        f"{diff.count('removed')} removed; {diff.unchanged} unchanged"
    )


def render_text(diff: OutputDiff) -> str:
    commit = f" ({diff.base_commit[:12]})" if diff.base_commit else ""
    lines = [f"base: {diff.base}{commit}", summary_line(diff)]
    for tenant in diff.tenants:
        lines += ["", f"{_MARK[tenant.status]} {tenant.tenant_id} ({tenant.status})"]
        width = max((len(_label(d.field)) for d in tenant.deltas), default=0)
        lines += [f"    {_label(d.field):<{width}}  {_movement(d)}" for d in tenant.deltas]
        lines += [f"    refused on apply: {hint}" for hint in tenant.immutable]
        if tenant.manifest_diff:
            lines += ["    " + line for line in tenant.manifest_diff.splitlines()]
        if tenant.diff_truncated:
            lines.append("    ... diff truncated")
    return "\n".join(lines) + "\n"


def render_markdown(diff: OutputDiff) -> str:
    commit = f" (`{diff.base_commit[:12]}`)" if diff.base_commit else ""
    lines = [
        "## ECP compiled output diff",
        "",
        f"Base `{diff.base}`{commit}: {summary_line(diff)}.",
    ]
    if not diff.tenants:
        return "\n".join([*lines, "", "No tenant's compiled output changed."]) + "\n"
    lines += [
        "",
        "| tenant | change | replicas | CPU | memory | GPU | monthly cost | preset |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_table_row(tenant) for tenant in diff.tenants]
    refused = [(t.tenant_id, hint) for t in diff.tenants for hint in t.immutable]
    if refused:
        lines += ["", "**The API server refuses these changes to existing objects** (delete and "
                  "recreate them, or keep the old value):", ""]  # fmt: skip
        lines += [f"- `{tenant}` {hint}" for tenant, hint in refused]
    for tenant in diff.tenants:
        if not tenant.manifest_diff:
            continue
        note = " (truncated)" if tenant.diff_truncated else ""
        lines += [
            "",
            f"<details><summary><code>{tenant.tenant_id}</code> manifest diff{note}</summary>",
            "",
            "```diff",
            tenant.manifest_diff.rstrip("\n").replace("```", "` ` `"),
            "```",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def _table_row(tenant: TenantDiff) -> str:
    by_field = {d.field: d for d in tenant.deltas}
    replicas = ", ".join(
        f"{d.field.removeprefix('replicas.')} {_short(d)}"
        for d in tenant.deltas
        if d.field.startswith("replicas.")
    )
    cells = [_short(by_field[f]) if f in by_field else "" for f in _COLUMNS]
    return f"| `{tenant.tenant_id}` | {tenant.status} | {replicas} | " + " | ".join(cells) + " |"


def _label(field: str) -> str:
    return _LABELS.get(field, field)


def _value(value: object, field: str) -> str:
    if value is None:
        return "-"
    if field == "monthly_cost_usd" and isinstance(value, int | float):
        return f"${value:,.2f}"
    return str(value)


def _movement(delta: FieldDelta) -> str:
    text = f"{_value(delta.before, delta.field)} -> {_value(delta.after, delta.field)}"
    return f"{text} ({delta.change})" if delta.change else text


def _short(delta: FieldDelta) -> str:
    text = f"{_value(delta.before, delta.field)} → {_value(delta.after, delta.field)}"
    return f"{text} ({delta.change})" if delta.change and delta.before is not None else text

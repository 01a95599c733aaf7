"""`ecp publish`, `ecp diff`, `ecp deployments`: thin shells over compiler.publishing."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.app import cli, settings_from
from compiler.cli.output import print_json, table
from compiler.errors import OrchestratorError
from compiler.pipeline import compile_workspace
from compiler.publishing import PublishResult, diff_outputs, list_deployments, publish
from compiler.publishing.diff_format import render
from compiler.settings import Settings, is_remote_url

REPO = click.option(
    "--repo",
    metavar="PATH_OR_URL",
    help="Deploy repo to use instead of the configured one (must exist when a path).",
)
BRANCH = click.option("--branch", help="Deploy branch (default: deploy_branch from config).")


def _repo_argument(repo: str | None) -> str | None:
    # A path on the command line means relative to where the user stands, not to --root.
    if repo is None or is_remote_url(repo):
        return repo
    return str(Path(repo).resolve())


@cli.command("publish")
@REPO
@BRANCH
@click.option("--push", is_flag=True, help="Push to the remote (retries; rebases if it moved).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def publish_command(
    ctx: click.Context, repo: str | None, branch: str | None, push: bool, fmt: str
) -> None:
    """Copy output/ into the deploy repo and commit what changed (one deployment record)."""
    result = publish(settings_from(ctx), repo=_repo_argument(repo), branch=branch, push=push)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if fmt == "json":
        print_json(result.model_dump(mode="json"))
        return
    click.echo(_publish_summary(result))


def _publish_summary(result: PublishResult) -> str:
    where = f"{result.repo} ({result.branch})"
    lines = []
    if result.recovered_from_crash:
        lines.append("recovered the deploy repo from an interrupted publish")
    if result.deployment_id:
        lines.append(f"published {result.deployment_id} (commit {result.commit}) to {where}")
        for change in result.changes:
            totals = f": {change.totals.readable()}" if change.totals else ""
            lines.append(f"  {change.action:<8}{change.tenant_id}{totals}")
    elif result.committed:
        lines.append(f"updated GitOps consumer files in {where} (commit {result.commit})")
    else:
        lines.append(f"nothing to publish: {where} is up to date at {result.commit or '(empty)'}")
    if result.pushed:
        lines.append(f"pushed {result.branch} at {result.commit}")
    return "\n".join(lines)


@cli.command("diff")
@click.option("--base", help="Git revision to compare with (default: merge-base with origin).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.pass_context
def diff_command(ctx: click.Context, base: str | None, fmt: str) -> None:
    """Show what changed in output/ since BASE: manifest diffs and resource/cost deltas."""
    settings = settings_from(ctx)
    stale = _stale_tenants(settings)
    if stale:
        click.echo(
            f"warning: output/ is stale for {', '.join(stale)}: their specs or presets changed "
            "since the last `ecp compile`, so this diff does not show those edits yet; run "
            "`ecp compile` first",
            err=True,
        )
    click.echo(render(diff_outputs(settings, base=base), fmt), nl=False)


def _stale_tenants(settings: Settings) -> list[str]:
    """Tenants whose spec compiles to something other than output/ holds (compile --check)."""
    if not settings.tenants_dir.is_dir() or not any(settings.tenants_dir.glob("*.yaml")):
        return []
    try:
        report = compile_workspace(settings, check=True)
    except OrchestratorError:
        return []  # the diff itself reports what is wrong with the workspace
    return [r.tenant_id for r in report.results if r.status == "stale" and r.source]


@cli.command("deployments")
@click.argument("tenant_id", required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@REPO
@BRANCH
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def deployments_command(
    ctx: click.Context,
    tenant_id: str | None,
    limit: int,
    repo: str | None,
    branch: str | None,
    fmt: str,
) -> None:
    """List deployment records (newest first), all or for one TENANT_ID."""
    records = list_deployments(
        settings_from(ctx), tenant_id, limit=limit, repo=_repo_argument(repo), branch=branch
    )
    if fmt == "json":
        print_json([r.model_dump(mode="json") for r in records])
        return
    if not records:
        click.echo("no deployments yet")
        return
    rows = []
    for record in records:
        changes = [record.change_for(tenant_id)] if tenant_id else list(record.tenants)
        summary = ", ".join(f"{c.action} {c.tenant_id}" for c in changes if c is not None)
        if len(summary) > 80:
            summary = f"{len(record.tenants)} tenants ({summary[:60]}...)"
        rows.append([record.deployment_id, record.timestamp, summary])
    click.echo(table(["DEPLOYMENT", "TIME", "TENANTS"], rows))

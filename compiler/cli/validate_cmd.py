"""`ecp validate PATH...`: any manifest files or folders through the validating stage, reported as
text, JSON, SARIF or JUnit on stdout (errors, warnings and the summary on one stream)."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import click

from compiler import __version__
from compiler.cli.app import EXIT_FINDINGS, cli, settings_from
from compiler.cli.output import print_json
from compiler.cli.validate_files import check_files, manifest_files
from compiler.validating import ManifestValidator, PolicyContext
from compiler.validating.reporting import (
    json_report,
    junit_xml,
    sarif_log,
    text_lines,
)

FORMATS = ("text", "json", "sarif", "junit")


@cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kubernetes-version", default=None, help="Schemas to validate against (1.25-1.37).")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="sarif: for GitHub code scanning; junit: for CI test reports.",
)  # fmt: skip
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=None,
    help="Processes to share a large input between [default: the usable cores].",
)  # fmt: skip
@click.pass_context
def validate_command(
    ctx: click.Context,
    paths: tuple[Path, ...],
    kubernetes_version: str | None,
    fmt: str,
    jobs: int | None,
) -> None:
    """Validate any manifest files or folders, ours or hand-written: the Kubernetes schemas, the
    API server's own create-time rules, then policy warnings."""
    settings = settings_from(ctx, kubernetes_version=kubernetes_version)
    validator = ManifestValidator(
        settings.kubernetes_version, cache_dir=settings.cache_dir / "schemas"
    )
    policy = PolicyContext.from_settings(settings)
    # This process ends after the report: what is alive now (modules, settings) is frozen out of
    # the collector's full walks, during the run and at exit, and forked workers share it.
    gc.freeze()
    reports = check_files(manifest_files(paths), validator, policy, workers=jobs)
    if fmt == "json":
        print_json(json_report(reports, settings.kubernetes_version))
    elif fmt == "sarif":
        click.echo(json.dumps(sarif_log(reports, __version__), indent=2, ensure_ascii=False))
    elif fmt == "junit":
        click.echo(junit_xml(reports), nl=False)
    else:
        for line in text_lines(reports):
            click.echo(line)
    if any(r.errors for r in reports):
        ctx.exit(EXIT_FINDINGS)

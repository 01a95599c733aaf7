"""`ecp validate PATH...`: any manifest files or folders through the validating stage, reported as
text, JSON, SARIF or JUnit on stdout (errors, warnings and the summary on one stream)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from compiler import __version__
from compiler.cli.app import EXIT_FINDINGS, cli, settings_from
from compiler.cli.output import print_json
from compiler.validating import ManifestValidator, PolicyContext, load_documents
from compiler.validating.documents import finding_lines
from compiler.validating.findings import Finding
from compiler.validating.reporting import (
    FileReport,
    json_report,
    junit_xml,
    sarif_log,
    text_lines,
)

FORMATS = ("text", "json", "sarif", "junit")


def manifest_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in (".yaml", ".yml")
                    and p.is_file()
                    and p.name != "kustomization.yaml"
                    # hidden folders: VCS data and our own interrupted staging output
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            raise click.BadParameter(f"{path}: no such file or directory", param_hint="PATH")
    return files


def check_file(file: Path, validator: ManifestValidator, policy: PolicyContext) -> FileReport:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        finding = Finding("error", "read", f"cannot read: {exc}", 0, None, None, "")
        return FileReport(str(file), [], [finding], [None])
    objects, findings = load_documents(text, str(file))
    findings = findings + validator.validate(objects, unknown_kind="warning", policy=policy)
    return FileReport(str(file), objects, findings, finding_lines(text, objects, findings))


@cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kubernetes-version", default=None, help="Schemas to validate against (1.25-1.37).")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="sarif: for GitHub code scanning; junit: for CI test reports.",
)  # fmt: skip
@click.pass_context
def validate_command(
    ctx: click.Context, paths: tuple[Path, ...], kubernetes_version: str | None, fmt: str
) -> None:
    """Validate any manifest files or folders, ours or hand-written: the Kubernetes schemas, the
    API server's own create-time rules, then policy warnings."""
    settings = settings_from(ctx, kubernetes_version=kubernetes_version)
    validator = ManifestValidator(settings.kubernetes_version)
    policy = PolicyContext.from_settings(settings)
    reports = [check_file(file, validator, policy) for file in manifest_files(paths)]
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

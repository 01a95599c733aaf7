"""`ecp compile`, `ecp validate`, `ecp new`: thin shells over the compiler stages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from compiler.cli.app import EXIT_FINDINGS, cli, settings_from
from compiler.cli.output import error_line, print_json, progress_bar, table
from compiler.errors import OrchestratorError, TenantAlreadyExists
from compiler.pipeline import CompileReport, compile_workspace
from compiler.spec.edit import new_spec_text
from compiler.spec.ids import tenant_id_problem
from compiler.spec.loader import spec_from_mapping, spec_path
from compiler.spec.models import PRESETS, SERVICES
from compiler.spec.schema import SCHEMA_FILE, tenant_schema_text
from compiler.validating import ManifestValidator, PolicyContext, load_documents, resource_summary
from compiler.validating.documents import finding_lines
from compiler.validating.findings import Finding

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
PROGRESS_THRESHOLD = 20  # tenants; below this a run is too short for a bar to help


@cli.command("compile")
@click.argument("tenant_ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Compile every spec in tenants/ (the default).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if output/ is stale.")
@click.option("--force", is_flag=True, help="Rebuild even tenants whose inputs did not change.")
@FORMAT
@click.pass_context
def compile_command(
    ctx: click.Context, tenant_ids: tuple[str, ...], all_: bool, check: bool, force: bool, fmt: str
) -> None:
    """Compile tenant specs into output/<tenant>/manifest.yaml (only what changed)."""
    if all_ and tenant_ids:
        raise click.UsageError("give tenant IDs or --all, not both")
    for tenant_id in tenant_ids:
        problem = tenant_id_problem(tenant_id)
        if problem is not None:
            raise click.BadParameter(problem, param_hint="TENANT_ID")
    settings = settings_from(ctx)
    with progress_bar("compiling", fmt == "text") as progress:
        report = compile_workspace(
            settings,
            tenant_ids or None,
            check=check,
            force=force,
            progress=progress
            if len(tenant_ids) == 0 or len(tenant_ids) > PROGRESS_THRESHOLD
            else None,
            workers=os.cpu_count() or 1,
        )
    if fmt == "json":
        print_json(report.to_dict(), compact=True)
    else:
        _print_report(report, check)
    if not report.ok:
        ctx.exit(EXIT_FINDINGS)


def _print_report(report: CompileReport, check: bool) -> None:
    rows = []
    for r in report.results:
        e = r.entry or {}
        t = e.get("totals", {})
        rows.append(
            [
                r.tenant_id,
                r.status,
                e.get("preset", "-"),
                e.get("gpu_type") or "-",
                t.get("cpu", "-"),
                t.get("memory", "-"),
                t.get("gpu", "-"),
                e.get("pods", "-"),
                e.get("estimated_cost", "-"),
                len(r.warnings) or "",
            ]
        )
    click.echo(
        table(
            [
                "TENANT",
                "STATUS",
                "PRESET",
                "GPU TYPE",
                "CPU",
                "MEMORY",
                "GPU",
                "PODS",
                "COST",
                "WARNINGS",
            ],
            rows,
        )
    )
    for r in report.results:
        for w in r.warnings:
            click.echo(f"warning: {r.source}: {w}", err=True)
        for e in r.errors:
            click.echo(f"error: {error_line(e)}", err=True)
    stale = [r.tenant_id for r in report.results if r.status == "stale"]
    failed = [r.tenant_id for r in report.results if r.status == "failed"]
    if stale:
        click.echo(f"stale: {', '.join(stale)} (run `ecp compile` and commit output/)", err=True)
    if failed:
        click.echo(f"failed: {', '.join(failed)}", err=True)
    verb = "checked" if check else "compiled"
    click.echo(f"{len(report.results)} tenant(s) {verb} in {report.seconds:.2f}s", err=True)


def _manifest_files(paths: tuple[Path, ...]) -> list[Path]:
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


@cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kubernetes-version", default=None, help="Schemas to validate against (1.25-1.37).")
@FORMAT
@click.pass_context
def validate_command(
    ctx: click.Context, paths: tuple[Path, ...], kubernetes_version: str | None, fmt: str
) -> None:
    """Validate any manifest files or folders, ours or hand-written."""
    settings = settings_from(ctx, kubernetes_version=kubernetes_version)
    validator = ManifestValidator(settings.kubernetes_version)
    policy = PolicyContext(cluster_gpu=settings.cluster.gpu)
    results: list[dict[str, Any]] = []
    errors = 0
    for file in _manifest_files(paths):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            findings = [Finding("error", "read", f"cannot read: {exc}", 0, None, None, "")]
            objects: list[dict[str, Any]] = []
            lines: list[int | None] = [None]
        else:
            objects, findings = load_documents(text, str(file))
            findings = findings + validator.validate(objects, unknown_kind="warning", policy=policy)
            lines = finding_lines(text, objects, findings)
        errors += sum(1 for f in findings if f.severity == "error")
        results.append(
            {"file": str(file), "objects": objects, "findings": findings, "lines": lines}
        )
    if fmt == "json":
        print_json(
            {
                "valid": errors == 0,
                "kubernetes_version": settings.kubernetes_version,
                "files": [
                    {
                        "file": r["file"],
                        "documents": len(r["objects"]),
                        "findings": [
                            {**f.to_dict(), "line": line}
                            for f, line in zip(r["findings"], r["lines"], strict=True)
                        ],
                        "resource_summary": resource_summary(r["objects"]),
                    }
                    for r in results
                ],
            }
        )
    else:
        for r in results:
            for f, line in zip(r["findings"], r["lines"], strict=True):
                where = f"{r['file']}:{line}" if line else r["file"]
                click.echo(f"{where}: {f.severity}: {f}", err=f.severity == "error")
        documents = sum(len(r["objects"]) for r in results)
        click.echo(
            f"{len(results)} file(s), {documents} document(s): {errors} error(s), "
            f"{sum(len(r['findings']) for r in results) - errors} warning(s)"
        )
    if errors:
        ctx.exit(EXIT_FINDINGS)


@cli.command("new")
@click.argument("tenant_id")
@click.option("--name", help="Display name (default: the tenant ID).")
@click.option("--preset", type=click.Choice(PRESETS), help="Tier (default: recommended).")
@click.option(
    "--service",
    "services",
    multiple=True,
    metavar="SERVICE=COUNT",
    help=f"Concurrent channels, repeatable; services: {', '.join(SERVICES)}.",
)
@click.option("--availability", default="99.9%", show_default=True)
@click.option("--response-time", default="300ms", show_default=True)
@click.option("--description", default="")
@click.pass_context
def new_command(
    ctx: click.Context,
    tenant_id: str,
    name: str | None,
    preset: str | None,
    services: tuple[str, ...],
    availability: str,
    response_time: str,
    description: str,
) -> None:
    """Scaffold tenants/TENANT_ID.yaml (validated before it is written)."""
    settings = settings_from(ctx)
    requirements: dict[str, int] = {}
    for item in services or ("chatbot=10",):
        service, _, count = item.partition("=")
        if service not in SERVICES:
            raise click.BadParameter(
                f"{item!r}: unknown service {service!r}; services: {', '.join(SERVICES)}",
                param_hint="--service",
            )
        if not count.isdigit():
            raise click.BadParameter(
                f"{item!r}: expected SERVICE=COUNT with a whole number", param_hint="--service"
            )
        requirements[service] = int(count)
    body: dict[str, Any] = {
        "tenant_id": tenant_id,
        "name": name or tenant_id,
        "service_requirements": requirements,
        "sla_target": {"availability": availability, "response_time": response_time},
    }
    if preset:
        body["preset"] = preset
    if description:
        body["description"] = description
    spec = spec_from_mapping(body, source="ecp new")
    path = spec_path(settings.tenants_dir, spec.tenant_id)
    if path.exists():
        raise TenantAlreadyExists(f"{path} already exists", details={"tenant_id": tenant_id})
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(new_spec_text(spec))
    except FileExistsError as exc:
        raise TenantAlreadyExists(f"{path} already exists") from exc
    except OSError as exc:
        raise OrchestratorError(f"cannot write {path}: {exc.strerror}") from exc
    click.echo(f"created {path}; run `ecp compile {spec.tenant_id}`")


@cli.command("schema")
@click.option("--check", is_flag=True, help="Exit 1 if the file differs instead of writing it.")
@click.pass_context
def schema_command(ctx: click.Context, check: bool) -> None:
    """Write the spec JSON Schema to tenants/tenant.schema.json (for editors)."""
    settings = settings_from(ctx)
    path = settings.tenants_dir / SCHEMA_FILE
    text = tenant_schema_text()
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if check:
        if current != text:
            click.echo(f"{path} is stale: run `ecp schema`", err=True)
            ctx.exit(EXIT_FINDINGS)
        return
    if current != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")

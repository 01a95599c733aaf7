"""`ecp compile`, `ecp calc`, `ecp new`, `ecp schema`: thin shells over the compiler stages."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from compiler.catalogue import load_catalogue
from compiler.cli.app import EXIT_FINDINGS, cli, settings_from
from compiler.cli.output import error_line, print_json, progress_bar, table
from compiler.errors import Location, OrchestratorError, SpecInvalid, TenantAlreadyExists
from compiler.pipeline import CompileReport, Workspace, compile_workspace
from compiler.sizing import calculate
from compiler.spec.edit import new_spec_text
from compiler.spec.ids import tenant_id_problem
from compiler.spec.loader import spec_errors, spec_from_mapping, spec_path
from compiler.spec.models import PRESETS, SERVICES, CalculateRequest
from compiler.spec.schema import SCHEMA_FILE, tenant_schema_text

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
        _print_report(report, check, settings.root)
    if not report.ok:
        ctx.exit(EXIT_FINDINGS)


def _shown(path: str | None, root: Path) -> str:
    """A path as the README shows it: relative to the workspace when inside it."""
    if not path:
        return "<input>"
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def _print_report(report: CompileReport, check: bool, root: Path) -> None:
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
            click.echo(f"warning: {_shown(r.source, root)}: {w}", err=True)
        for e in r.errors:
            click.echo(f"error: {error_line({**e, 'file': _shown(e.get('file'), root)})}", err=True)
    stale = [r.tenant_id for r in report.results if r.status == "stale"]
    failed = [r.tenant_id for r in report.results if r.status == "failed"]
    if stale:
        click.echo(f"stale: {', '.join(stale)} (run `ecp compile` and commit output/)", err=True)
    if failed:
        click.echo(f"failed: {', '.join(failed)}", err=True)
    verb = " checked" if check else ""
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(
        f"{len(report.results)} tenant(s){verb} in {report.seconds:.2f}s: {detail}", err=True
    )


@cli.command("calc")
@click.option(
    "-f",
    "--file",
    "file",
    required=True,
    type=click.Path(path_type=Path),
    help="A calculate-resources request body (JSON or YAML); '-' reads stdin.",
)
@click.option("--explain", is_flag=True, help="Print every step of the sizing.")
@FORMAT
@click.pass_context
def calc_command(ctx: click.Context, file: Path, explain: bool, fmt: str) -> None:
    """Size a request: the reference's calculate-resources, offline."""
    settings = settings_from(ctx)
    source = "<stdin>" if str(file) == "-" else str(file)
    try:
        text = sys.stdin.read() if source == "<stdin>" else file.read_text(encoding="utf-8")
        body = yaml.safe_load(text)  # JSON is YAML; one parser covers both
    except OSError as exc:
        raise click.BadParameter(f"{file}: {exc.strerror}", param_hint="-f") from exc
    except yaml.YAMLError as exc:
        raise SpecInvalid(f"not JSON or YAML: {exc}", location=Location(file=source)) from exc
    if not isinstance(body, dict):
        raise SpecInvalid("the request body must be a JSON object", location=Location(file=source))
    request = _calculate_request(body, source, text)
    result = calculate(request, load_catalogue(settings.presets_dir), explain=explain)
    if fmt == "json":
        response = result.to_response()
        if explain:
            response["explanation"] = result.explanation
        print_json(response)
        return
    if explain:
        for line in result.explanation:
            click.echo(line)
        click.echo()
    _print_calculation(result.to_response())


def _print_calculation(answer: dict[str, Any]) -> None:
    """The calculate-resources answer for people (`--format json` gives the API's body)."""
    r = answer["resources"]
    gpus = f", {answer['gpu_type']} GPUs" if answer["gpu_type"] else ""
    click.echo(
        f"recommended preset: {answer['recommended_preset']} ({r['cpu']} CPU, {r['memory']} "
        f"memory, {r['gpu']} GPU, {r['storage']} storage{gpus})"
    )
    need = answer["required_resources"]
    click.echo(
        f"required: {need['cpu']} CPU, {need['memory']} memory, {need['gpu']} GPU, "
        f"{need['storage']} storage; estimated cost {answer['estimated_cost']}"
    )
    click.echo()
    rows = [
        [
            s["service_name"],
            f"{s['channels']:g}",
            s["replicas"],
            s["replicas_for_capacity"],
            f"{s['predicted_response_time_ms']:.1f}ms",
            f"{s['availability']:.6f}",
        ]
        for s in answer["services"]
    ]
    click.echo(
        table(["SERVICE", "CHANNELS", "REPLICAS", "FOR CAPACITY", "RESPONSE", "AVAILABILITY"], rows)
    )
    click.echo()
    if not answer["alternatives"]:
        click.echo("alternatives: none cheaper one tier down")
    for alt in answer["alternatives"]:
        click.echo(f"alternative: {alt['preset']}, {alt['cost']}: {alt['performance_impact']}")


def _calculate_request(body: dict[str, Any], source: str, text: str) -> CalculateRequest:
    from pydantic import ValidationError

    try:
        return CalculateRequest.model_validate(body)
    except ValidationError as exc:
        records = spec_errors(exc, text, source, CalculateRequest)
        first = records[0]
        raise SpecInvalid(
            first["message"],
            details={"errors": records},
            location=Location(file=source, line=first["line"], field=first["field"]),
        ) from exc


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
@click.option("--response-time", default="200ms", show_default=True)
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
    # Sized and compiled before anything is written: a spec the next `ecp compile` would refuse
    # (a preset too small for the plan, an SLA no replica meets) is refused here instead.
    build = Workspace(settings).build(spec)
    refused = [f for f in build.findings if f.is_error]
    if refused:
        raise SpecInvalid(f"the spec would not compile: {refused[0]}", details={"field": "spec"})
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(new_spec_text(spec))
    except FileExistsError as exc:
        raise TenantAlreadyExists(f"{path} already exists") from exc
    except OSError as exc:
        raise OrchestratorError(f"cannot write {path}: {exc.strerror}") from exc
    plan = build.index_entry
    click.echo(
        f"created {_shown(str(path), settings.root)} (preset {plan['preset']}, "
        f"{plan['pods']} pods, {plan['estimated_cost']}); run `ecp compile {spec.tenant_id}`"
    )


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

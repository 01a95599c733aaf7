"""`ecp calc`: the reference's calculate-resources offline, with --explain and --simulate.

A thin shell over compiler.sizing. With --format json every answer is JSON on stdout, refusals
included ({"error": {code, message, details}}, exit 1). --simulate re-simulates the plan from
its JSON alone (compiler.sizing.simulation) and prints model and simulation side by side.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import yaml

from compiler.catalogue import load_catalogue
from compiler.cli.app import EXIT_FINDINGS, cli, settings_from
from compiler.cli.output import print_json, table
from compiler.errors import Location, OrchestratorError, SpecInvalid
from compiler.sizing import calculate
from compiler.spec.loader import spec_errors
from compiler.spec.models import CalculateRequest

SIMULATED_REQUESTS = 20_000


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
@click.option(
    "--simulate", is_flag=True, help="Re-simulate the plan and print model and simulation."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def calc_command(ctx: click.Context, file: Path, explain: bool, simulate: bool, fmt: str) -> None:
    """Size a request: the reference's calculate-resources, offline."""
    try:
        answer, lines = _answer(ctx, file, explain, simulate)
    except OrchestratorError as exc:
        if fmt != "json":
            raise
        print_json({"error": {"code": exc.code, "message": exc.message, "details": exc.details}})
        ctx.exit(EXIT_FINDINGS)
    if fmt == "json":
        if explain:
            answer["explanation"] = lines
        print_json(answer)
        return
    if explain:
        for line in lines:
            click.echo(line)
        click.echo()
    _print_calculation(answer)


def _answer(
    ctx: click.Context, file: Path, explain: bool, simulate: bool
) -> tuple[dict[str, Any], list[str]]:
    settings = settings_from(ctx)
    source = "<stdin>" if str(file) == "-" else str(file)
    try:
        text = sys.stdin.read() if source == "<stdin>" else file.read_text(encoding="utf-8")
        body = yaml.safe_load(text)  # JSON is YAML; one parser covers both
    except OSError as exc:
        raise SpecInvalid(
            f"cannot read the request: {exc.strerror}", location=Location(file=source)
        ) from exc
    except yaml.YAMLError as exc:
        raise SpecInvalid(f"not JSON or YAML: {exc}", location=Location(file=source)) from exc
    if not isinstance(body, dict):
        raise SpecInvalid("the request body must be a JSON object", location=Location(file=source))
    request = _calculate_request(body, source, text)
    try:
        result = calculate(request, load_catalogue(settings.presets_dir), explain=explain)
    except OrchestratorError as exc:
        field = exc.details.get("field")
        if exc.location is None and isinstance(field, str):
            from compiler.spec.loader import line_of

            exc.location = Location(
                file=source, line=line_of(text, tuple(field.split("."))), field=field
            )
            exc.details.setdefault("file", source)
            exc.details.setdefault("line", exc.location.line)
        raise
    answer = result.to_response()
    if simulate:
        answer["simulation"] = _simulate(answer)
    return answer, result.explanation


def _simulate(answer: dict[str, Any]) -> dict[str, Any]:
    """Each path's percentile by discrete-event simulation of the plan's JSON."""
    from compiler.sizing.simulation import simulate  # type: ignore[import-not-found,unused-ignore]

    result = simulate(answer, requests_per_path=SIMULATED_REQUESTS, seed=0)
    return {
        "requests_per_path": SIMULATED_REQUESTS,
        "seed": 0,
        "paths": {
            p["name"]: round(result.paths[p["name"]].percentile_ms(p["percentile"]), 1)
            for p in answer["paths"]
        },
    }


def _print_calculation(answer: dict[str, Any]) -> None:
    """The calculate-resources answer for people (`--format json` gives the API's body)."""
    r = answer["resources"]
    gpus = f", mostly {answer['gpu_type']} GPUs" if answer["gpu_type"] else ""
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
            s["run"],
            s["replicas"],
            s["replicas_for_capacity"],
            f"{s['queue']['utilisation']:.2f}",
            f"{s['predicted_response_time_ms']:.1f}ms",
            f"{s['availability']:.6f}",
        ]
        for s in answer["services"]
    ]
    headers = ["SERVICE", "RUN", "REPLICAS", "SERVING", "UTIL", "MEAN STAGE", "AVAILABILITY"]
    click.echo(table(headers, rows))
    click.echo()
    simulated = answer.get("simulation", {}).get("paths", {})
    path_rows = []
    for p in answer["paths"]:
        row = [
            p["name"],
            " -> ".join(p["stages"]),
            f"p{p['percentile']:g}",
            _ms(p["predicted_ms"]),
            f"{p['sla_ms']:g}ms",
            "yes" if p["meets_sla"] else "NO",
            f"{p['availability']:.6f}",
        ]
        if simulated:
            row.append(_ms(simulated[p["name"]]))
        path_rows.append(row)
    path_headers = ["PATH", "STAGES", "PCT", "MODEL", "SLA", "MEETS", "AVAILABILITY"]
    if simulated:
        path_headers.append("SIMULATED")
    click.echo(table(path_headers, path_rows))
    click.echo()
    for w in answer["warnings"]:
        click.echo(f"warning: {w}")
    if not answer["alternatives"]:
        click.echo("alternatives: none cheaper one tier down")
    for alt in answer["alternatives"]:
        click.echo(f"alternative: {alt['preset']}, {alt['cost']}: {alt['performance_impact']}")


def _ms(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:.1f}ms"


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

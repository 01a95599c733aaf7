"""`ecp calc` for sizing answers: refusals name path, floor and field; --format json is always
JSON; --simulate puts the simulator beside the model; Deployments spread as the model assumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import EcpRunner
from sizing_support import spec

from compiler.pipeline import Workspace
from compiler.rendering import RenderOptions
from compiler.settings import ClusterCapacity, Settings

REFERENCE_CALCULATE_BODY = {
    "service_requirements": {"callbot": 100, "chatbot": 200, "advisor": 50},
    "sla_target": {"availability": "99.9%", "response_time": "150ms"},
}


def test_the_references_calculate_example_is_refused_as_json_on_stdout(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps(REFERENCE_CALCULATE_BODY, indent=2), encoding="utf-8")
    run = ecp("calc", "-f", str(body), "--format", "json")
    assert run.code == 1
    error = json.loads(run.stdout)["error"]
    assert error["code"] == "SLA_UNACHIEVABLE"
    assert error["details"]["path"] == "callbot-turn"
    assert error["details"]["field"] == "sla_target.response_time"
    assert error["details"]["line"] == 9  # the response_time line of the indented body
    assert error["details"]["nearest_feasible_ms"] > error["details"]["idle_floor_ms"] > 150


def test_a_bad_percentile_is_one_line_naming_file_line_and_field(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    body = tmp_path / "request.yaml"
    body.write_text(
        "service_requirements:\n  chatbot: 5\nsla_target:\n  percentile: p100\n", encoding="utf-8"
    )
    run = ecp("calc", "-f", str(body))
    assert run.code == 1 and run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"error: {body}:4: sla_target.percentile: ")
    as_json = ecp("calc", "-f", str(body), "--format", "json")
    assert as_json.code == 1 and json.loads(as_json.stdout)["error"]["code"] == "VALIDATION_ERROR"


def test_a_gpu_type_that_cannot_run_stt_names_its_line(tmp_path: Path, ecp: EcpRunner) -> None:
    body = tmp_path / "request.yaml"
    body.write_text("service_requirements:\n  stt: 5\ngpu_type: t4\n", encoding="utf-8")
    run = ecp("calc", "-f", str(body))
    assert run.code == 1
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"error: {body}:3: gpu_type: gpu_type t4 (compute capability 7.5")


def test_simulate_prints_the_model_beside_the_simulation(tmp_path: Path, ecp: EcpRunner) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps({"service_requirements": {"chatbot": 50, "tts": 10}}), "utf-8")
    text = ecp("calc", "-f", str(body), "--simulate")
    assert text.code == 0, text.stderr
    header = next(line for line in text.stdout.splitlines() if line.startswith("PATH"))
    assert header.split()[-2:] == ["AVAILABILITY", "SIMULATED"]
    answer = json.loads(ecp("calc", "-f", str(body), "--simulate", "--format", "json").stdout)
    for path in answer["paths"]:
        simulated = answer["simulation"]["paths"][path["name"]]
        assert abs(path["predicted_ms"] - simulated) <= 0.1 * simulated


def test_the_answer_carries_the_plan_json_of_the_contract(tmp_path: Path, ecp: EcpRunner) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps({"service_requirements": {"callbot": 10}}), "utf-8")
    answer = json.loads(ecp("calc", "-f", str(body), "--format", "json").stdout)
    (path,) = [p for p in answer["paths"] if p["name"] == "callbot-turn"]
    assert path["stages"] == ["stt", "callbot", "tts"] and path["percentile"] == 95
    assert {"predicted_ms", "sla_ms", "meets_sla", "availability", "arrival_rate_per_s"} <= set(
        path
    )
    for s in answer["services"]:
        assert set(s["queue"]) >= {
            "pods",
            "slots_per_pod",
            "arrival_rate_per_s",
            "hold_ms",
            "hold_cv",
            "response_ms",
            "response_cv",
            "response_is_hold",
            "routing",
            "utilisation",
        }
        assert s["queue"]["pods"] == s["replicas_for_capacity"] <= s["replicas"]


def _deployments(settings: Settings) -> dict[str, dict[str, Any]]:
    body = spec({"callbot": 10}, sla_target={"availability": "99.9%"})
    build = Workspace(settings).build(body, RenderOptions())
    return {o["metadata"]["name"]: o for o in build.objects if o["kind"] == "Deployment"}


def _spread(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return list(deployment["spec"]["template"]["spec"].get("topologySpreadConstraints", []))


def test_replicas_are_spread_across_nodes_as_a_requirement(workspace: Path) -> None:
    for name, d in _deployments(Settings(root=workspace)).items():
        constraints = _spread(d)
        assert [c["topologyKey"] for c in constraints] == ["kubernetes.io/hostname"], name
        assert all(c["whenUnsatisfiable"] == "DoNotSchedule" for c in constraints)


def test_replicas_are_spread_across_zones_when_the_cluster_names_them(workspace: Path) -> None:
    settings = Settings(root=workspace, cluster=ClusterCapacity(zones=("eu-a", "eu-b")))
    for d in _deployments(settings).values():
        keys = [c["topologyKey"] for c in _spread(d)]
        assert keys == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]


def test_the_command_line_skips_pydantics_plugin_discovery() -> None:
    """`ecp` uses no pydantic plugins: scanning every distribution's entry points for them cost
    every command ~20-40 ms (bench/bench_calc_cli.py)."""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    script = (
        "import compiler.cli, compiler.catalogue, pydantic.plugin._loader as loader; "
        "print(loader._plugins)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert run.stdout.strip() == "None"  # never loaded: no entry point was read

"""The `ecp` commands end to end: the installed console script in a subprocess, on a temp workspace.

Exit codes are the contract CI relies on: 0 ok, 1 findings or errors in what was checked,
2 bad usage.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ECP, EcpRunner, shipped_tenants

from compiler.spec.loader import load_spec_file

# The reference's calculate example at 300 ms: at its own 150 ms the callbot turn cannot be met
# (idle floor 214.6 ms at p95), which tests/test_cli_calc.py checks as a refusal.
REFERENCE_CALCULATE_BODY: dict[str, dict[str, Any]] = {
    "service_requirements": {"callbot": 100, "chatbot": 200, "advisor": 50},
    "sla_target": {"availability": "99.9%", "response_time": "300ms"},
}
REFERENCE_RESPONSE_KEYS = (
    "recommended_preset",
    "resources",
    "gpu_type",
    "estimated_cost",
    "alternatives",
)

BROKEN_MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
  namespace: demo
data:
  a: b
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicaz: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""

UNKNOWN_KIND = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gadget
  namespace: demo
spec:
  size: 3
"""


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- compile --------------------------------------------------------------------------------


def test_compile_json_is_valid_json_with_a_status_per_tenant(ecp: EcpRunner) -> None:
    run = ecp("compile", "--format", "json")
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["ok"] is True
    assert [t["tenant_id"] for t in report["tenants"]] == shipped_tenants()
    assert {t["status"] for t in report["tenants"]} == {"compiled"}
    assert report["counts"] == {"compiled": len(shipped_tenants())}
    summary = report["tenants"][0]["summary"]
    assert set(summary) >= {"preset", "totals", "estimated_cost"}


def test_compile_json_reports_a_failed_tenant_with_its_error_records(
    workspace: Path, ecp: EcpRunner
) -> None:
    (workspace / "tenants" / "bad.yaml").write_text(
        "tenant_id: bad\nname: x\nservice_requirements:\n  chatbot: -1\n", encoding="utf-8"
    )
    run = ecp("compile", "--format", "json")
    assert run.code == 1
    report = json.loads(run.stdout)
    assert report["ok"] is False
    bad = next(t for t in report["tenants"] if t["tenant_id"] == "bad")
    assert bad["status"] == "failed"
    assert bad["errors"] == [
        {
            "file": str(workspace / "tenants" / "bad.yaml"),
            "line": 4,
            "field": "service_requirements.chatbot",
            "message": "Input should be greater than or equal to 0",
            "code": "VALIDATION_ERROR",
        }
    ]
    others = [t["status"] for t in report["tenants"] if t["tenant_id"] != "bad"]
    assert others == ["compiled"] * len(shipped_tenants())


def test_compile_check_exits_zero_when_output_is_fresh(ecp: EcpRunner) -> None:
    assert ecp("compile").code == 0
    run = ecp("compile", "--check")
    assert run.code == 0, run.stderr
    assert "stale" not in run.stderr


def test_compile_check_exits_one_and_lists_the_tenant_after_a_spec_edit(
    workspace: Path, ecp: EcpRunner
) -> None:
    assert ecp("compile").code == 0
    before = _tree(workspace / "output")
    _edit(workspace / "tenants" / "shop-chat-lite.yaml", "chatbot: 40", "chatbot: 41")
    run = ecp("compile", "--check")
    assert run.code == 1
    assert "stale: shop-chat-lite " in run.stderr
    assert _tree(workspace / "output") == before, "--check must write nothing"


def test_compile_check_exits_one_after_output_is_edited_by_hand(
    workspace: Path, ecp: EcpRunner
) -> None:
    assert ecp("compile").code == 0
    manifest = workspace / "output" / "speech-gateway" / "manifest.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    run = ecp("compile", "--check", "--format", "json")
    assert run.code == 1
    statuses = {t["tenant_id"]: t["status"] for t in json.loads(run.stdout)["tenants"]}
    assert statuses.pop("speech-gateway") == "stale"
    assert set(statuses.values()) == {"up-to-date"}


def test_compile_check_exits_one_when_an_output_folder_has_no_spec(
    workspace: Path, ecp: EcpRunner
) -> None:
    assert ecp("compile").code == 0
    (workspace / "tenants" / "insight-analytics.yaml").unlink()
    run = ecp("compile", "--check")
    assert run.code == 1
    assert "stale: insight-analytics " in run.stderr
    assert (workspace / "output" / "insight-analytics" / "manifest.yaml").is_file()


# --- validate -------------------------------------------------------------------------------


def test_validate_a_broken_hand_written_manifest_exits_one_with_file_and_line(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_MANIFEST, encoding="utf-8")
    run = ecp("validate", str(path))
    assert run.code == 1
    # errors, warnings and the summary share stdout, so `> report.txt` keeps them all
    errors = [line for line in run.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 2, run.stdout
    assert run.stdout.splitlines()[-1].endswith(": 2 error(s), 3 warning(s)")
    # each error names the line of its field (a missing field: the line of its parent)
    assert f'{path}:15: error: doc 1 Deployment/web: spec.replicaz: unknown field "replicaz"' in (
        errors
    )
    assert (
        f'{path}:14: error: doc 1 Deployment/web: spec.selector: missing required field "selector"'
        in errors
    )
    assert "Traceback" not in run.stderr


def test_validate_json_marks_a_broken_manifest_invalid(tmp_path: Path, ecp: EcpRunner) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_MANIFEST, encoding="utf-8")
    run = ecp("validate", str(path), "--format", "json")
    assert run.code == 1
    report = json.loads(run.stdout)
    assert report["valid"] is False
    errors = [f for f in report["files"][0]["findings"] if f["severity"] == "error"]
    assert len(errors) == 2


def test_validate_the_compiled_output_folder_exits_zero(workspace: Path, ecp: EcpRunner) -> None:
    assert ecp("compile").code == 0
    run = ecp("validate", str(workspace / "output"))
    assert run.code == 0, run.stderr
    assert f"{len(shipped_tenants())} file(s)" in run.stdout
    assert " 0 error(s)" in run.stdout


def test_validate_an_unknown_custom_resource_kind_warns_but_passes(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    path = tmp_path / "widget.yaml"
    path.write_text(UNKNOWN_KIND, encoding="utf-8")
    run = ecp("validate", str(path))
    assert run.code == 0, run.stderr
    assert f"{path}:1: warning: doc 0 Widget/gadget: no schema for kind Widget" in run.stdout
    assert ": error: " not in run.stdout + run.stderr
    assert "0 error(s)" in run.stdout


# --- calc -----------------------------------------------------------------------------------


def test_calc_prints_the_references_response_keys(tmp_path: Path, ecp: EcpRunner) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps(REFERENCE_CALCULATE_BODY, indent=2), encoding="utf-8")
    run = ecp("calc", "-f", str(body), "--format", "json")
    assert run.code == 0, run.stderr
    response = json.loads(run.stdout)
    assert list(response)[: len(REFERENCE_RESPONSE_KEYS)] == list(REFERENCE_RESPONSE_KEYS)
    assert set(response["resources"]) == {"cpu", "memory", "gpu", "storage"}
    assert response["recommended_preset"] in ("micro", "small", "medium", "large")
    assert response["estimated_cost"].endswith("/month")
    for alternative in response["alternatives"]:
        assert set(alternative) >= {"preset", "resources", "cost", "performance_impact"}


def test_calc_reads_the_body_from_stdin(ecp: EcpRunner) -> None:
    run = ecp("calc", "-f", "-", "--format", "json", stdin=json.dumps(REFERENCE_CALCULATE_BODY))
    assert run.code == 0, run.stderr
    assert set(json.loads(run.stdout)) >= set(REFERENCE_RESPONSE_KEYS)


@pytest.mark.parametrize(
    "needle",
    [
        pytest.param(" Erlang; run ", id="offered-load"),
        pytest.param("P(wait) ", id="probability-of-waiting"),
        pytest.param("path callbot-turn p95: convolution of ", id="predicted-response-time"),
        pytest.param("availability: ", id="replicas-for-availability"),
        pytest.param(": fits", id="tier-check"),
        pytest.param("cost: CPU $", id="cost-lines"),
        pytest.param("alternative", id="alternative"),
    ],
)
def test_calc_explain_prints_every_sizing_step(needle: str, tmp_path: Path, ecp: EcpRunner) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps(REFERENCE_CALCULATE_BODY), encoding="utf-8")
    run = ecp("calc", "-f", str(body), "--explain")
    assert run.code == 0, run.stderr
    explanation = run.stdout.split("\n{", 1)[0]
    assert needle in explanation


def test_calc_explain_names_replicas_for_availability_per_service(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps(REFERENCE_CALCULATE_BODY), encoding="utf-8")
    run = ecp("calc", "-f", str(body), "--explain", "--format", "json")
    assert run.code == 0, run.stderr
    lines = json.loads(run.stdout)["explanation"]
    availability = [line for line in lines if line.strip().startswith("availability:")]
    assert len(availability) >= len(REFERENCE_CALCULATE_BODY["service_requirements"])
    assert all(" replicas, P(>= " in line for line in availability)


def test_calc_with_availability_101_percent_exits_one_naming_the_field(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    body = tmp_path / "request.json"
    body.write_text(
        '{\n  "service_requirements": {"chatbot": 5},\n'
        '  "sla_target": {\n    "availability": "101%"\n  }\n}\n',
        encoding="utf-8",
    )
    run = ecp("calc", "-f", str(body))
    assert run.code == 1
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {body}:4: sla_target.availability: ")
    assert "'101%'" in lines[0]
    assert "Traceback" not in run.stderr


def test_calc_text_is_a_summary_for_people(tmp_path: Path, ecp: EcpRunner) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps(REFERENCE_CALCULATE_BODY), encoding="utf-8")
    run = ecp("calc", "-f", str(body))
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("recommended preset: large (45000m CPU, 64Gi memory, 6 GPU")
    assert "SERVICE  RUN" in run.stdout and "PATH" in run.stdout
    assert "{" not in run.stdout


# --- new ------------------------------------------------------------------------------------


def test_new_creates_a_spec_that_compiles(workspace: Path, ecp: EcpRunner) -> None:
    run = ecp("new", "acme", "--service", "chatbot=5", "--service", "callbot=3")
    assert run.code == 0, run.stderr
    path = workspace / "tenants" / "acme.yaml"
    spec = load_spec_file(path)
    assert spec.service_requirements.enabled() == {"callbot": 3, "chatbot": 5}
    compiled = ecp("compile", "acme")
    assert compiled.code == 0, compiled.stderr
    assert (workspace / "output" / "acme" / "manifest.yaml").is_file()


def test_new_refuses_a_tenant_that_already_exists(workspace: Path, ecp: EcpRunner) -> None:
    path = workspace / "tenants" / "shop-chat-lite.yaml"
    before = path.read_bytes()
    run = ecp("new", "shop-chat-lite")
    assert run.code == 1
    assert "already exists" in run.stderr
    assert "TENANT_ALREADY_EXISTS" in run.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "tenant_id",
    [
        pytest.param("Bad_ID", id="upper-case-and-underscore"),
        pytest.param("a" * 57, id="too-long-for-the-namespace"),
        pytest.param("x.y", id="dot"),
    ],
)
def test_new_refuses_a_bad_tenant_id_and_writes_nothing(
    tenant_id: str, workspace: Path, ecp: EcpRunner
) -> None:
    before = sorted(p.name for p in (workspace / "tenants").iterdir())
    run = ecp("new", tenant_id)
    assert run.code == 1
    assert "tenant_id" in run.stderr
    assert "Traceback" not in run.stderr
    assert sorted(p.name for p in (workspace / "tenants").iterdir()) == before


def test_new_with_a_yaml_boolean_word_as_name_writes_a_spec_that_compiles(
    workspace: Path, ecp: EcpRunner
) -> None:
    assert ecp("new", "switch", "--name", "on").code == 0
    run = ecp("compile", "switch")
    assert run.code == 0, run.stderr


# --- usage and terminals --------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("compile", "--bogus"), id="unknown-option"),
        pytest.param(("compile", "--all", "shop-chat-lite"), id="compile-all-with-an-id"),
        pytest.param(("compile", "--format", "xml"), id="unknown-format"),
        pytest.param(("validate",), id="validate-without-a-path"),
        pytest.param(("validate", "does-not-exist.yaml"), id="validate-a-missing-path"),
        pytest.param(("calc",), id="calc-without-a-body"),
        pytest.param(("new", "acme", "--service", "voicebot=1"), id="new-with-an-unknown-service"),
        pytest.param(("frobnicate",), id="unknown-command"),
    ],
)
def test_bad_usage_exits_two_without_a_traceback(args: tuple[str, ...], ecp: EcpRunner) -> None:
    run = ecp(*args)
    assert run.code == 2, run.stderr
    assert "Error" in run.stderr
    assert "Traceback" not in run.stderr


def test_no_progress_bar_appears_when_stderr_is_not_a_terminal(ecp: EcpRunner) -> None:
    run = ecp("compile")
    assert run.code == 0
    assert "compiling" not in run.stderr
    assert "\r" not in run.stderr


def test_a_progress_bar_appears_when_stderr_is_a_terminal(workspace: Path) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [str(ECP), "--root", str(workspace), "compile"],
            stdout=subprocess.PIPE,
            stderr=follower,
            env={k: v for k, v in os.environ.items() if not k.startswith("ECP_")},
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    assert "compiling" in b"".join(chunks).decode("utf-8", "replace")


def test_new_sizes_the_spec_before_writing_it_and_refuses_a_preset_too_small(
    workspace: Path, ecp: EcpRunner
) -> None:
    run = ecp("new", "big-voice", "--preset", "small", "--service", "callbot=60",
              "--service", "stt=40")  # fmt: skip
    assert run.code == 1
    assert "preset small cannot hold the plan" in run.stderr
    assert not (workspace / "tenants" / "big-voice.yaml").exists()
    run = ecp("new", "big-voice", "--service", "callbot=60", "--service", "stt=40")
    assert run.code == 0, run.stderr
    assert "created tenants/big-voice.yaml (preset " in run.stdout
    assert ecp("compile", "big-voice").code == 0


def test_compile_counts_failed_tenants_apart_and_suggests_the_field_meant(
    workspace: Path, ecp: EcpRunner
) -> None:
    (workspace / "tenants" / "acme.yaml").write_text(
        "tenant_id: acme\nname: Acme\nservice_requirements:\n  callbott: 3\n", encoding="utf-8"
    )
    run = ecp("compile")
    assert run.code == 1
    assert (
        "error: tenants/acme.yaml:4: service_requirements.callbott: unknown field; "
        "did you mean 'callbot'?" in run.stderr
    )
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{len(shipped_tenants()) + 1} tenant(s) in ")
    assert last.endswith(f": {len(shipped_tenants())} compiled, 1 failed")


def test_diff_says_output_is_stale_for_edited_specs_not_yet_compiled(
    workspace: Path, ecp: EcpRunner
) -> None:
    assert ecp("compile").code == 0
    human = ["-c", "user.name=dev", "-c", "user.email=dev@example.com"]
    for args in (["init", "--quiet"], ["add", "-A"], [*human, "commit", "--quiet", "-m", "base"]):
        subprocess.run(["git", *args], cwd=workspace, check=True, capture_output=True)
    spec = workspace / "tenants" / "shop-chat-lite.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("chatbot: 40", "chatbot: 400"))
    run = ecp("diff", "--base", "HEAD")
    assert run.code == 0, run.stderr
    assert "0 changed" in run.stdout  # output/ itself did not move...
    assert "output/ is stale for shop-chat-lite" in run.stderr  # ...and the diff says why
    assert ecp("compile").code == 0
    run = ecp("diff", "--base", "HEAD")
    assert "stale" not in run.stderr
    assert "1 changed" in run.stdout


def test_version_loads_neither_pydantic_nor_a_command_module() -> None:
    """`ecp --version` is the shell alone: settings (pydantic) are imported when a command asks
    for them, command modules when that command runs (`--help` lists them all, so loads them)."""
    probe = (
        "import sys\n"
        "from compiler.cli import main\n"
        "sys.argv = ['ecp', sys.argv[1]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('pydantic', 'compiler.settings', 'compiler.cli.calc_cmd', "
        "'compiler.sizing') if m in sys.modules]\n"
        "print(','.join(loaded), file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, "--version"], capture_output=True, text=True, check=True
    )
    assert run.stdout.startswith("ecp, version")
    assert run.stderr.strip() == ""
    calc = subprocess.run(
        [sys.executable, "-c", probe.replace("sys.argv[1]]", "'calc', '--help']"), "x"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "compiler.cli.calc_cmd" in calc.stderr  # the probe sees a command module load

"""CI workflows and pre-commit hooks are code: they parse, and each `ecp` call they make exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from compiler.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 loaders read the bare key `on` as the boolean True.
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict)
    return value


def run_lines(workflow: dict[str, Any]) -> list[str]:
    lines = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            lines += [line.strip() for line in str(step.get("run", "")).splitlines()]
    return [line for line in lines if line]


def assert_ecp_call_exists(command_line: str) -> None:
    """`ecp <command> [--options]`: the command and each long option are in the real CLI."""
    words = shlex.split(command_line.split(">>")[0].split(">")[0])
    assert words[0] == "ecp"
    command = cli.commands.get(words[1])
    assert isinstance(command, click.Command), f"unknown command in {command_line!r}"
    known = {opt for p in command.params for opt in getattr(p, "opts", [])}
    for word in words[2:]:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"{word} is not an option of ecp {words[1]}"


def test_there_is_a_pull_request_workflow_and_a_publish_workflow() -> None:
    assert [p.name for p in WORKFLOWS] == ["publish.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_each_workflow_parses_with_jobs_that_have_a_runner_and_steps(path: Path) -> None:
    workflow = load(path)
    assert isinstance(workflow["name"], str)
    assert triggers(workflow)
    for job in workflow["jobs"].values():
        assert job["runs-on"]
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
    text = path.read_text(encoding="utf-8")
    assert text.count("${{") == text.count("}}")


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_ecp_call_in_a_workflow_names_a_real_command_and_options(path: Path) -> None:
    calls = [line for line in run_lines(load(path)) if line.startswith("ecp ")]
    assert calls
    for call in calls:
        assert_ecp_call_exists(call)


def test_the_pull_request_job_runs_on_spec_preset_and_compiler_changes() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "pull-request.yml")
    paths = triggers(workflow)["pull_request"]["paths"]
    assert {"tenants/**", "presets/**", "compiler/**"} <= set(paths)
    lines = run_lines(workflow)
    assert "ecp compile --check" in lines
    assert "ecp validate output/" in lines
    diff = next(line for line in lines if line.startswith("ecp diff"))
    assert "--format markdown" in diff
    assert diff.endswith('>> "$GITHUB_STEP_SUMMARY"')


def test_the_publish_job_runs_on_main_and_pushes() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "publish.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert any(re.match(r"ecp publish --push\b", line) for line in run_lines(workflow))
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_the_pre_commit_hooks_parse_and_call_real_commands() -> None:
    hooks = load(HOOKS)
    assert {hook["id"] for hook in hooks} == {"ecp-compile-check", "ecp-validate-output"}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= hook.keys()
        re.compile(hook["files"])
        assert_ecp_call_exists(hook["entry"])
    check = next(h for h in hooks if h["id"] == "ecp-compile-check")
    assert check["entry"] == "ecp compile --check"
    assert check["pass_filenames"] is False
